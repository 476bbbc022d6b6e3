/**
 * The one way our activities wait for another workflow's outcome (workflow code cannot look at
 * other workflows): reviewHit's `workflowOutcome` and payBatch's `paymentOutcome` both call it.
 */
import { Context } from '@temporalio/activity';
import { WorkflowFailedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { describeFailure } from '../common/failures';

export interface WorkflowOutcomeInput {
  workflowId: string;
  /** How long to wait for a running workflow before answering `running` (default 300). */
  waitSeconds?: number;
}

export type WorkflowOutcome =
  | { kind: 'completed'; result: unknown }
  /** `status`: how it ended, e.g. "FAILED", "TERMINATED", "TIMED_OUT", "CANCELLED". */
  | { kind: 'failed'; status: string; type?: string; message: string }
  | { kind: 'running' }
  | { kind: 'not-found' };

const HEARTBEAT_EVERY_MS = 5_000;
const FIRST_POLL_MS = 250;
const MAX_POLL_MS = 5_000;

/**
 * What the workflow with this ID did (its latest run, following continue-as-new), waiting up
 * to `waitSeconds` while it runs. Polls with describe (a plain request) rather than a
 * long-poll, so it works over the worker's own NativeConnection client and stops promptly
 * when cancelled. Call it from inside an activity: it heartbeats and sleeps on its Context.
 */
export async function awaitWorkflowOutcome(
  temporal: Client,
  input: WorkflowOutcomeInput,
): Promise<WorkflowOutcome> {
  const context = Context.current();
  const handle = temporal.workflow.getHandle(input.workflowId);
  const deadline = Date.now() + (input.waitSeconds ?? 300) * 1000;
  let pollMs = FIRST_POLL_MS;
  let lastBeat = Date.now();
  let status: string;
  for (;;) {
    try {
      status = (await handle.describe()).status.name;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { kind: 'not-found' };
      throw err;
    }
    if (status !== 'RUNNING') break;
    if (Date.now() >= deadline) return { kind: 'running' };
    if (Date.now() - lastBeat >= HEARTBEAT_EVERY_MS) {
      context.heartbeat();
      lastBeat = Date.now();
    }
    await context.sleep(pollMs); // throws when the activity is cancelled
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
  }
  try {
    return { kind: 'completed', result: await handle.result() };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    return { kind: 'failed', status, ...describeFailure(err.cause ?? err) };
  }
}
