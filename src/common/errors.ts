import { ApplicationFailure } from '@temporalio/common';

/**
 * Stable `ApplicationFailure.type` values. Callers (workflows, CLIs, other-language clients)
 * branch on these strings, so they are part of the public contract.
 */
export const FailureType = {
  /** Input failed validation; nothing was sent to MTurk. */
  InvalidBonusRequest: 'InvalidBonusRequest',
  /** The assignment does not exist (or is not yet submitted). */
  AssignmentNotFound: 'AssignmentNotFound',
  /** The assignment is in a state that cannot be approved (e.g. rejected, no override asked). */
  AssignmentNotApprovable: 'AssignmentNotApprovable',
  /** The assignment is in a state that cannot be rejected (approved, or not submitted). */
  AssignmentNotRejectable: 'AssignmentNotRejectable',
  /** A reviewHit input failed validation; nothing was listed or decided. */
  InvalidReviewRequest: 'InvalidReviewRequest',
  /** A reviewHit decision activity returned something that is not a valid decision. */
  InvalidReviewDecision: 'InvalidReviewDecision',
  /** The worker does not match the assignment. */
  WorkerMismatch: 'WorkerMismatch',
  /** The account balance does not cover bonus plus fee. */
  InsufficientFunds: 'InsufficientFunds',
  /** Any other MTurk RequestError: MTurk refused the request and retrying will not help. */
  MTurkRequestRejected: 'MTurkRequestRejected',
  /** Production target chosen without explicit confirmation. */
  ProductionNotConfirmed: 'ProductionNotConfirmed',
  /** A notifyWorkers input failed validation (subject, message, worker IDs); nothing was sent. */
  InvalidNotifyRequest: 'InvalidNotifyRequest',
  /** The MTurk target configuration (MTURK_TARGET, MTURK_ENDPOINT) is invalid. */
  InvalidMTurkConfig: 'InvalidMTurkConfig',
  /**
   * MTurk's ledger already lists another bonus in this payment's place (an unkeyed bonus of
   * another amount or reason for the assignment, or the same key with another amount or
   * reason), or an existing payment workflow asks something else; nothing was paid.
   */
  PaymentConflict: 'PaymentConflict',
  /** The payment was confirmed for another MTurk than the one this worker talks to. */
  TargetMismatch: 'TargetMismatch',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

export interface ValidationIssue {
  /** Field name, e.g. "bonusAmount". */
  field: string;
  message: string;
}

/** A non-retryable failure for input that must never reach MTurk. */
export function invalidBonusRequest(issues: ValidationIssue[]): ApplicationFailure {
  const summary = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  return ApplicationFailure.nonRetryable(
    `Invalid bonus request: ${summary}`,
    FailureType.InvalidBonusRequest,
    { issues },
  );
}
