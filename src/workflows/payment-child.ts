import type { ChildWorkflowOptions } from '@temporalio/workflow';
import { MTurkAssignmentId, MTurkBonusState, MTurkWorkerId } from '../common/search-attributes';

/**
 * The search attributes an approveAndBonus child starts with, for payBatch and reviewHit alike:
 * findable by assignment and worker, and "started" until the payment upserts a state of its own
 * (bonus-state-search.ts). None unless the starter asked: they must be registered on the
 * namespace, or starting the child fails.
 */
export function paymentSearchAttributes(
  enabled: boolean | undefined,
  payment: { assignmentId: string; workerId: string },
): Pick<ChildWorkflowOptions, 'typedSearchAttributes'> {
  if (!enabled) return {};
  return {
    typedSearchAttributes: [
      { key: MTurkAssignmentId, value: payment.assignmentId },
      { key: MTurkWorkerId, value: payment.workerId },
      { key: MTurkBonusState, value: 'started' },
    ],
  };
}
