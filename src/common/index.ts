/**
 * `temporal-mturk/common`: the pure part of the package, safe in workflow code. Everything in
 * src/common/ imports only @temporalio/common, @noble/hashes, `ms` and itself (eslint enforces
 * it), so it loads inside Temporal's workflow sandbox. Use it from your own workflows to name
 * payments (bonusWorkflowId), validate input, build a payBatch input and branch on failure
 * types; the package root re-exports it.
 */
export {
  approvalWorkflowId,
  bonusWorkflowId,
  rejectionWorkflowId,
  reviewWorkflowId,
} from './workflow-ids';
export { MAX_TOKEN_GENERATION, bonusRequestToken } from './token';
export { reasonSentToMTurk } from './bonus-reason';
export {
  ALL_SEARCH_ATTRIBUTES,
  MTurkAssignmentId,
  MTurkBonusState,
  MTurkWorkerId,
} from './search-attributes';

// The JSON contract of approveAndBonus, approveAssignment and sendBonus.
export type {
  ApprovalStatus,
  ApproveAndBonusCarriedState,
  ApproveAndBonusInput,
  ApproveAndBonusResult,
  ApproveAndBonusWorkflowInput,
  ApproveAssignmentInput,
  ApproveAssignmentResult,
  BonusNotification,
  BonusStatus,
  ConfirmingState,
  FoundBy,
  MTurkTargetBinding,
  PaymentNotification,
  PaymentState,
  PaymentStatus,
  PayUnderNewTokenRequest,
  SendBonusInput,
  SendBonusResult,
} from './types';
export {
  checkApproveAndBonusOptions,
  type ActivityTuning,
  type ApproveAndBonusOptions,
  type AssignmentActionOptions,
} from './workflow-options';
export { durationMs, isPositiveDuration } from './durations';

// The JSON contract of reviewHit.
export type {
  AssignmentStatus,
  ListAssignmentsInput,
  ListAssignmentsResult,
  RejectAssignmentInput,
  RejectAssignmentResult,
  ReviewAction,
  ReviewAssignment,
  ReviewCounts,
  ReviewDecision,
  ReviewHitCarriedState,
  ReviewHitInput,
  ReviewHitResult,
  ReviewOutcome,
  ReviewProgress,
} from './review-types';

// The contract of payBatch: compact rows in, one outcome per row out.
export {
  DEFAULT_BATCH_CONCURRENCY,
  DEFAULT_PROGRESS_PAGE,
  MAX_BATCH_CONCURRENCY,
  MAX_BATCH_ROWS,
  MAX_PROGRESS_PAGE,
  batchResultRows,
  batchRowResult,
  batchRowWorkflowId,
  countRow,
  decodeBatchRow,
  emptyCounts,
  encodeBatchRows,
  packOutcomes,
  tokenGenerationOf,
  unpackOutcomes,
  type BatchCounts,
  type BatchProgress,
  type BatchProgressRequest,
  type BatchRowOutcome,
  type BatchRowResult,
  type BatchRowStatus,
  type BatchRowTuple,
  type BatchRows,
  type FinishedRowStatus,
  type FoundPaidBy,
  type PackedOutcomes,
  type PayBatchCarriedState,
  type PayBatchInput,
  type PayBatchResult,
} from './batch';

// Validation: the checks every entry point runs before anything reaches MTurk.
export {
  BONUS_KEY_MAX_LENGTH,
  DEFAULT_MAX_BONUS_CENTS,
  MTURK_ID_MAX_LENGTH,
  NOTIFY_MESSAGE_MAX_LENGTH,
  NOTIFY_SUBJECT_MAX_LENGTH,
  REASON_MAX_LENGTH,
  REQUESTER_FEEDBACK_MAX_LENGTH,
  UNIQUE_REQUEST_TOKEN_MAX_LENGTH,
  checkApproveAndBonusInput,
  checkApproveAssignmentInput,
  checkAssignmentId,
  checkBonusAmount,
  checkBonusKey,
  checkBonusNotification,
  checkBonusRow,
  checkHitId,
  checkPaymentReason,
  checkReason,
  checkRequesterFeedback,
  checkSendBonusInput,
  checkTargetBinding,
  checkUniqueRequestToken,
  checkWorkerId,
  validateApproveAndBonusInput,
  validateApproveAssignmentInput,
  validateSendBonusInput,
  type BonusAmountCheck,
  type CheckResult,
  type ValidatedApproveAndBonusInput,
  type ValidatedSendBonusInput,
  type ValidationLimits,
} from './validation';

// Money: decimal dollar strings in, integer cents inside.
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

// Failures: the types callers branch on, and one way to describe any failure.
export { FailureType, invalidBonusRequest, type ValidationIssue } from './errors';
export { describeFailure, type FailureDescription } from './failures';
export {
  bonusKeyOfReason,
  describeLedgerEntry,
  matchLedger,
  normaliseText,
  type LedgerEntry,
  type LedgerMatch,
  type ListedBonus,
  type WantedBonus,
} from './ledger-match';
