/**
 * Workflow IDs of payments. One payment = one workflow ID, so Temporal's ID uniqueness is the
 * first guard against paying twice, and the MTurk token derived from it is the second.
 * Pure: usable from workflows, clients and the CLI.
 */
export function bonusWorkflowId(assignmentId: string, bonusKey?: string): string {
  return bonusKey ? `mturk-bonus/${assignmentId}/${bonusKey}` : `mturk-bonus/${assignmentId}`;
}
