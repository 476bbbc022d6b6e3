/**
 * Activities of the payBatch workflow. They look at other workflows, which workflow code cannot
 * do: what an existing payment workflow did (when a batch row's workflow ID is already taken),
 * and which running payments wait for funds (for the batch's progress counts).
 *
 * Built as a factory over an injected Temporal Client (the samples-typescript pattern): the
 * worker creates one client and shares it.
 */
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { ApproveAndBonusResult, PaymentState, PaymentStatus } from '../common/types';
import { describeFailure } from '../common/failures';

export interface BatchActivityDeps {
  /** A client of the namespace the payments run in. */
  client: Client;
}

export interface PaymentOutcomeInput {
  workflowId: string;
  /** How long to wait for a running payment before answering `running` (default 300). */
  waitSeconds?: number;
}

export type PaymentOutcome =
  | { kind: 'completed'; result: ApproveAndBonusResult }
  /** `status`: how it ended, in words ("failed", "terminated", "timed out", "canceled"). */
  | { kind: 'failed'; status: string; type?: string; message: string }
  /** Still running after the wait; `state` from its status query when it answered. */
  | { kind: 'running'; state?: PaymentState }
  | { kind: 'not-found' };

export interface PaymentStatesInput {
  workflowIds: string[];
}

const HEARTBEAT_EVERY_MS = 5_000;
const QUERY_DEADLINE_MS = 5_000;
const PARALLEL_QUERIES = 10;

export function createBatchActivities({ client }: BatchActivityDeps) {
  async function statusOf(handle: WorkflowHandle): Promise<PaymentState | undefined> {
    try {
      const status = await client.connection.withDeadline(Date.now() + QUERY_DEADLINE_MS, () =>
        handle.query<PaymentStatus>('status'),
      );
      return status.state;
    } catch {
      return undefined; // closed meanwhile, no worker, or too slow: only a display detail
    }
  }

  /** Waits for the workflow to close; false when `waitMs` passed first. Heartbeats meanwhile. */
  async function waitForClose(handle: WorkflowHandle, waitMs: number): Promise<boolean> {
    const context = Context.current();
    const abort = new AbortController();
    const onCancel = () => abort.abort();
    context.cancellationSignal.addEventListener('abort', onCancel);
    const timer = setTimeout(() => abort.abort(), waitMs);
    const heartbeat = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
    try {
      await client.connection.withAbortSignal(abort.signal, () => handle.result());
      return true;
    } catch (err) {
      if (err instanceof WorkflowFailedError) return true;
      if (context.cancellationSignal.aborted)
        throw new CancelledFailure('paymentOutcome cancelled');
      if (abort.signal.aborted) return false;
      throw err;
    } finally {
      clearTimeout(timer);
      clearInterval(heartbeat);
      context.cancellationSignal.removeEventListener('abort', onCancel);
    }
  }

  /**
   * What the payment workflow with this ID did (its latest run, following continue-as-new),
   * waiting up to `waitSeconds` for it to finish when it is still running.
   */
  async function paymentOutcome(input: PaymentOutcomeInput): Promise<PaymentOutcome> {
    const handle = client.workflow.getHandle(input.workflowId);
    let status: string;
    try {
      status = (await handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { kind: 'not-found' };
      throw err;
    }
    if (status === 'RUNNING') {
      const closed = await waitForClose(handle, (input.waitSeconds ?? 300) * 1000);
      if (!closed) return { kind: 'running', state: await statusOf(handle) };
      status = (await handle.describe()).status.name;
    }
    try {
      return { kind: 'completed', result: (await handle.result()) as ApproveAndBonusResult };
    } catch (err) {
      if (!(err instanceof WorkflowFailedError)) throw err;
      const failure = describeFailure(err.cause ?? err);
      return {
        kind: 'failed',
        status: status.toLowerCase().replace(/_/g, ' '),
        ...(failure.type !== undefined && { type: failure.type }),
        message: failure.message,
      };
    }
  }

  /** The current state of each payment (null when it did not answer), in input order. */
  async function paymentStates(input: PaymentStatesInput): Promise<(PaymentState | null)[]> {
    const states: (PaymentState | null)[] = new Array(input.workflowIds.length).fill(null);
    let nextIndex = 0;
    const askNext = async () => {
      while (nextIndex < input.workflowIds.length) {
        const index = nextIndex++;
        const handle = client.workflow.getHandle(input.workflowIds[index]!);
        states[index] = (await statusOf(handle)) ?? null;
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_QUERIES }, askNext));
    return states;
  }

  return { paymentOutcome, paymentStates };
}

export type BatchActivities = ReturnType<typeof createBatchActivities>;
