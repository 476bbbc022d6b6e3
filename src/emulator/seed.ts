/** Seeding through the admin API: HITs with assignments already submitted, and the balance. */
import { AdminError, parseAdminDollars } from './admin-input';
import { addHit, DEFAULT_AUTO_APPROVAL_S } from './hits';
import { newEntityId, newWorkerId } from './ids';
import { formatCents } from './money';
import type { AsgRec, HitRec, Records } from './records';
import type { SeedAssignment, SeedHit, SeedRequest, SeedResult } from './types';

const ENTITY_ID = /^[A-Z0-9]{1,64}$/;
const WORKER_ID = /^A[A-Z0-9]{1,63}$/;
const EMPTY_ANSWER =
  '<?xml version="1.0" encoding="ASCII"?><QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/QuestionFormAnswers.xsd"></QuestionFormAnswers>';

/** A seed request that passed its checks. */
export interface CheckedSeed {
  balanceCents: number | undefined;
  hits: SeedHit[];
}

/** Check the whole request before anything is seeded, so that a bad seed changes nothing. */
export function checkSeedRequest(records: Records, req: SeedRequest): CheckedSeed {
  if (req === null || typeof req !== 'object') {
    throw new AdminError('seed request must be an object');
  }
  const balanceCents =
    req.balance === undefined ? undefined : parseAdminDollars('balance', req.balance);
  const hits = req.hits ?? [];
  if (!Array.isArray(hits)) throw new AdminError('hits must be an array');
  /** Assignment IDs named so far in this request. */
  const seen = new Set<string>();
  for (const [i, h] of hits.entries()) checkSeedHit(records, h, `hits[${i}]`, seen);
  return { balanceCents, hits };
}

function checkSeedHit(records: Records, h: SeedHit, at: string, seen: Set<string>): void {
  if (h === null || typeof h !== 'object') throw new AdminError(`${at} must be an object`);
  if (h.hitId !== undefined && (typeof h.hitId !== 'string' || !ENTITY_ID.test(h.hitId))) {
    throw new AdminError(`${at}.hitId must match ${ENTITY_ID.source}`);
  }
  if (h.reward !== undefined) parseAdminDollars(`${at}.reward`, h.reward);
  if (
    h.maxAssignments !== undefined &&
    !(Number.isInteger(h.maxAssignments) && h.maxAssignments > 0)
  ) {
    throw new AdminError(`${at}.maxAssignments must be a positive integer`);
  }
  const asgs = h.assignments ?? [];
  if (!Array.isArray(asgs)) throw new AdminError(`${at}.assignments must be an array`);
  for (const [j, a] of asgs.entries()) {
    checkSeedAssignment(records, a, `${at}.assignments[${j}]`, seen);
  }
}

function checkSeedAssignment(
  records: Records,
  a: SeedAssignment,
  at: string,
  seen: Set<string>,
): void {
  if (a === null || typeof a !== 'object') throw new AdminError(`${at} must be an object`);
  if (a.workerId !== undefined && (typeof a.workerId !== 'string' || !WORKER_ID.test(a.workerId))) {
    throw new AdminError(`${at}.workerId must match ${WORKER_ID.source} (MTurk worker IDs)`);
  }
  if (a.assignmentId !== undefined) {
    if (typeof a.assignmentId !== 'string' || !ENTITY_ID.test(a.assignmentId)) {
      throw new AdminError(`${at}.assignmentId must match ${ENTITY_ID.source}`);
    }
    if (records.assignments.has(a.assignmentId) || seen.has(a.assignmentId)) {
      throw new AdminError(`${at}.assignmentId ${a.assignmentId} already exists`);
    }
    seen.add(a.assignmentId);
  }
  if (a.status !== undefined && !['Submitted', 'Approved', 'Rejected'].includes(a.status)) {
    throw new AdminError(`${at}.status must be Submitted, Approved or Rejected`);
  }
}

/** Seed a checked request: seeding adds to the records; a given balance replaces the old one. */
export function applySeed(records: Records, seed: CheckedSeed, now: number): SeedResult {
  const result: SeedResult = { balance: '', hits: [] };
  for (const h of seed.hits) {
    const hit = (h.hitId ? records.hits.get(h.hitId) : undefined) ?? seedNewHit(records, h, now);
    const out: SeedResult['hits'][number] = { hitId: hit.id, assignments: [] };
    for (const a of h.assignments ?? []) {
      const rec = seedAssignment(records, hit, a, now);
      out.assignments.push({ assignmentId: rec.id, workerId: rec.workerId, status: rec.status });
    }
    hit.maxAssignments = Math.max(hit.maxAssignments, hit.assignmentIds.length);
    records.touchHit(hit.id);
    result.hits.push(out);
  }
  if (seed.balanceCents !== undefined) records.balanceCents = seed.balanceCents;
  result.balance = formatCents(records.balanceCents);
  records.dirty = true;
  return result;
}

function seedNewHit(records: Records, h: SeedHit, now: number): HitRec {
  return addHit(
    records,
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

/** An assignment as if its worker had accepted and submitted it just now. */
function seedAssignment(records: Records, hit: HitRec, a: SeedAssignment, now: number): AsgRec {
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
  records.assignments.set(rec.id, rec);
  records.touchAssignment(rec.id);
  hit.assignmentIds.push(rec.id);
  return rec;
}
