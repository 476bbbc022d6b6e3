import {
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { DEFAULT_TASK_QUEUE } from './temporal-config';
import { reviewWorkflowId } from './common/workflow-ids';
import type { reviewHit, ReviewHitInput } from './workflows';

export interface StartReviewOptions {
  /** Task queue of a worker running temporal-mturk (default "temporal-mturk"). */
  taskQueue?: string;
  /** Default reviewWorkflowId(hitId): one review of a HIT at a time. */
  workflowId?: string;
}

/**
 * Starts `reviewHit` for one HIT, or attaches to the review of that HIT already running.
 * A finished review may be started again: every decision it carries out has its own workflow
 * ID, so a second review reports what the first did instead of doing it again.
 */
export async function startReviewHit(
  client: Client,
  input: Omit<ReviewHitInput, 'carried'>,
  options: StartReviewOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof reviewHit>> {
  return client.workflow.start<typeof reviewHit>('reviewHit', {
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowId: options.workflowId ?? reviewWorkflowId(input.hitId),
    args: [input],
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  });
}
