/**
 * Workflow IDs of payments. One payment = one workflow ID, so Temporal's ID uniqueness is the
 * first guard against paying twice, and the MTurk token derived from it is the second.
 * Pure: usable from workflows, clients and the CLI.
 */
export function bonusWorkflowId(assignmentId: string, bonusKey?: string): string {
  return bonusKey ? `mturk-bonus/${assignmentId}/${bonusKey}` : `mturk-bonus/${assignmentId}`;
}

/** The workflow that approves one assignment for a review (no bonus). */
export function approvalWorkflowId(assignmentId: string): string {
  return `mturk-approve/${assignmentId}`;
}

/** The workflow that rejects one assignment: at most one rejection per assignment. */
export function rejectionWorkflowId(assignmentId: string): string {
  return `mturk-reject/${assignmentId}`;
}

/** A suggested ID for a review of one HIT (reviewHit does not require it). */
export function reviewWorkflowId(hitId: string): string {
  return `mturk-review/${hitId}`;
}
