/**
 * What an audit concludes from MTurk's ledger and, optionally, the file of bonuses asked for.
 * Pure: no I/O, amounts in integer cents.
 *
 * - A duplicate is a bonus listed more than once for the same assignment, worker, amount and
 *   reason (reasons compared normalised, see {@link normaliseReason}). Every copy after the
 *   first is one duplicate: money paid twice.
 * - With a file, each row is matched to one listed bonus of its assignment and worker: same
 *   amount and reason (paid as asked), else same reason and another amount (wrong amount), else
 *   same amount and another reason (reason differs: maybe the same payment made by another
 *   tool, maybe not). Rows left are missing; bonuses left are not in the file. A worker paid more
 *   for an assignment than the file asks, in all, is overpaid by the difference.
 * - Rows ask for the reason as sent to MTurk: a keyed row's reason carries its key (see
 *   bonus-reason.ts), which is what this project pays and so what the ledger shows.
 */
import { mturkFeeCents } from '../common/money';
import type { ListedBonus } from './audit-ledger';
import { dollars } from './batch-plan';
import { normaliseText } from '../common/ledger-match';

/** A bonus the file asks for. */
export interface AskedBonus {
  line: number;
  assignmentId: string;
  workerId: string;
  amountCents: number;
  /** The reason as sent to MTurk (reasonSentToMTurk). */
  reason: string;
}

export type AuditStatus =
  /** Listed and asked for, as asked. */
  | 'paid'
  /** Listed (no file to compare with). */
  | 'listed'
  | 'duplicate'
  | 'missing'
  | 'wrong-amount'
  | 'reason-differs'
  | 'not-in-file'
  | 'overpaid'
  /** A file row whose assignment MTurk does not know. */
  | 'unknown-assignment';

export const CLEAN_STATUSES: ReadonlySet<AuditStatus> = new Set(['paid', 'listed']);

export interface AuditRow {
  status: AuditStatus;
  /** File line, for rows of the file. */
  line?: number;
  hitId?: string;
  assignmentId: string;
  workerId: string;
  askedCents?: number;
  paidCents?: number;
  reason: string;
  grantTime?: string;
  detail: string;
}

export interface MoneyTotal {
  count: number;
  bonusCents: number;
  feeCents: number;
}

export interface AuditSummary {
  listed: MoneyTotal;
  duplicates: MoneyTotal;
  /** With a file: */
  asked?: MoneyTotal;
  paidAsAsked?: number;
  missing?: MoneyTotal;
  wrongAmount?: number;
  reasonDiffers?: number;
  notInFile?: MoneyTotal;
  /** Pairs (assignment, worker) paid more than asked, and by how much in all. */
  overpaid?: { count: number; cents: number };
  unknownAssignments?: number;
  discrepancies: number;
}

export interface AuditResult {
  /** Ordered by worker, assignment, then file line / grant time. */
  rows: AuditRow[];
  summary: AuditSummary;
}

/**
 * NFC, any run of whitespace as one space, trimmed: how MTurk stores a reason is not documented.
 * The payments' own ledger rule (ledger-match.ts), so audit and payment agree on "the same".
 */
export const normaliseReason = normaliseText;

function total(amounts: readonly number[]): MoneyTotal {
  return {
    count: amounts.length,
    bonusCents: amounts.reduce((a, b) => a + b, 0),
    feeCents: amounts.reduce((a, b) => a + (b > 0 ? mturkFeeCents(b) : 0), 0),
  };
}

const pairKey = (assignmentId: string, workerId: string) => `${assignmentId}\n${workerId}`;
const bonusKey = (b: {
  assignmentId: string;
  workerId: string;
  amountCents: number;
  reason: string;
}) => `${pairKey(b.assignmentId, b.workerId)}\n${b.amountCents}\n${normaliseReason(b.reason)}`;

export interface AuditInput {
  listed: readonly ListedBonus[];
  /** Absent: no file, report the ledger and its duplicates only. */
  asked?: readonly AskedBonus[];
  /** File rows whose assignment MTurk does not know (with MTurk's message). */
  unknown?: readonly { row: AskedBonus; message: string }[];
  /** Of the file's rows, for rows found under a HIT. */
  hitOfAssignment?: ReadonlyMap<string, string>;
}

export function auditLedger(input: AuditInput): AuditResult {
  const { originals, duplicates, duplicateRows } = findDuplicates(input.listed);
  const file = input.asked
    ? matchFile({ ...input, asked: input.asked }, originals, duplicates)
    : { rows: originals.map((b) => rowOfBonus(b, 'listed', '')), summary: {} };
  const rows = [...duplicateRows, ...file.rows].sort(compareRows);
  const summary: AuditSummary = {
    listed: total(input.listed.map((b) => b.amountCents)),
    duplicates: total(duplicates.map((b) => b.amountCents)),
    discrepancies: rows.filter((r) => !CLEAN_STATUSES.has(r.status)).length,
    ...file.summary,
  };
  return { rows, summary };
}

function rowOfBonus(b: ListedBonus, status: AuditStatus, detail: string): AuditRow {
  return {
    status,
    ...(b.hitId !== undefined && { hitId: b.hitId }),
    assignmentId: b.assignmentId,
    workerId: b.workerId,
    paidCents: b.amountCents,
    reason: b.reason,
    ...(b.grantTime !== undefined && { grantTime: b.grantTime }),
    detail,
  };
}

function rowOfAsked(
  r: AskedBonus,
  status: AuditStatus,
  detail: string,
  hitOfAssignment: AuditInput['hitOfAssignment'],
): AuditRow {
  const hitId = hitOfAssignment?.get(r.assignmentId);
  return {
    status,
    line: r.line,
    ...(hitId !== undefined && { hitId }),
    assignmentId: r.assignmentId,
    workerId: r.workerId,
    askedCents: r.amountCents,
    reason: r.reason,
    detail,
  };
}

/** The ledger alone decides: the first copy of a bonus is the original, every later one a duplicate. */
function findDuplicates(listed: readonly ListedBonus[]): {
  originals: ListedBonus[];
  duplicates: ListedBonus[];
  duplicateRows: AuditRow[];
} {
  const copies = new Map<string, number>();
  for (const b of listed) copies.set(bonusKey(b), (copies.get(bonusKey(b)) ?? 0) + 1);
  const firstOf = new Map<string, ListedBonus>();
  const originals: ListedBonus[] = [];
  const duplicates: ListedBonus[] = [];
  const duplicateRows: AuditRow[] = [];
  for (const b of listed) {
    const key = bonusKey(b);
    const first = firstOf.get(key);
    if (!first) {
      firstOf.set(key, b);
      originals.push(b);
      continue;
    }
    duplicates.push(b);
    duplicateRows.push(
      rowOfBonus(
        b,
        'duplicate',
        `paid ${copies.get(key)} times: same assignment, worker, amount and reason as the bonus ` +
          `granted ${first.grantTime ?? 'earlier'}`,
      ),
    );
  }
  return { originals, duplicates, duplicateRows };
}

/** By worker, assignment, then file line / grant time. */
function compareRows(a: AuditRow, b: AuditRow): number {
  return (
    cmp(a.workerId, b.workerId) ||
    cmp(a.assignmentId, b.assignmentId) ||
    // The overpaid total of a pair after its bonuses, which explain it.
    Number(a.status === 'overpaid') - Number(b.status === 'overpaid') ||
    (a.line ?? Infinity) - (b.line ?? Infinity) ||
    cmp(a.grantTime ?? '', b.grantTime ?? '')
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

type FileSummary = Required<
  Pick<
    AuditSummary,
    | 'asked'
    | 'paidAsAsked'
    | 'missing'
    | 'wrongAmount'
    | 'reasonDiffers'
    | 'notInFile'
    | 'overpaid'
    | 'unknownAssignments'
  >
>;

// MTurk's listing may be eventually consistent: a just-paid bonus can be absent a while.
const MISSING_DETAIL =
  "not in MTurk's ledger (a bonus paid in the last minutes may not be listed yet: audit again before paying it)";

function matchFile(
  input: AuditInput & { asked: readonly AskedBonus[] },
  originals: readonly ListedBonus[],
  duplicates: readonly ListedBonus[],
): { rows: AuditRow[]; summary: FileSummary } {
  const unknown = input.unknown ?? [];
  const unknownLines = new Set(unknown.map((u) => u.row.line));
  const open = bonusesByPair(originals);
  const { matched, left } = matchRows(
    input.asked.filter((r) => !unknownLines.has(r.line)),
    open,
  );
  // What the rows did not take: paid, but not asked for.
  const notInFile = [...open.values()].flat();
  const overpaid = overpaidPairs([...originals, ...duplicates], input.asked);
  const rowOf = (r: AskedBonus, status: AuditStatus, detail: string) =>
    rowOfAsked(r, status, detail, input.hitOfAssignment);
  const rows = [
    ...matched,
    ...left.map((r) => rowOf(r, 'missing', MISSING_DETAIL)),
    ...unknown.map((u) => rowOf(u.row, 'unknown-assignment', u.message)),
    ...notInFile.map((b) =>
      rowOfBonus(b, 'not-in-file', 'paid, but no row of the file asks for it'),
    ),
    ...overpaid.rows,
  ];
  const matchedAs = (status: AuditStatus) => matched.filter((r) => r.status === status).length;
  const summary: FileSummary = {
    asked: total(input.asked.map((r) => r.amountCents)),
    paidAsAsked: matchedAs('paid'),
    missing: total(left.map((r) => r.amountCents)),
    wrongAmount: matchedAs('wrong-amount'),
    reasonDiffers: matchedAs('reason-differs'),
    notInFile: total(notInFile.map((b) => b.amountCents)),
    overpaid: { count: overpaid.rows.length, cents: overpaid.cents },
    unknownAssignments: unknown.length,
  };
  return { rows, summary };
}

/** Per (assignment, worker), the bonuses listed, in ledger order. */
function bonusesByPair(bonuses: readonly ListedBonus[]): Map<string, ListedBonus[]> {
  const byPair = new Map<string, ListedBonus[]>();
  for (const b of bonuses) {
    const key = pairKey(b.assignmentId, b.workerId);
    const list = byPair.get(key);
    if (list) list.push(b);
    else byPair.set(key, [b]);
  }
  return byPair;
}

interface MatchPass {
  status: 'paid' | 'wrong-amount' | 'reason-differs';
  fits: (r: AskedBonus, b: ListedBonus) => boolean;
  detail: (r: AskedBonus, b: ListedBonus) => string;
}

const sameReason = (r: AskedBonus, b: ListedBonus) =>
  normaliseReason(b.reason) === normaliseReason(r.reason);

/** Closest fit first, for every row, before any row takes a looser one. */
const MATCH_PASSES: readonly MatchPass[] = [
  {
    status: 'paid',
    fits: (r, b) => b.amountCents === r.amountCents && sameReason(r, b),
    detail: () => '',
  },
  {
    status: 'wrong-amount',
    fits: sameReason,
    detail: (r, b) =>
      `line ${r.line} asks ${dollars(r.amountCents)}, MTurk paid ${dollars(b.amountCents)}`,
  },
  {
    status: 'reason-differs',
    fits: (r, b) => b.amountCents === r.amountCents,
    detail: (r) =>
      `line ${r.line} asks the same amount with reason ${JSON.stringify(r.reason)}: the same payment, or another one?`,
  },
];

/** Each row takes at most one bonus of its pair out of `open`; `left` are the rows none fits. */
function matchRows(
  pending: readonly AskedBonus[],
  open: Map<string, ListedBonus[]>,
): { matched: AuditRow[]; left: readonly AskedBonus[] } {
  const matched: AuditRow[] = [];
  let left = pending;
  for (const pass of MATCH_PASSES) {
    const stillOpen: AskedBonus[] = [];
    for (const r of left) {
      const b = takeBonus(open, r, pass.fits);
      if (!b) {
        stillOpen.push(r);
        continue;
      }
      matched.push({
        ...rowOfBonus(b, pass.status, pass.detail(r, b)),
        line: r.line,
        askedCents: r.amountCents,
      });
    }
    left = stillOpen;
  }
  return { matched, left };
}

function takeBonus(
  open: Map<string, ListedBonus[]>,
  r: AskedBonus,
  fits: (r: AskedBonus, b: ListedBonus) => boolean,
): ListedBonus | undefined {
  const list = open.get(pairKey(r.assignmentId, r.workerId)) ?? [];
  const index = list.findIndex((b) => fits(r, b));
  return index < 0 ? undefined : list.splice(index, 1)[0];
}

/** Per (assignment, worker), everything paid (duplicates too) against everything asked. */
function overpaidPairs(
  listed: readonly ListedBonus[],
  asked: readonly AskedBonus[],
): { rows: AuditRow[]; cents: number } {
  const paidOf = centsByPair(listed);
  const askedOf = centsByPair(asked);
  const rows: AuditRow[] = [];
  let cents = 0;
  for (const [key, paid] of paidOf) {
    const want = askedOf.get(key) ?? 0;
    if (paid <= want) continue;
    const [assignmentId = '', workerId = ''] = key.split('\n');
    cents += paid - want;
    rows.push({
      status: 'overpaid',
      assignmentId,
      workerId,
      askedCents: want,
      paidCents: paid,
      reason: '',
      detail: `paid ${dollars(paid)} in all for this assignment, the file asks ${dollars(want)}: ${dollars(paid - want)} too much`,
    });
  }
  return { rows, cents };
}

function centsByPair(
  bonuses: readonly { assignmentId: string; workerId: string; amountCents: number }[],
): Map<string, number> {
  const centsOf = new Map<string, number>();
  for (const b of bonuses) {
    const key = pairKey(b.assignmentId, b.workerId);
    centsOf.set(key, (centsOf.get(key) ?? 0) + b.amountCents);
  }
  return centsOf;
}
