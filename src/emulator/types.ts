/** Public types of the emulator's admin API. */
import type { FeeRounding } from './money';
import type { RateLimitConfig } from './rate-limit';

export type { FaultConfig, OperationFaults } from './faults';
export type { FeeRounding } from './money';
export type { BucketLimit, RateLimitConfig } from './rate-limit';

export type AssignmentStatus = 'Submitted' | 'Approved' | 'Rejected';

export interface SeedAssignment {
  /** Defaults to a generated MTurk-looking worker ID ("A" + 13 chars). */
  workerId?: string;
  /** Defaults to a generated 30-character ID. */
  assignmentId?: string;
  /** Defaults to "Submitted". */
  status?: AssignmentStatus;
  /** QuestionFormAnswers XML returned as Assignment.Answer. */
  answer?: string;
}

export interface SeedHit {
  /** An existing HIT ID adds the assignments to that HIT; a new one creates it. */
  hitId?: string;
  title?: string;
  description?: string;
  /** Dollar string, default "0.50". */
  reward?: string;
  maxAssignments?: number;
  assignments?: SeedAssignment[];
}

export interface SeedRequest {
  /** Dollar string; when given, sets the available balance. */
  balance?: string;
  hits?: SeedHit[];
}

export interface SeedResult {
  balance: string;
  hits: {
    hitId: string;
    assignments: { assignmentId: string; workerId: string; status: AssignmentStatus }[];
  }[];
}

export interface LedgerBonus {
  workerId: string;
  assignmentId: string;
  hitId: string;
  amount: string;
  fee: string;
  reason: string;
  token: string | null;
  requestId: string;
  time: string;
}

export interface LedgerAction {
  assignmentId: string;
  time: string;
  requestId: string | null;
  feedback?: string;
  /** Approval of a rejected assignment (OverrideRejection). */
  override?: boolean;
  /** Approved automatically because AutoApprovalTime passed. */
  auto?: boolean;
}

/** One NotifyWorkers call MTurk accepted. */
export interface LedgerNotification {
  subject: string;
  messageText: string;
  /** The workers the message went to. */
  workerIds: string[];
  /** The workers it did not reach, as answered in NotifyWorkersFailureStatuses. */
  failures: { workerId: string; code: string; message: string }[];
  requestId: string;
  time: string;
}

export interface FaultCounts {
  serviceFault: number;
  throttle: number;
  dropAfterCommit: number;
}

export interface Ledger {
  balance: string;
  onHoldBalance: string;
  /** The emulator's clock, ISO. */
  now: string;
  bonuses: LedgerBonus[];
  approvals: LedgerAction[];
  rejections: LedgerAction[];
  notifications: LedgerNotification[];
  /** Every MTurk API request received, per operation, including failed and faulted ones. */
  requests: Record<string, number>;
  faults: FaultCounts;
  /**
   * Requests refused by the rate limit (ThrottlingException, nothing done), per operation; they
   * are also counted in `requests`.
   */
  rateLimited: Record<string, number>;
  totals: { bonusCount: number; bonuses: string; fees: string };
}

/** The part of the configuration the state store applies. */
export interface StoreConfig {
  tokenTtlMs: number;
  consumeTokenOnFailure: boolean;
  feeRounding: FeeRounding;
  /**
   * ListBonusPayments shows a bonus only this long (emulator clock) after its grant: an
   * eventually consistent listing, which MTurk's documentation neither promises nor rules out.
   */
  listingLagMs: number;
  /** Store reasons normalised (Unicode NFC, whitespace runs as one space, trimmed). */
  normaliseReasons: boolean;
}

export interface RuntimeConfig extends StoreConfig {
  /** The account-wide request rate limit; null: none. */
  rateLimit: RateLimitConfig | null;
}
