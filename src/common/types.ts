/**
 * The public JSON contract of temporal-mturk: activity and workflow inputs and results.
 * Pure types only, so workflows, activities, clients in other languages and docs agree.
 * Money crosses every boundary as a decimal dollar string ("1.20"), never as a float.
 */
import type { ApproveAndBonusOptions } from './workflow-options';

/**
 * The MTurk a payment was previewed and confirmed for. A worker whose own MTurk differs refuses
 * the payment (TargetMismatch) before any call, so money goes only where it was confirmed to go.
 */
export interface MTurkTargetBinding {
  name: 'local' | 'sandbox' | 'production';
  /** The endpoint URL, e.g. "https://mturk-requester.us-east-1.amazonaws.com". */
  endpoint: string;
}

export interface ApproveAssignmentInput {
  assignmentId: string;
  /** Shown to the worker. */
  requesterFeedback?: string;
  /** Approve an assignment that was rejected (MTurk allows this within 30 days of submission). */
  overrideRejection?: boolean;
  /** When set, the worker refuses unless it talks to this MTurk. */
  target?: MTurkTargetBinding;
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
  /** Shown to the worker: the reason exactly as sent (a keyed bonus's carries its key marker). */
  reason: string;
  /** MTurk UniqueRequestToken, 1-64 chars; derived by the workflow from its workflow ID. */
  uniqueRequestToken: string;
  /**
   * Set by the workflow when this run already sent a SendBonus for this payment (its answer may
   * have been lost): a payment then found on the ledger is reported as found after our own
   * attempt. The ledger is looked up before every SendBonus whatever this says.
   */
  priorPaymentPossible?: boolean;
  /** The payment's bonus key; a keyed payment is recognised on the ledger by its key marker. */
  bonusKey?: string;
  /** When set, the worker refuses unless it talks to this MTurk. */
  target?: MTurkTargetBinding;
}

export type BonusStatus = 'paid' | 'already-paid' | 'token-used-unconfirmed';

/** How an already-paid bonus was recognised. */
export type FoundBy = 'listing' | 'token';

export interface SendBonusResult {
  /**
   * `paid`: this call paid. `already-paid`: the bonus exists on MTurk's ledger (`foundBy`
   * says how it was confirmed) and nothing was paid again. `token-used-unconfirmed`: MTurk
   * says the token was used but the listing does not show the bonus yet; the workflow keeps
   * checking and never pays under a new token by itself.
   */
  status: BonusStatus;
  /** Normalised dollar string, e.g. "1.20". */
  amount: string;
  token: string;
  /** MTurk request ID: the only receipt MTurk gives for a bonus. */
  requestId?: string;
  /**
   * For `already-paid`: `listing` when ListBonusPayments showed it before this call paid
   * anything, `token` when MTurk refused the token as used and the listing then showed it.
   */
  foundBy?: FoundBy;
  /**
   * For `already-paid` (and `token-used-unconfirmed`): true when this workflow run had sent a
   * SendBonus for the payment before it was found, i.e. most likely this run paid it and the
   * answer was lost.
   */
  foundAfterOwnAttempt?: boolean;
  /** For `already-paid`: MTurk's grant time of the listed bonus (ISO), when listed. */
  grantTime?: string;
  /** For `token-used-unconfirmed`: the request ID MTurk's refusal names (the original call). */
  originalRequestId?: string;
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
  /**
   * The MTurk this payment was confirmed for: a worker talking to another MTurk refuses it
   * (TargetMismatch) before any call. The `pay` command always sets it.
   */
  target?: MTurkTargetBinding;
  /**
   * After this run pays, tell the worker with one NotifyWorkers message, at most once, never
   * blocking or failing the payment (see PaymentNotification).
   */
  notify?: BonusNotification;
}

/** A message to the worker about the bonus. */
export interface BonusNotification {
  /** 1-200 characters. */
  subject: string;
  /**
   * 1-4096 characters; default: "You received a bonus of $<amount> for assignment
   * <assignmentId>: <reason>".
   */
  message?: string;
}

/**
 * What became of the notification. `sent`: MTurk accepted it. `failed`: MTurk refused it for
 * this worker (`failure`), or the call failed; it is not retried, so it is sent at most once.
 * `skipped`: the payment was found already paid (an earlier run's to tell).
 */
export interface PaymentNotification {
  status: 'sent' | 'failed' | 'skipped';
  failure?: string;
}

/**
 * `unconfirmed`: MTurk says the token was used, but its listing has not shown the bonus for the
 * whole confirmation window. Neither paid nor failed: it waits until the listing shows it, or
 * until an operator sends `payUnderNewToken` (which risks a second payment).
 */
export type PaymentState =
  'approving' | 'paying' | 'waiting-for-funds' | 'unconfirmed' | 'paid' | 'failed';

export interface ApproveAndBonusResult {
  assignmentId: string;
  workerId: string;
  approval?: ApproveAssignmentResult;
  bonus: SendBonusResult;
  /** The Reason sent to MTurk (absent in results of older versions). */
  reason?: string;
  /** The MTurk the payment was bound to, when it was. */
  target?: MTurkTargetBinding;
  /** When `notify` was asked. */
  notification?: PaymentNotification;
}

export interface PaymentStatus {
  state: PaymentState;
  assignmentId: string;
  workerId: string;
  amount: string;
  token?: string;
  tokenGeneration: number;
  /**
   * The generation a new run of this workflow ID should start from: the current one, or the
   * next when MTurk refused the current token's call in a way that means nothing was paid.
   */
  nextRunTokenGeneration?: number;
  /** The Reason sent to MTurk. */
  reason?: string;
  /** While `unconfirmed`: the request ID MTurk named as the token's original call. */
  originalRequestId?: string;
  approval?: ApproveAssignmentResult;
  bonus?: SendBonusResult;
  lastError?: { type?: string; message: string };
}

// The workflow input as the sandbox sees it: the request, its tuning and what a run carries.

export type ApproveAndBonusWorkflowInput = ApproveAndBonusInput & {
  options?: ApproveAndBonusOptions;
  /** @internal carried across continue-as-new */
  carried?: ApproveAndBonusCarriedState;
};

/** State carried across continue-as-new; not for callers. */
export interface ApproveAndBonusCarriedState {
  tokenGeneration: number;
  approval?: ApproveAssignmentResult;
  /** True once any SendBonus may have reached MTurk. */
  bonusAttempted: boolean;
  /** The Reason sent to MTurk (absent when carried by a version that did not record it). */
  mturkReason?: string;
  /** Reasons an earlier version may have sent instead (matched too, kept across runs). */
  otherReasons?: string[];
  /** MTurk refused the current token's call in a way that means nothing was paid. */
  tokenRefused?: boolean;
  /** Set while MTurk says the token was used and the listing does not show the bonus. */
  confirming?: ConfirmingState;
}

/** A used token whose bonus the listing has not shown yet. */
export interface ConfirmingState {
  /** Workflow time (epoch ms) of the duplicate-token answer. */
  since: number;
  originalRequestId?: string;
  /** This run had sent a SendBonus before (the bonus is most likely its own). */
  afterOwnAttempt: boolean;
  /** The confirmation window passed: waiting for the listing or an operator. */
  unconfirmed: boolean;
}

/** What an operator says with payUnderNewToken (kept in the workflow's history). */
export interface PayUnderNewTokenRequest {
  /** Who decided, and why: e.g. "alice: MTurk support confirmed no bonus was granted". */
  note?: string;
}
