/**
 * `temporal-mturk/common`: the pure part of the package, safe in workflow code (it imports only
 * @temporalio/common and @noble/hashes). Use it from your own workflows to name payments
 * (bonusWorkflowId), validate input and branch on failure types; the package root re-exports it.
 */
export {
  approvalWorkflowId,
  bonusWorkflowId,
  rejectionWorkflowId,
  reviewWorkflowId,
} from './workflow-ids';
export { bonusRequestToken } from './token';
export {
  ALL_SEARCH_ATTRIBUTES,
  MTurkAssignmentId,
  MTurkBonusState,
  MTurkWorkerId,
} from './search-attributes';
export type * from './types';
export type * from './review-types';
export * from './validation';
export {
  MAX_SAFE_CENTS,
  MoneyFormatError,
  bonusCostCents,
  formatCents,
  mturkFeeCents,
  parseDollarsToCents,
  tryParseDollarsToCents,
  type ParseCentsResult,
} from './money';
export { FailureType, invalidBonusRequest, type ValidationIssue } from './errors';
