/** HTTP front end: the AWS JSON 1.1 wire protocol of the MTurk Requester API, plus /_emulator/. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { handleAdmin, type AdminApi } from './admin';
import { ApiError, serializationError, serviceFault, throttling, unknownOperation } from './errors';
import type { FaultDecision, FaultInjector } from './faults';
import { newRequestId } from './ids';
import { OPERATIONS, validateInput, type Input } from './model';
import type { RateLimiter } from './rate-limit';
import type { Store } from './state';

export const TARGET_PREFIX = 'MTurkRequesterServiceV20170117.';
export const CONTENT_TYPE = 'application/x-amz-json-1.1';
export const MAX_API_BODY = 1024 * 1024;
const MAX_ADMIN_BODY = 64 * 1024 * 1024;

export interface ServerDeps {
  store: Store;
  faults: FaultInjector;
  limiter: RateLimiter;
  admin: AdminApi;
}

type BodyResult = { ok: true; body: Buffer } | { ok: false };

/** Read the whole body; past `limit` bytes keep draining (so the client can read our 400) but drop it. */
function readBody(req: IncomingMessage, limit: number, done: (r: BodyResult) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      tooLarge = true;
      chunks.length = 0;
    } else if (!tooLarge) {
      chunks.push(chunk);
    }
  });
  req.on('end', () =>
    done(tooLarge ? { ok: false } : { ok: true, body: Buffer.concat(chunks, size) }),
  );
  req.on('error', () => {
    // The socket went away; nothing to answer.
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  requestId: string,
  contentType: string,
  close = false,
): void {
  if (res.destroyed || res.headersSent) return;
  const json = JSON.stringify(body);
  const headers: Record<string, string | number> = {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(json),
    'x-amzn-RequestId': requestId,
  };
  if (close) headers.Connection = 'close';
  res.writeHead(status, headers);
  res.end(json);
}

export function createEmulatorServer(deps: ServerDeps): Server {
  const { store, faults, limiter } = deps;

  const handleApi = (req: IncomingMessage, res: ServerResponse, requestId: string): void => {
    const targetHeader = req.headers['x-amz-target'];
    const target = typeof targetHeader === 'string' ? targetHeader : '';
    const name = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const op = /^[A-Za-z][A-Za-z0-9]{0,63}$/.test(name) ? name : null;
    if (op) store.countRequest(op);

    const fail = (e: unknown, close = false): void => {
      try {
        store.commit();
      } catch {
        // The error being reported matters more.
      }
      if (e instanceof ApiError) {
        send(res, e.status, e.body(), requestId, CONTENT_TYPE, close);
      } else {
        const message = e instanceof Error ? e.message : 'internal error';
        send(res, 500, { __type: 'InternalFailure', message }, requestId, CONTENT_TYPE);
      }
    };

    // Runs even if the client has gone away meanwhile: a real server does not notice either.
    const run = (operation: string, input: Input, decision: FaultDecision | null): void => {
      if (!server.listening) {
        req.socket.destroy(); // stopped while this request was delayed
        return;
      }
      if (decision?.before === 'serviceFault') {
        store.countFault('serviceFault');
        return fail(serviceFault());
      }
      if (decision?.before === 'throttle') {
        store.countFault('throttle');
        return fail(throttling());
      }
      let result: unknown;
      let error: unknown;
      try {
        result = store.execute(operation, validateInput(operation, input), requestId);
      } catch (e) {
        error = e;
      }
      if (decision?.drop) store.countFault('dropAfterCommit');
      try {
        store.commit(); // durable before any response bytes, even for a dropped response
      } catch (e) {
        error = new Error(`state file write failed: ${(e as Error).message}`);
      }
      if (decision?.drop) {
        req.socket.destroy();
        return;
      }
      if (error !== undefined) return fail(error);
      send(res, 200, result ?? {}, requestId, CONTENT_TYPE);
    };

    readBody(req, MAX_API_BODY, (r) => {
      try {
        if (!r.ok) {
          throw serializationError(`Request body must not exceed ${MAX_API_BODY} bytes.`);
        }
        if (!op || !Object.prototype.hasOwnProperty.call(OPERATIONS, op)) {
          throw unknownOperation(
            target ? `Operation ${target} is not supported.` : 'Missing X-Amz-Target header.',
          );
        }
        // Over the account's rate: refused at the door, as the injected throttle answers, before
        // the body is looked at, the faults drawn or the state touched.
        if (!limiter.admit(op)) {
          store.countRateLimited(op);
          throw throttling();
        }
        const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (ct !== CONTENT_TYPE) {
          throw serializationError(
            `Unsupported Content-Type ${JSON.stringify(ct)}; expected ${CONTENT_TYPE}.`,
          );
        }
        let input: unknown = {};
        const text = r.body.toString('utf8');
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
        const decision = faults.active ? faults.decide(op) : null;
        if (decision && decision.latencyMs > 0) {
          setTimeout(() => run(op, input as Input, decision), decision.latencyMs);
        } else {
          run(op, input as Input, decision);
        }
      } catch (e) {
        fail(e, !r.ok);
      }
    });
  };

  const server = createServer((req, res) => {
    const requestId = newRequestId();
    const url = req.url ?? '/';
    if (url.startsWith('/_emulator/') || url === '/_emulator') {
      readBody(req, MAX_ADMIN_BODY, (r) => {
        const out = r.ok
          ? handleAdmin(deps.admin, req.method ?? 'GET', url, r.body)
          : {
              status: 400,
              body: { error: `admin request body must not exceed ${MAX_ADMIN_BODY} bytes` },
            };
        send(res, out.status, out.body, requestId, 'application/json', !r.ok);
      });
      return;
    }
    if (req.method !== 'POST') {
      req.resume();
      send(
        res,
        404,
        { __type: 'UnknownOperationException', message: 'The MTurk API accepts POST / only.' },
        requestId,
        CONTENT_TYPE,
      );
      return;
    }
    handleApi(req, res, requestId);
  });
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  return server;
}
