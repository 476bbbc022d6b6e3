/**
 * Activities of the payBatch workflow. They look at other workflows, which workflow code cannot
 * do: what an existing payment workflow did (when a batch row's workflow ID is already taken),
 * and which running payments wait for funds (for the batch's progress counts).
 *
 * Built as a factory over an injected Temporal Client (the samples-typescript pattern): the
 * worker creates one client and shares it.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { ApproveAndBonusResult, PaymentState, PaymentStatus } from '../common/types';
import { awaitWorkflowOutcome, type WorkflowOutcomeInput } from './workflow-outcome';
import { queryWithin } from '../query-within';

export interface BatchActivityDeps {
  /** A client of the namespace the payments run in. */
  client: Client;
}

export type PaymentOutcomeInput = WorkflowOutcomeInput;

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

const QUERY_DEADLINE_MS = 5_000;
const PARALLEL_QUERIES = 10;

export function createBatchActivities({ client }: BatchActivityDeps) {
  async function statusOf(handle: WorkflowHandle): Promise<PaymentState | undefined> {
    try {
      const status = await queryWithin<PaymentStatus>(client, handle, QUERY_DEADLINE_MS, 'status');
      return status.state;
    } catch {
      return undefined; // closed meanwhile, no worker, or too slow: only a display detail
    }
  }

  /**
   * What the payment workflow with this ID did (awaitWorkflowOutcome, as reviewHit's
   * workflowOutcome), in a batch row's words: its result, how it ended ("failed", "timed out"),
   * or its state when still running after `waitSeconds`.
   */
  async function paymentOutcome(input: PaymentOutcomeInput): Promise<PaymentOutcome> {
    const outcome = await awaitWorkflowOutcome(client, input);
    switch (outcome.kind) {
      case 'completed':
        return { kind: 'completed', result: outcome.result as ApproveAndBonusResult };
      case 'failed':
        return { ...outcome, status: outcome.status.toLowerCase().replace(/_/g, ' ') };
      case 'running':
        return {
          kind: 'running',
          state: await statusOf(client.workflow.getHandle(input.workflowId)),
        };
      case 'not-found':
        return outcome;
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
