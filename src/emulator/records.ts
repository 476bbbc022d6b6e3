/**
 * Everything the emulator remembers (the MTurk account's HITs, assignments, balance, bonuses,
 * reviews, notifications, token memory, and the request counters), and which of it changed since
 * the last commit, so that the next journal line carries only that.
 * All money is integer cents. All times are epoch milliseconds of the emulator's clock.
 */
import { OPERATIONS } from './model';
import type { AssignmentStatus, FaultCounts } from './types';

export interface HitRec {
  id: string;
  typeId: string;
  groupId: string;
  title: string;
  description: string;
  question?: string;
  keywords?: string;
  annotation?: string;
  rewardCents: number;
  maxAssignments: number;
  autoApprovalDelayS: number;
  assignmentDurationS: number;
  creationTime: number;
  expiration: number;
  assignmentIds: string[];
}

export interface AsgRec {
  id: string;
  hitId: string;
  workerId: string;
  status: AssignmentStatus;
  acceptTime: number;
  submitTime: number;
  autoApprovalTime: number;
  deadline: number;
  approvalTime?: number;
  rejectionTime?: number;
  feedback?: string;
  answer: string;
}

export interface BonusRec {
  workerId: string;
  assignmentId: string;
  hitId: string;
  amountCents: number;
  feeCents: number;
  reason: string;
  token: string | null;
  requestId: string;
  time: number;
}

export interface ActionRec {
  assignmentId: string;
  time: number;
  requestId: string | null;
  feedback?: string;
  override?: boolean;
  auto?: boolean;
}

export interface NotificationRec {
  subject: string;
  messageText: string;
  workerIds: string[];
  failures: { workerId: string; code: string; message: string }[];
  requestId: string;
  time: number;
}

export interface TokenRec {
  requestId: string;
  time: number;
}

/** A count of 0 for every operation, so that the ledger lists the ones never called. */
export function zeroRequests(): Record<string, number> {
  const r: Record<string, number> = {};
  for (const op of Object.keys(OPERATIONS)) r[op] = 0;
  return r;
}

export class Records {
  balanceCents = 0;
  clockOffsetMs = 0;
  hits = new Map<string, HitRec>();
  assignments = new Map<string, AsgRec>();
  /** In grant order; only ever appended to (see addBonus). */
  bonuses: BonusRec[] = [];
  /** Indexes into `bonuses`, for ListBonusPayments. */
  bonusesByAssignment = new Map<string, number[]>();
  bonusesByHit = new Map<string, number[]>();
  approvals: ActionRec[] = [];
  rejections: ActionRec[] = [];
  notifications: NotificationRec[] = [];
  /** `<operation>:<UniqueRequestToken>` to its first use; insertion order is time order. */
  tokens = new Map<string, TokenRec>();
  requests = zeroRequests();
  faults: FaultCounts = { serviceFault: 0, throttle: 0, dropAfterCommit: 0 };
  /** Requests refused by the rate limit, per operation (also counted in `requests`). */
  rateLimited = zeroRequests();

  /** Anything changed since the last commit. */
  dirty = false;
  readonly changedHits = new Set<string>();
  readonly changedAssignments = new Set<string>();
  readonly changedTokens = new Set<string>();

  touchHit(id: string): void {
    this.changedHits.add(id);
    this.dirty = true;
  }

  touchAssignment(id: string): void {
    this.changedAssignments.add(id);
    this.dirty = true;
  }

  touchToken(key: string): void {
    this.changedTokens.add(key);
    this.dirty = true;
  }

  /** Everything so far is on disk (or there is no disk). */
  markCommitted(): void {
    this.changedHits.clear();
    this.changedAssignments.clear();
    this.changedTokens.clear();
    this.dirty = false;
  }

  addBonus(b: BonusRec): void {
    const idx = this.bonuses.push(b) - 1;
    const byA = this.bonusesByAssignment.get(b.assignmentId);
    if (byA) byA.push(idx);
    else this.bonusesByAssignment.set(b.assignmentId, [idx]);
    const byH = this.bonusesByHit.get(b.hitId);
    if (byH) byH.push(idx);
    else this.bonusesByHit.set(b.hitId, [idx]);
  }
}
