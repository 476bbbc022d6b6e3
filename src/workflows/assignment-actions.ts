/**
 * Approve or reject one assignment as a workflow of its own, so that a review's decision has a
 * workflow ID (approvalWorkflowId / rejectionWorkflowId): started at most once, visible in the
 * Web UI, and its result readable by a later review. The activities are idempotent themselves.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { createMTurkActivities, createReviewActivities } from '../activities';
import type { RejectAssignmentInput, RejectAssignmentResult } from '../common/review-types';
import type { ApproveAssignmentInput, ApproveAssignmentResult } from '../common/types';
import type { AssignmentActionOptions } from '../common/workflow-options';
import { mturkCallOptions } from './activity-options';

export type { AssignmentActionOptions };

type Activities = ReturnType<typeof createMTurkActivities> &
  ReturnType<typeof createReviewActivities>;

function activities(options: AssignmentActionOptions = {}) {
  return proxyActivities<Activities>(mturkCallOptions(options));
}

/** Approves one assignment (already approved is success). */
export async function approveAssignment(
  input: ApproveAssignmentInput & { options?: AssignmentActionOptions },
): Promise<ApproveAssignmentResult> {
  const { options, ...request } = input;
  return activities(options).approveAssignment(request);
}

/** Rejects one submitted assignment (already rejected is success; approved fails). */
export async function rejectAssignment(
  input: RejectAssignmentInput & { options?: AssignmentActionOptions },
): Promise<RejectAssignmentResult> {
  const { options, ...request } = input;
  return activities(options).rejectAssignment(request);
}
