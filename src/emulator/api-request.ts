/** One MTurk API request (AWS JSON 1.1): from its X-Amz-Target to the response, or a dropped socket. */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ApiError, serializationError, serviceFault, throttling, unknownOperation } from './errors';
import type { FaultDecision, FaultInjector } from './faults';
import { readBody, send } from './http-json';
import { OPERATIONS, validateInput, type Input } from './model';
import type { RateLimiter } from './rate-limit';
import type { Store } from './state';

export const TARGET_PREFIX = 'MTurkRequesterServiceV20170117.';
export const CONTENT_TYPE = 'application/x-amz-json-1.1';
export const MAX_API_BODY = 1024 * 1024;

export interface ApiDeps {
  store: Store;
  faults: FaultInjector;
  limiter: RateLimiter;
}

type InjectedFault = NonNullable<FaultDecision['before']>;

function targetOf(req: IncomingMessage): string {
  const header = req.headers['x-amz-target'];
  return typeof header === 'string' ? header : '';
}

/** The operation the target names, if it is a plausible name (worth a request counter). */
function operationNameOf(target: string): string | null {
  const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  return /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name) ? name : null;
}

function parseInput(body: Buffer): Input {
  let input: unknown = {};
  const text = body.toString('utf8');
  if (text.trim() !== '') {
    try {
      input = JSON.parse(text);
    } catch {
      throw serializationError('The request body is not valid JSON.');
    }
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw serializationError('The request body must be a JSON object.');
  }
  return input as Input;
}

export class ApiRequest {
  private readonly target: string;
  private readonly op: string | null;

  constructor(
    private readonly deps: ApiDeps,
    private readonly server: Server,
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly requestId: string,
  ) {
    this.target = targetOf(req);
    this.op = operationNameOf(this.target);
  }

  handle(): void {
    if (this.op) this.deps.store.countRequest(this.op);
    readBody(this.req, MAX_API_BODY, (r) => {
      try {
        if (!r.ok) {
          throw serializationError(`Request body must not exceed ${MAX_API_BODY} bytes.`);
        }
        const op = this.supportedOperation();
        this.admitWithinRate(op);
        this.checkContentType();
        this.schedule(op, parseInput(r.body));
      } catch (e) {
        this.fail(e, !r.ok);
      }
    });
  }

  private supportedOperation(): string {
    const op = this.op;
    if (!op || !Object.prototype.hasOwnProperty.call(OPERATIONS, op)) {
      throw unknownOperation(
        this.target ? `Operation ${this.target} is not supported.` : 'Missing X-Amz-Target header.',
      );
    }
    return op;
  }

  /**
   * Over the account's rate: refused at the door, as the injected throttle answers, before the
   * body is looked at, the faults drawn or the state touched.
   */
  private admitWithinRate(op: string): void {
    if (this.deps.limiter.admit(op)) return;
    this.deps.store.countRateLimited(op);
    throw throttling();
  }

  private checkContentType(): void {
    const ct = (this.req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct !== CONTENT_TYPE) {
      throw serializationError(
        `Unsupported Content-Type ${JSON.stringify(ct)}; expected ${CONTENT_TYPE}.`,
      );
    }
  }

  private schedule(op: string, input: Input): void {
    const { faults } = this.deps;
    const decision = faults.active ? faults.decide(op) : null;
    if (decision && decision.latencyMs > 0) {
      setTimeout(() => this.run(op, input, decision), decision.latencyMs);
    } else {
      this.run(op, input, decision);
    }
  }

  // Runs even if the client has gone away meanwhile: a real server does not notice either.
  private run(op: string, input: Input, decision: FaultDecision | null): void {
    if (!this.server.listening) {
      this.req.socket.destroy(); // stopped while this request was delayed
      return;
    }
    if (decision?.before) return this.fail(this.injectedFault(decision.before));
    const drop = decision?.drop ?? false;
    const { result, error } = this.executeAndCommit(op, input, drop);
    if (drop) {
      this.req.socket.destroy();
      return;
    }
    if (error !== undefined) return this.fail(error);
    send(this.res, 200, result ?? {}, this.requestId, CONTENT_TYPE);
  }

  private injectedFault(fault: InjectedFault): ApiError {
    this.deps.store.countFault(fault);
    return fault === 'serviceFault' ? serviceFault() : throttling();
  }

  private executeAndCommit(
    op: string,
    input: Input,
    drop: boolean,
  ): { result: unknown; error: unknown } {
    const { store } = this.deps;
    let result: unknown;
    let error: unknown;
    try {
      result = store.execute(op, validateInput(op, input), this.requestId);
    } catch (e) {
      error = e;
    }
    if (drop) store.countFault('dropAfterCommit');
    try {
      store.commit(); // durable before any response bytes, even for a dropped response
    } catch (e) {
      error = new Error(`state file write failed: ${(e as Error).message}`);
    }
    return { result, error };
  }

  private fail(e: unknown, close = false): void {
    try {
      this.deps.store.commit();
    } catch {
      // The error being reported matters more.
    }
    if (e instanceof ApiError) {
      send(this.res, e.status, e.body(), this.requestId, CONTENT_TYPE, close);
    } else {
      const message = e instanceof Error ? e.message : 'internal error';
      send(this.res, 500, { __type: 'InternalFailure', message }, this.requestId, CONTENT_TYPE);
    }
  }
}
