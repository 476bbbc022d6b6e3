/**
 * What the state file holds (see persist.ts for how it is written): a full snapshot of the
 * records, then one journal line per commit with only what that commit changed.
 */
import type { Loaded } from './persist';
import {
  Records,
  zeroRequests,
  type ActionRec,
  type AsgRec,
  type BonusRec,
  type HitRec,
  type NotificationRec,
  type TokenRec,
} from './records';
import type { FaultCounts } from './types';

export const STATE_VERSION = 2;

export interface Snapshot {
  version: number;
  generation: number;
  balanceCents: number;
  clockOffsetMs: number;
  hits: HitRec[];
  assignments: AsgRec[];
  bonuses: BonusRec[];
  approvals: ActionRec[];
  rejections: ActionRec[];
  /** Absent in state files written before NotifyWorkers existed. */
  notifications?: NotificationRec[];
  tokens: [string, TokenRec][];
  requests: Record<string, number>;
  faults: FaultCounts;
  /** Absent in files written before the rate limit existed. */
  rateLimited?: Record<string, number>;
}

/** One journal line: what changed in one commit. Replaying a line twice is harmless. */
export interface JournalLine {
  g: number;
  balanceCents: number;
  clockOffsetMs: number;
  requests: Record<string, number>;
  faults: FaultCounts;
  rateLimited?: Record<string, number>;
  hits?: HitRec[];
  assignments?: AsgRec[];
  bonuses?: { from: number; items: BonusRec[] };
  approvals?: { from: number; items: ActionRec[] };
  rejections?: { from: number; items: ActionRec[] };
  notifications?: { from: number; items: NotificationRec[] };
  /** Token set (record) or forgotten (null). */
  tokens?: [string, TokenRec | null][];
}

/** Lengths of the append-only lists: a journal line carries what was appended after them. */
export interface ListLengths {
  bonuses: number;
  approvals: number;
  rejections: number;
  notifications: number;
}

export function listLengths(r: Records): ListLengths {
  return {
    bonuses: r.bonuses.length,
    approvals: r.approvals.length,
    rejections: r.rejections.length,
    notifications: r.notifications.length,
  };
}

export function snapshotOf(r: Records, generation: number): Snapshot {
  return {
    version: STATE_VERSION,
    generation,
    balanceCents: r.balanceCents,
    clockOffsetMs: r.clockOffsetMs,
    hits: [...r.hits.values()],
    assignments: [...r.assignments.values()],
    bonuses: r.bonuses,
    approvals: r.approvals,
    rejections: r.rejections,
    notifications: r.notifications,
    tokens: [...r.tokens.entries()],
    requests: r.requests,
    faults: r.faults,
    rateLimited: r.rateLimited,
  };
}

/** What changed since the last commit, whose list lengths were `committed`. */
export function journalLineOf(r: Records, generation: number, committed: ListLengths): JournalLine {
  const line: JournalLine = {
    g: generation,
    balanceCents: r.balanceCents,
    clockOffsetMs: r.clockOffsetMs,
    requests: r.requests,
    faults: r.faults,
    rateLimited: r.rateLimited,
  };
  const pick = <T>(ids: Set<string>, m: Map<string, T>) =>
    [...ids].map((id) => m.get(id)).filter((x): x is T => x !== undefined);
  if (r.changedHits.size) line.hits = pick(r.changedHits, r.hits);
  if (r.changedAssignments.size) line.assignments = pick(r.changedAssignments, r.assignments);
  const since = <T>(arr: T[], from: number) =>
    arr.length > from ? { from, items: arr.slice(from) } : undefined;
  line.bonuses = since(r.bonuses, committed.bonuses);
  line.approvals = since(r.approvals, committed.approvals);
  line.rejections = since(r.rejections, committed.rejections);
  line.notifications = since(r.notifications, committed.notifications);
  if (r.changedTokens.size) {
    line.tokens = [...r.changedTokens].map((k) => [k, r.tokens.get(k) ?? null]);
  }
  return line;
}

/** The records a snapshot and the journal lines written after it describe. */
export function restoreRecords({ snapshot: s, lines }: Loaded<Snapshot, JournalLine>): Records {
  const r = new Records();
  r.balanceCents = s.balanceCents;
  r.clockOffsetMs = s.clockOffsetMs;
  r.hits = new Map(s.hits.map((h) => [h.id, h]));
  r.assignments = new Map(s.assignments.map((a) => [a.id, a]));
  r.approvals = s.approvals;
  r.rejections = s.rejections;
  r.notifications = s.notifications ?? [];
  r.tokens = new Map(s.tokens);
  r.requests = s.requests;
  r.faults = s.faults;
  r.rateLimited = s.rateLimited ?? r.rateLimited;
  // The bonus indexes are not stored: they are rebuilt from the complete list below.
  const bonuses = s.bonuses;
  for (const l of lines) replay(r, bonuses, l);
  r.requests = { ...zeroRequests(), ...r.requests };
  r.rateLimited = { ...zeroRequests(), ...r.rateLimited };
  for (const b of bonuses) r.addBonus(b);
  return r;
}

function replay(r: Records, bonuses: BonusRec[], l: JournalLine): void {
  const place = <T>(arr: T[], part?: { from: number; items: T[] }) => {
    part?.items.forEach((item, i) => (arr[part.from + i] = item));
  };
  r.balanceCents = l.balanceCents;
  r.clockOffsetMs = l.clockOffsetMs;
  r.requests = l.requests;
  r.faults = l.faults;
  r.rateLimited = l.rateLimited ?? r.rateLimited;
  for (const h of l.hits ?? []) r.hits.set(h.id, h);
  for (const a of l.assignments ?? []) r.assignments.set(a.id, a);
  place(bonuses, l.bonuses);
  place(r.approvals, l.approvals);
  place(r.rejections, l.rejections);
  place(r.notifications, l.notifications);
  for (const [k, t] of l.tokens ?? []) {
    if (t) r.tokens.set(k, t);
    else r.tokens.delete(k);
  }
}
