/**
 * The emulator's store and MTurk semantics: HITs, assignments, balance, bonuses, token memory.
 * All money is integer cents. All times are epoch milliseconds of the emulator's clock.
 */
import { AdminError, checkClockAdvance, parseAdminDollars, updateStoreConfig } from './admin-input';
import { ApiError, requestError } from './errors';
import { newEntityId, newWorkerId } from './ids';
import { OPERATIONS, type Input } from './model';
import { epochSeconds } from './time';
import { decodePageToken, DEFAULT_PAGE_SIZE, encodePageToken } from './page-token';
import { StateFile } from './persist';
import { bonusFeeCents, formatCents, parseDollars, type FeeRounding } from './money';
import type {
  AssignmentStatus,
  FaultCounts,
  Ledger,
  LedgerAction,
  StoreConfig,
  SeedRequest,
  SeedResult,
} from './types';

const DAY_MS = 24 * 60 * 60 * 1000;
const OVERRIDE_WINDOW_MS = 30 * DAY_MS;
const DEFAULT_AUTO_APPROVAL_S = 3 * 24 * 60 * 60;
const STATE_VERSION = 2;
const ENTITY_ID = /^[A-Z0-9]{1,64}$/;
const WORKER_ID = /^A[A-Z0-9]{1,63}$/;
const EMPTY_ANSWER =
  '<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"></QuestionFormAnswers>';

interface HitRec {
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

interface AsgRec {
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

interface BonusRec {
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

interface ActionRec {
  assignmentId: string;
  time: number;
  requestId: string | null;
  feedback?: string;
  override?: boolean;
  auto?: boolean;
}

interface NotificationRec {
  subject: string;
  messageText: string;
  workerIds: string[];
  failures: { workerId: string; code: string; message: string }[];
  requestId: string;
  time: number;
}

interface TokenRec {
  requestId: string;
  time: number;
}

interface Snapshot {
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
interface JournalLine {
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

export { AdminError };

export interface StoreOptions extends StoreConfig {
  now: () => number;
  statePath?: string;
}

function zeroRequests(): Record<string, number> {
  const r: Record<string, number> = {};
  for (const op of Object.keys(OPERATIONS)) r[op] = 0;
  return r;
}

export class Store {
  config: StoreConfig;
  private readonly baseNow: () => number;
  private readonly file?: StateFile<Snapshot, JournalLine>;
  private dirty = false;
  /** Write a full snapshot at the next commit (after a load or a reset). */
  private rewrite = true;
  private generation = 0;
  private changedHits = new Set<string>();
  private changedAssignments = new Set<string>();
  private changedTokens = new Set<string>();
  /** Lengths of the append-only lists at the last commit. */
  private mark = { bonuses: 0, approvals: 0, rejections: 0, notifications: 0 };

  private balanceCents = 0;
  private clockOffsetMs = 0;
  private hits = new Map<string, HitRec>();
  private assignments = new Map<string, AsgRec>();
  private bonuses: BonusRec[] = [];
  private bonusesByAssignment = new Map<string, number[]>();
  private bonusesByHit = new Map<string, number[]>();
  private approvals: ActionRec[] = [];
  private rejections: ActionRec[] = [];
  private notifications: NotificationRec[] = [];
  private tokens = new Map<string, TokenRec>();
  private requests = zeroRequests();
  private faults: FaultCounts = { serviceFault: 0, throttle: 0, dropAfterCommit: 0 };
  /** Requests refused by the rate limit, per operation (also counted in `requests`). */
  private rateLimited = zeroRequests();

  constructor(opts: StoreOptions) {
    this.baseNow = opts.now;
    if (opts.statePath) this.file = new StateFile(opts.statePath);
    this.config = {
      tokenTtlMs: opts.tokenTtlMs,
      consumeTokenOnFailure: opts.consumeTokenOnFailure,
      feeRounding: opts.feeRounding,
      listingLagMs: opts.listingLagMs,
      normaliseReasons: opts.normaliseReasons,
    };
    if (this.file) this.load(this.file);
  }

  /** The emulator's clock (epoch ms): the injected clock plus any admin advance. */
  now(): number {
    return this.baseNow() + this.clockOffsetMs;
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Persist everything changed since the last commit (no-op without a state file). Called before
   * every response, so a change is on disk before the client can hear about it.
   */
  commit(): void {
    if (!this.dirty) return;
    const file = this.file;
    if (file) {
      if (this.rewrite || file.wantsCompaction) {
        this.pruneTokens(this.now());
        this.generation++;
        file.writeSnapshot(this.snapshot());
      } else {
        file.append(this.delta());
      }
    }
    this.changedHits.clear();
    this.changedAssignments.clear();
    this.changedTokens.clear();
    this.mark = {
      bonuses: this.bonuses.length,
      approvals: this.approvals.length,
      rejections: this.rejections.length,
      notifications: this.notifications.length,
    };
    this.rewrite = false;
    this.dirty = false;
  }

  /** Close the state file's journal. */
  close(): void {
    this.file?.close();
  }

  private touchHit(id: string): void {
    this.changedHits.add(id);
    this.dirty = true;
  }

  private touchAssignment(id: string): void {
    this.changedAssignments.add(id);
    this.dirty = true;
  }

  private touchToken(key: string): void {
    this.changedTokens.add(key);
    this.dirty = true;
  }

  private snapshot(): Snapshot {
    return {
      version: STATE_VERSION,
      generation: this.generation,
      balanceCents: this.balanceCents,
      clockOffsetMs: this.clockOffsetMs,
      hits: [...this.hits.values()],
      assignments: [...this.assignments.values()],
      bonuses: this.bonuses,
      approvals: this.approvals,
      rejections: this.rejections,
      notifications: this.notifications,
      tokens: [...this.tokens.entries()],
      requests: this.requests,
      faults: this.faults,
      rateLimited: this.rateLimited,
    };
  }

  private delta(): JournalLine {
    const line: JournalLine = {
      g: this.generation,
      balanceCents: this.balanceCents,
      clockOffsetMs: this.clockOffsetMs,
      requests: this.requests,
      faults: this.faults,
      rateLimited: this.rateLimited,
    };
    const pick = <T>(ids: Set<string>, m: Map<string, T>) =>
      [...ids].map((id) => m.get(id)).filter((x): x is T => x !== undefined);
    if (this.changedHits.size) line.hits = pick(this.changedHits, this.hits);
    if (this.changedAssignments.size) {
      line.assignments = pick(this.changedAssignments, this.assignments);
    }
    const since = <T>(arr: T[], from: number) =>
      arr.length > from ? { from, items: arr.slice(from) } : undefined;
    line.bonuses = since(this.bonuses, this.mark.bonuses);
    line.approvals = since(this.approvals, this.mark.approvals);
    line.rejections = since(this.rejections, this.mark.rejections);
    line.notifications = since(this.notifications, this.mark.notifications);
    if (this.changedTokens.size) {
      line.tokens = [...this.changedTokens].map((k) => [k, this.tokens.get(k) ?? null]);
    }
    return line;
  }

  private load(file: StateFile<Snapshot, JournalLine>): void {
    const loaded = file.load();
    if (!loaded) return;
    const { snapshot: s, lines } = loaded;
    if (s.version !== STATE_VERSION) {
      throw new Error(
        `emulator state file ${file.path} has unsupported version ${String(s.version)}`,
      );
    }
    this.generation = s.generation;
    this.balanceCents = s.balanceCents;
    this.clockOffsetMs = s.clockOffsetMs;
    this.hits = new Map(s.hits.map((h) => [h.id, h]));
    this.assignments = new Map(s.assignments.map((a) => [a.id, a]));
    this.approvals = s.approvals;
    this.rejections = s.rejections;
    this.notifications = s.notifications ?? [];
    this.tokens = new Map(s.tokens);
    this.requests = s.requests;
    this.faults = s.faults;
    this.rateLimited = s.rateLimited ?? this.rateLimited;
    const bonuses = s.bonuses;
    const place = <T>(arr: T[], part?: { from: number; items: T[] }) => {
      part?.items.forEach((item, i) => (arr[part.from + i] = item));
    };
    for (const l of lines) {
      this.balanceCents = l.balanceCents;
      this.clockOffsetMs = l.clockOffsetMs;
      this.requests = l.requests;
      this.faults = l.faults;
      this.rateLimited = l.rateLimited ?? this.rateLimited;
      for (const h of l.hits ?? []) this.hits.set(h.id, h);
      for (const a of l.assignments ?? []) this.assignments.set(a.id, a);
      place(bonuses, l.bonuses);
      place(this.approvals, l.approvals);
      place(this.rejections, l.rejections);
      place(this.notifications, l.notifications);
      for (const [k, t] of l.tokens ?? []) {
        if (t) this.tokens.set(k, t);
        else this.tokens.delete(k);
      }
    }
    this.requests = { ...zeroRequests(), ...this.requests };
    this.rateLimited = { ...zeroRequests(), ...this.rateLimited };
    this.bonuses = [];
    for (const b of bonuses) this.addBonus(b);
    // Start a new generation at once: this also drops a torn journal tail.
    this.rewrite = true;
    this.dirty = true;
  }

  // ---------------------------------------------------------------- counters

  countRequest(op: string): void {
    this.requests[op] = (this.requests[op] ?? 0) + 1;
    this.dirty = true;
  }

  countFault(kind: keyof FaultCounts): void {
    this.faults[kind]++;
    this.dirty = true;
  }

  countRateLimited(op: string): void {
    this.rateLimited[op] = (this.rateLimited[op] ?? 0) + 1;
    this.dirty = true;
  }

  // ---------------------------------------------------------------- admin

  reset(): void {
    this.balanceCents = 0;
    this.hits.clear();
    this.assignments.clear();
    this.bonuses = [];
    this.bonusesByAssignment.clear();
    this.bonusesByHit.clear();
    this.approvals = [];
    this.rejections = [];
    this.notifications = [];
    this.tokens.clear();
    this.requests = zeroRequests();
    this.faults = { serviceFault: 0, throttle: 0, dropAfterCommit: 0 };
    this.rateLimited = zeroRequests();
    this.rewrite = true;
    this.dirty = true;
  }

  setBalance(dollars: string): void {
    this.balanceCents = parseAdminDollars('balance', dollars);
    this.dirty = true;
  }

  addBalance(dollars: string): void {
    this.balanceCents += parseAdminDollars('add', dollars);
    this.dirty = true;
  }

  balance(): string {
    return formatCents(this.balanceCents);
  }

  configure(partial: Partial<StoreConfig>): StoreConfig {
    updateStoreConfig(this.config, partial);
    return { ...this.config };
  }

  advanceClock(ms: number): void {
    checkClockAdvance(ms);
    this.clockOffsetMs += ms;
    this.dirty = true;
  }

  seed(req: SeedRequest): SeedResult {
    if (req === null || typeof req !== 'object')
      throw new AdminError('seed request must be an object');
    const balance =
      req.balance === undefined ? undefined : parseAdminDollars('balance', req.balance);
    const hits = req.hits ?? [];
    if (!Array.isArray(hits)) throw new AdminError('hits must be an array');
    // Validate everything first so that a bad seed changes nothing.
    const seen = new Set<string>();
    for (const [i, h] of hits.entries()) {
      if (h === null || typeof h !== 'object') throw new AdminError(`hits[${i}] must be an object`);
      if (h.hitId !== undefined && (typeof h.hitId !== 'string' || !ENTITY_ID.test(h.hitId))) {
        throw new AdminError(`hits[${i}].hitId must match ${ENTITY_ID.source}`);
      }
      if (h.reward !== undefined) parseAdminDollars(`hits[${i}].reward`, h.reward);
      if (
        h.maxAssignments !== undefined &&
        !(Number.isInteger(h.maxAssignments) && h.maxAssignments > 0)
      ) {
        throw new AdminError(`hits[${i}].maxAssignments must be a positive integer`);
      }
      const asgs = h.assignments ?? [];
      if (!Array.isArray(asgs)) throw new AdminError(`hits[${i}].assignments must be an array`);
      for (const [j, a] of asgs.entries()) {
        const at = `hits[${i}].assignments[${j}]`;
        if (a === null || typeof a !== 'object') throw new AdminError(`${at} must be an object`);
        if (
          a.workerId !== undefined &&
          (typeof a.workerId !== 'string' || !WORKER_ID.test(a.workerId))
        ) {
          throw new AdminError(`${at}.workerId must match ${WORKER_ID.source} (MTurk worker IDs)`);
        }
        if (a.assignmentId !== undefined) {
          if (typeof a.assignmentId !== 'string' || !ENTITY_ID.test(a.assignmentId)) {
            throw new AdminError(`${at}.assignmentId must match ${ENTITY_ID.source}`);
          }
          if (this.assignments.has(a.assignmentId) || seen.has(a.assignmentId)) {
            throw new AdminError(`${at}.assignmentId ${a.assignmentId} already exists`);
          }
          seen.add(a.assignmentId);
        }
        if (a.status !== undefined && !['Submitted', 'Approved', 'Rejected'].includes(a.status)) {
          throw new AdminError(`${at}.status must be Submitted, Approved or Rejected`);
        }
      }
    }
    const now = this.now();
    const result: SeedResult = { balance: '', hits: [] };
    for (const h of hits) {
      let hit = h.hitId ? this.hits.get(h.hitId) : undefined;
      if (!hit) {
        hit = this.newHit(
          {
            title: h.title ?? 'Emulated HIT',
            description: h.description ?? 'A HIT seeded into the MTurk emulator',
            rewardCents: h.reward ? parseAdminDollars('reward', h.reward) : 50,
            maxAssignments: h.maxAssignments ?? Math.max(1, h.assignments?.length ?? 0),
            autoApprovalDelayS: DEFAULT_AUTO_APPROVAL_S,
            assignmentDurationS: 3600,
            lifetimeS: 7 * 24 * 3600,
          },
          now,
          h.hitId,
        );
      }
      const out: SeedResult['hits'][number] = { hitId: hit.id, assignments: [] };
      for (const a of h.assignments ?? []) {
        const rec: AsgRec = {
          id: a.assignmentId ?? newEntityId(),
          hitId: hit.id,
          workerId: a.workerId ?? newWorkerId(),
          status: a.status ?? 'Submitted',
          acceptTime: now,
          submitTime: now,
          autoApprovalTime: now + hit.autoApprovalDelayS * 1000,
          deadline: now + hit.assignmentDurationS * 1000,
          answer: a.answer ?? EMPTY_ANSWER,
        };
        if (rec.status === 'Approved') rec.approvalTime = now;
        if (rec.status === 'Rejected') rec.rejectionTime = now;
        this.assignments.set(rec.id, rec);
        this.touchAssignment(rec.id);
        hit.assignmentIds.push(rec.id);
        out.assignments.push({ assignmentId: rec.id, workerId: rec.workerId, status: rec.status });
      }
      hit.maxAssignments = Math.max(hit.maxAssignments, hit.assignmentIds.length);
      this.touchHit(hit.id);
      result.hits.push(out);
    }
    if (balance !== undefined) this.balanceCents = balance;
    result.balance = formatCents(this.balanceCents);
    this.dirty = true;
    return result;
  }

  ledger(): Ledger {
    const iso = (ms: number) => new Date(ms).toISOString();
    const action = (a: ActionRec): LedgerAction => ({ ...a, time: iso(a.time) });
    let paid = 0;
    let fees = 0;
    const bonuses = this.bonuses.map((b) => {
      paid += b.amountCents;
      fees += b.feeCents;
      return {
        workerId: b.workerId,
        assignmentId: b.assignmentId,
        hitId: b.hitId,
        amount: formatCents(b.amountCents),
        fee: formatCents(b.feeCents),
        reason: b.reason,
        token: b.token,
        requestId: b.requestId,
        time: iso(b.time),
      };
    });
    return {
      balance: formatCents(this.balanceCents),
      onHoldBalance: '0.00',
      now: iso(this.now()),
      bonuses,
      approvals: this.approvals.map(action),
      rejections: this.rejections.map(action),
      notifications: this.notifications.map((n) => ({
        subject: n.subject,
        messageText: n.messageText,
        workerIds: [...n.workerIds],
        failures: n.failures.map((f) => ({ ...f })),
        requestId: n.requestId,
        time: iso(n.time),
      })),
      requests: { ...this.requests },
      faults: { ...this.faults },
      rateLimited: { ...this.rateLimited },
      totals: { bonusCount: bonuses.length, bonuses: formatCents(paid), fees: formatCents(fees) },
    };
  }

  // ---------------------------------------------------------------- helpers

  private newHit(
    p: {
      title: string;
      description: string;
      rewardCents: number;
      maxAssignments: number;
      autoApprovalDelayS: number;
      assignmentDurationS: number;
      lifetimeS: number;
      question?: string;
      keywords?: string;
      annotation?: string;
    },
    now: number,
    id = newEntityId(),
  ): HitRec {
    const typeId = newEntityId();
    const hit: HitRec = {
      id,
      typeId,
      groupId: typeId,
      title: p.title,
      description: p.description,
      question: p.question,
      keywords: p.keywords,
      annotation: p.annotation,
      rewardCents: p.rewardCents,
      maxAssignments: p.maxAssignments,
      autoApprovalDelayS: p.autoApprovalDelayS,
      assignmentDurationS: p.assignmentDurationS,
      creationTime: now,
      expiration: now + p.lifetimeS * 1000,
      assignmentIds: [],
    };
    this.hits.set(id, hit);
    this.touchHit(id);
    return hit;
  }

  private addBonus(b: BonusRec): void {
    const idx = this.bonuses.push(b) - 1;
    const byA = this.bonusesByAssignment.get(b.assignmentId);
    if (byA) byA.push(idx);
    else this.bonusesByAssignment.set(b.assignmentId, [idx]);
    const byH = this.bonusesByHit.get(b.hitId);
    if (byH) byH.push(idx);
    else this.bonusesByHit.set(b.hitId, [idx]);
  }

  private stamp(now: number): string {
    return `(${now})`;
  }

  private hitOrThrow(id: string, now: number): HitRec {
    const hit = this.hits.get(id);
    if (!hit) {
      throw requestError(
        `Hit ${id} does not exist. ${this.stamp(now)}`,
        'AWS.MechanicalTurk.HITDoesNotExist',
      );
    }
    return hit;
  }

  /** Look up an assignment, applying auto-approval if its AutoApprovalTime has passed. */
  private assignmentOrThrow(id: string, now: number): AsgRec {
    const a = this.assignments.get(id);
    if (!a) {
      throw requestError(
        `Assignment ${id} does not exist. ${this.stamp(now)}`,
        'AWS.MechanicalTurk.AssignmentDoesNotExist',
      );
    }
    this.settle(a, now);
    return a;
  }

  private settle(a: AsgRec, now: number): void {
    if (a.status === 'Submitted' && now >= a.autoApprovalTime) {
      a.status = 'Approved';
      a.approvalTime = a.autoApprovalTime;
      this.approvals.push({
        assignmentId: a.id,
        time: a.autoApprovalTime,
        requestId: null,
        auto: true,
      });
      this.touchAssignment(a.id);
    }
  }

  private invalidState(now: number): ApiError {
    return requestError(
      `This operation can be called with a status of: Submitted ${this.stamp(now)}`,
      'AWS.MechanicalTurk.InvalidAssignmentState',
    );
  }

  private pruneTokens(now: number): void {
    const ttl = this.config.tokenTtlMs;
    for (const [k, t] of this.tokens) {
      if (now - t.time < ttl) break; // insertion order is time order
      this.tokens.delete(k);
      this.touchToken(k);
    }
  }

  /** A remembered token within its TTL, or undefined. */
  private recallToken(key: string, now: number): TokenRec | undefined {
    const t = this.tokens.get(key);
    if (!t) return undefined;
    if (now - t.time >= this.config.tokenTtlMs) {
      this.tokens.delete(key);
      this.touchToken(key);
      return undefined;
    }
    return t;
  }

  private rememberToken(key: string, requestId: string, now: number): void {
    this.tokens.delete(key);
    this.tokens.set(key, { requestId, time: now });
    this.touchToken(key);
    this.pruneTokens(now);
  }

  /**
   * Run `fn` under UniqueRequestToken protection: a token seen within the TTL fails with
   * DuplicateRequest; a success (or, with consumeTokenOnFailure, a RequestError) is remembered.
   */
  private withToken<T>(op: string, token: unknown, requestId: string, now: number, fn: () => T): T {
    if (typeof token !== 'string') return fn();
    const key = `${op}:${token}`;
    const prev = this.recallToken(key, now);
    if (prev) {
      throw requestError(
        `The request with UniqueRequestToken ${token} has already been processed (request ID ${prev.requestId}).`,
        'AWS.MechanicalTurk.DuplicateRequest',
      );
    }
    try {
      const out = fn();
      this.rememberToken(key, requestId, now);
      return out;
    } catch (e) {
      if (this.config.consumeTokenOnFailure && e instanceof ApiError) {
        this.rememberToken(key, requestId, now);
      }
      throw e;
    }
  }

  private hitJson(h: HitRec, now: number) {
    let submitted = 0;
    let completed = 0;
    for (const id of h.assignmentIds) {
      const a = this.assignments.get(id);
      if (!a) continue;
      this.settle(a, now);
      if (a.status === 'Submitted') submitted++;
      else completed++;
    }
    const available = Math.max(0, h.maxAssignments - h.assignmentIds.length);
    const status =
      available > 0 && now < h.expiration
        ? 'Assignable'
        : submitted > 0
          ? 'Reviewable'
          : 'Unassignable';
    return {
      HITId: h.id,
      HITTypeId: h.typeId,
      HITGroupId: h.groupId,
      CreationTime: epochSeconds(h.creationTime),
      Title: h.title,
      Description: h.description,
      Question: h.question,
      Keywords: h.keywords,
      HITStatus: status,
      MaxAssignments: h.maxAssignments,
      Reward: formatCents(h.rewardCents),
      AutoApprovalDelayInSeconds: h.autoApprovalDelayS,
      Expiration: epochSeconds(h.expiration),
      AssignmentDurationInSeconds: h.assignmentDurationS,
      RequesterAnnotation: h.annotation,
      QualificationRequirements: [],
      HITReviewStatus: 'NotReviewed',
      NumberOfAssignmentsPending: 0,
      NumberOfAssignmentsAvailable: available,
      NumberOfAssignmentsCompleted: completed,
    };
  }

  private assignmentJson(a: AsgRec) {
    return {
      AssignmentId: a.id,
      WorkerId: a.workerId,
      HITId: a.hitId,
      AssignmentStatus: a.status,
      AutoApprovalTime: epochSeconds(a.autoApprovalTime),
      AcceptTime: epochSeconds(a.acceptTime),
      SubmitTime: epochSeconds(a.submitTime),
      ApprovalTime: a.approvalTime === undefined ? undefined : epochSeconds(a.approvalTime),
      RejectionTime: a.rejectionTime === undefined ? undefined : epochSeconds(a.rejectionTime),
      Deadline: epochSeconds(a.deadline),
      Answer: a.answer,
      RequesterFeedback: a.feedback,
    };
  }

  // ---------------------------------------------------------------- operations

  /** Execute a validated MTurk operation. Throws ApiError for MTurk errors. */
  execute(op: string, input: Input, requestId: string): unknown {
    const now = this.now();
    switch (op) {
      case 'CreateHIT':
        return this.withToken(op, input.UniqueRequestToken, requestId, now, () =>
          this.createHit(input, now),
        );
      case 'GetHIT':
        return { HIT: this.hitJson(this.hitOrThrow(input.HITId as string, now), now) };
      case 'ListAssignmentsForHIT':
        return this.listAssignments(input, now);
      case 'GetAssignment': {
        const a = this.assignmentOrThrow(input.AssignmentId as string, now);
        const hit = this.hits.get(a.hitId);
        return {
          Assignment: this.assignmentJson(a),
          HIT: hit ? this.hitJson(hit, now) : undefined,
        };
      }
      case 'ApproveAssignment':
        return this.approve(input, requestId, now);
      case 'RejectAssignment':
        return this.reject(input, requestId, now);
      case 'SendBonus':
        return this.withToken(op, input.UniqueRequestToken, requestId, now, () =>
          this.sendBonus(input, requestId, now),
        );
      case 'ListBonusPayments':
        return this.listBonuses(input, now);
      case 'GetAccountBalance':
        return { AvailableBalance: formatCents(this.balanceCents), OnHoldBalance: '0.00' };
      case 'NotifyWorkers':
        return this.notifyWorkers(input, requestId, now);
      default:
        throw new Error(`operation ${op} is not implemented`);
    }
  }

  private createHit(input: Input, now: number) {
    const bad = (msg: string) =>
      requestError(`${msg} ${this.stamp(now)}`, 'AWS.MechanicalTurk.InvalidParameterValue');
    const lifetime = input.LifetimeInSeconds as number;
    const duration = input.AssignmentDurationInSeconds as number;
    const max = (input.MaxAssignments as number | undefined) ?? 1;
    const autoDelay =
      (input.AutoApprovalDelayInSeconds as number | undefined) ?? DEFAULT_AUTO_APPROVAL_S;
    if (lifetime < 30 || lifetime > 31536000) {
      throw bad('LifetimeInSeconds must be between 30 and 31536000 seconds.');
    }
    if (duration < 30 || duration > 31536000) {
      throw bad('AssignmentDurationInSeconds must be between 30 and 31536000 seconds.');
    }
    if (max < 1 || max > 1000000) throw bad('MaxAssignments must be between 1 and 1000000.');
    if (autoDelay < 0 || autoDelay > 2592000) {
      throw bad('AutoApprovalDelayInSeconds must be between 0 and 2592000 seconds.');
    }
    const hit = this.newHit(
      {
        title: input.Title as string,
        description: input.Description as string,
        rewardCents: parseDollars(input.Reward as string) ?? 0,
        maxAssignments: max,
        autoApprovalDelayS: autoDelay,
        assignmentDurationS: duration,
        lifetimeS: lifetime,
        question: input.Question as string | undefined,
        keywords: input.Keywords as string | undefined,
        annotation: input.RequesterAnnotation as string | undefined,
      },
      now,
    );
    this.dirty = true;
    return { HIT: this.hitJson(hit, now) };
  }

  private listAssignments(input: Input, now: number) {
    const hit = this.hitOrThrow(input.HITId as string, now);
    const statuses = input.AssignmentStatuses as string[] | undefined;
    const filter = statuses && statuses.length > 0 ? new Set(statuses) : null;
    const max = (input.MaxResults as number | undefined) ?? DEFAULT_PAGE_SIZE;
    const key = `A:${hit.id}:${filter ? [...filter].sort().join(',') : ''}`;
    let i = input.NextToken ? decodePageToken(input.NextToken as string, key) : 0;
    const page: ReturnType<Store['assignmentJson']>[] = [];
    const ids = hit.assignmentIds;
    let next: string | undefined;
    for (; i < ids.length; i++) {
      const a = this.assignments.get(ids[i]!);
      if (!a) continue;
      this.settle(a, now);
      if (filter && !filter.has(a.status)) continue;
      if (page.length === max) {
        next = encodePageToken(i, key);
        break;
      }
      page.push(this.assignmentJson(a));
    }
    return { NextToken: next, NumResults: page.length, Assignments: page };
  }

  private approve(input: Input, requestId: string, now: number) {
    const a = this.assignmentOrThrow(input.AssignmentId as string, now);
    const override = input.OverrideRejection === true;
    if (a.status === 'Rejected' && override) {
      if (now - a.submitTime > OVERRIDE_WINDOW_MS) {
        throw requestError(
          `A rejected assignment can only be approved within 30 days of submission. ${this.stamp(now)}`,
          'AWS.MechanicalTurk.InvalidAssignmentState',
        );
      }
    } else if (a.status !== 'Submitted') {
      throw this.invalidState(now);
    }
    const wasRejected = a.status === 'Rejected';
    a.status = 'Approved';
    a.approvalTime = now;
    const feedback = input.RequesterFeedback as string | undefined;
    if (feedback !== undefined) a.feedback = feedback;
    const rec: ActionRec = { assignmentId: a.id, time: now, requestId };
    if (feedback !== undefined) rec.feedback = feedback;
    if (wasRejected) rec.override = true;
    this.approvals.push(rec);
    this.touchAssignment(a.id);
    return {};
  }

  private reject(input: Input, requestId: string, now: number) {
    const a = this.assignmentOrThrow(input.AssignmentId as string, now);
    if (a.status !== 'Submitted') throw this.invalidState(now);
    const feedback = input.RequesterFeedback as string;
    a.status = 'Rejected';
    a.rejectionTime = now;
    a.feedback = feedback;
    this.rejections.push({ assignmentId: a.id, time: now, requestId, feedback });
    this.touchAssignment(a.id);
    return {};
  }

  private sendBonus(input: Input, requestId: string, now: number) {
    const workerId = input.WorkerId as string;
    const amount = parseDollars(input.BonusAmount as string) ?? 0;
    if (amount <= 0) {
      throw requestError(
        `The bonus amount must be greater than $0.00. ${this.stamp(now)}`,
        'AWS.MechanicalTurk.InvalidParameterValue',
      );
    }
    const a = this.assignmentOrThrow(input.AssignmentId as string, now);
    if (a.workerId !== workerId) {
      throw requestError(
        `Worker ${workerId} did not complete assignment ${a.id}. ${this.stamp(now)}`,
        'AWS.MechanicalTurk.InvalidParameterValue',
      );
    }
    const fee = bonusFeeCents(amount, this.config.feeRounding as FeeRounding);
    if (this.balanceCents < amount + fee) {
      throw requestError(
        'This Requester has insufficient funds in their account to complete this transaction. ' +
          'Please visit https://requester.mturk.com/prepayments/new to purchase Prepaid HITs.',
        'AWS.MechanicalTurk.InsufficientFunds',
      );
    }
    this.balanceCents -= amount + fee;
    const token = input.UniqueRequestToken;
    this.addBonus({
      workerId,
      assignmentId: a.id,
      hitId: a.hitId,
      amountCents: amount,
      feeCents: fee,
      reason: this.config.normaliseReasons
        ? (input.Reason as string).normalize('NFC').replace(/\s+/gu, ' ').trim()
        : (input.Reason as string),
      token: typeof token === 'string' ? token : null,
      requestId,
      time: now,
    });
    this.dirty = true;
    return {};
  }

  /**
   * MTurk delivers a notification only to workers whose work this requester approved or
   * rejected; the others come back in NotifyWorkersFailureStatuses (a HardFailure: sending
   * again will not help), and the call itself succeeds. A worker named twice gets it once.
   * MTurk's failure messages are not documented; these are the emulator's own words.
   */
  private notifyWorkers(input: Input, requestId: string, now: number) {
    const requested = [...new Set(input.WorkerIds as string[])];
    const reviewed = new Set<string>();
    const known = new Set<string>();
    for (const a of this.assignments.values()) {
      this.settle(a, now);
      known.add(a.workerId);
      if (a.status === 'Approved' || a.status === 'Rejected') reviewed.add(a.workerId);
    }
    const failures: NotificationRec['failures'] = [];
    const delivered: string[] = [];
    for (const workerId of requested) {
      if (reviewed.has(workerId)) {
        delivered.push(workerId);
      } else if (known.has(workerId)) {
        failures.push({
          workerId,
          code: 'HardFailure',
          message: `Worker ${workerId} has no approved or rejected work for this requester, so it cannot be notified.`,
        });
      } else {
        failures.push({
          workerId,
          code: 'HardFailure',
          message: `Worker ${workerId} has not worked for this requester, so it cannot be notified.`,
        });
      }
    }
    this.notifications.push({
      subject: input.Subject as string,
      messageText: input.MessageText as string,
      workerIds: delivered,
      failures,
      requestId,
      time: now,
    });
    this.dirty = true;
    return {
      NotifyWorkersFailureStatuses: failures.map((f) => ({
        NotifyWorkersFailureCode: f.code,
        NotifyWorkersFailureMessage: f.message,
        WorkerId: f.workerId,
      })),
    };
  }

  private listBonuses(input: Input, now: number) {
    const hitId = input.HITId as string | undefined;
    const asgId = input.AssignmentId as string | undefined;
    if ((hitId === undefined) === (asgId === undefined)) {
      throw requestError(
        `Either the HITId parameter or the AssignmentId parameter must be specified, but not both. ${this.stamp(now)}`,
        'AWS.MechanicalTurk.InvalidParameterValue',
      );
    }
    let idx: number[];
    let key: string;
    if (hitId !== undefined) {
      this.hitOrThrow(hitId, now);
      idx = this.bonusesByHit.get(hitId) ?? [];
      key = `BH:${hitId}`;
    } else {
      this.assignmentOrThrow(asgId!, now);
      idx = this.bonusesByAssignment.get(asgId!) ?? [];
      key = `BA:${asgId}`;
    }
    // A lagging listing: bonuses granted within the lag are not shown yet.
    const lag = this.config.listingLagMs;
    if (lag > 0) idx = idx.filter((i) => now - this.bonuses[i]!.time >= lag);
    const max = (input.MaxResults as number | undefined) ?? DEFAULT_PAGE_SIZE;
    const start = input.NextToken ? decodePageToken(input.NextToken as string, key) : 0;
    const slice = idx.slice(start, start + max);
    const payments = slice.map((i) => {
      const b = this.bonuses[i]!;
      return {
        WorkerId: b.workerId,
        BonusAmount: formatCents(b.amountCents),
        AssignmentId: b.assignmentId,
        Reason: b.reason,
        GrantTime: epochSeconds(b.time),
      };
    });
    const next = start + max < idx.length ? encodePageToken(start + max, key) : undefined;
    return { NumResults: payments.length, NextToken: next, BonusPayments: payments };
  }
}
