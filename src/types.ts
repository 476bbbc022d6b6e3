/**
 * The public JSON contract of temporal-mturk: activity and workflow inputs and results.
 * Pure types only, so workflows, activities, clients in other languages and docs agree.
 * Money crosses every boundary as a decimal dollar string ("1.20"), never as a float.
 */

export interface ApproveAssignmentInput {
  assignmentId: string;
  /** Shown to the worker. */
  requesterFeedback?: string;
  /** Approve an assignment that was rejected (MTurk allows this within 30 days of submission). */
  overrideRejection?: boolean;
}

export type ApprovalStatus = 'approved' | 'already-approved';

export interface ApproveAssignmentResult {
  status: ApprovalStatus;
  assignmentId: string;
  /** MTurk's request ID of the ApproveAssignment call (absent when nothing had to be done). */
  requestId?: string;
}

export interface SendBonusInput {
  workerId: string;
  assignmentId: string;
  /** Dollars as a decimal string, at most two decimals: "1.20". */
  bonusAmount: string;
  /** Shown to the worker. */
  reason: string;
  /** MTurk UniqueRequestToken, 1-64 chars; derived by the workflow from its workflow ID. */
  uniqueRequestToken: string;
  /**
   * Set by the workflow when an earlier call with another token, or one older than MTurk's
   * 24-hour token memory, may have paid: the activity then looks the payment up first.
   */
  priorPaymentPossible?: boolean;
}

export type BonusStatus = 'paid' | 'already-paid' | 'token-used-unconfirmed';

export interface SendBonusResult {
  /**
   * `paid`: this call paid. `already-paid`: an earlier call paid (found in ListBonusPayments).
   * `token-used-unconfirmed`: MTurk says the token was used but no matching payment is listed;
   * the workflow decides what to do (it moves to the next token generation).
   */
  status: BonusStatus;
  /** Normalised dollar string, e.g. "1.20". */
  amount: string;
  token: string;
  /** MTurk request ID: the only receipt MTurk gives for a bonus. */
  requestId?: string;
}

export interface ApproveAndBonusInput {
  assignmentId: string;
  workerId: string;
  bonusAmount: string;
  reason: string;
  requesterFeedback?: string;
  overrideRejection?: boolean;
  /** Distinguishes several bonuses for the same assignment; part of the workflow ID and token. */
  bonusKey?: string;
  /** Skip approval (the assignment is approved elsewhere); default false. */
  skipApproval?: boolean;
}

export type PaymentState = 'approving' | 'paying' | 'waiting-for-funds' | 'paid' | 'failed';

export interface ApproveAndBonusResult {
  assignmentId: string;
  workerId: string;
  approval?: ApproveAssignmentResult;
  bonus: SendBonusResult;
}

export interface PaymentStatus {
  state: PaymentState;
  assignmentId: string;
  workerId: string;
  amount: string;
  token?: string;
  tokenGeneration: number;
  approval?: ApproveAssignmentResult;
  bonus?: SendBonusResult;
  lastError?: { type?: string; message: string };
}
