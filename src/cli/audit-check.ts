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
  const rows: AuditRow[] = [];
  const fromBonus = (b: ListedBonus, status: AuditStatus, detail: string): AuditRow => ({
    status,
    ...(b.hitId !== undefined && { hitId: b.hitId }),
    assignmentId: b.assignmentId,
    workerId: b.workerId,
    paidCents: b.amountCents,
    reason: b.reason,
    ...(b.grantTime !== undefined && { grantTime: b.grantTime }),
    detail,
  });

  // Duplicates: the ledger alone decides.
  const firstOf = new Map<string, ListedBonus>();
  const copies = new Map<string, number>();
  const originals: ListedBonus[] = [];
  const duplicates: ListedBonus[] = [];
  for (const b of input.listed) copies.set(bonusKey(b), (copies.get(bonusKey(b)) ?? 0) + 1);
  for (const b of input.listed) {
    const key = bonusKey(b);
    const first = firstOf.get(key);
    if (!first) {
      firstOf.set(key, b);
      originals.push(b);
      continue;
    }
    duplicates.push(b);
    rows.push(
      fromBonus(
        b,
        'duplicate',
        `paid ${copies.get(key)} times: same assignment, worker, amount and reason as the bonus ` +
          `granted ${first.grantTime ?? 'earlier'}`,
      ),
    );
  }

  const summary: AuditSummary = {
    listed: total(input.listed.map((b) => b.amountCents)),
    duplicates: total(duplicates.map((b) => b.amountCents)),
    discrepancies: 0,
  };

  if (!input.asked) {
    for (const b of originals) rows.push(fromBonus(b, 'listed', ''));
  } else {
    matchFile(input, originals, duplicates, rows, summary, fromBonus);
  }
  summary.discrepancies = rows.filter((r) => !CLEAN_STATUSES.has(r.status)).length;
  rows.sort(
    (a, b) =>
      cmp(a.workerId, b.workerId) ||
      cmp(a.assignmentId, b.assignmentId) ||
      // The overpaid total of a pair after its bonuses, which explain it.
      Number(a.status === 'overpaid') - Number(b.status === 'overpaid') ||
      (a.line ?? Infinity) - (b.line ?? Infinity) ||
      cmp(a.grantTime ?? '', b.grantTime ?? ''),
  );
  return { rows, summary };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function matchFile(
  input: AuditInput,
  originals: readonly ListedBonus[],
  duplicates: readonly ListedBonus[],
  rows: AuditRow[],
  summary: AuditSummary,
  fromBonus: (b: ListedBonus, status: AuditStatus, detail: string) => AuditRow,
): void {
  const asked = input.asked!;
  const unknownLines = new Set((input.unknown ?? []).map((u) => u.row.line));
  const fromRow = (r: AskedBonus, status: AuditStatus, detail: string): AuditRow => {
    const hitId = input.hitOfAssignment?.get(r.assignmentId);
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
  };

  // Per (assignment, worker): the rows asking and the bonuses paid (first copies only).
  const open = new Map<string, ListedBonus[]>();
  for (const b of originals) {
    const key = pairKey(b.assignmentId, b.workerId);
    open.set(key, [...(open.get(key) ?? []), b]);
  }
  const take = (r: AskedBonus, fits: (b: ListedBonus) => boolean): ListedBonus | undefined => {
    const list = open.get(pairKey(r.assignmentId, r.workerId)) ?? [];
    const index = list.findIndex(fits);
    return index < 0 ? undefined : list.splice(index, 1)[0];
  };
  const pending = asked.filter((r) => !unknownLines.has(r.line));
  const sameReason = (r: AskedBonus) => (b: ListedBonus) =>
    normaliseReason(b.reason) === normaliseReason(r.reason);

  let paidAsAsked = 0;
  let wrongAmount = 0;
  let reasonDiffers = 0;
  const missing: AskedBonus[] = [];
  const passes: [
    (r: AskedBonus) => (b: ListedBonus) => boolean,
    (r: AskedBonus, b: ListedBonus) => void,
  ][] = [
    [
      (r) => (b) => b.amountCents === r.amountCents && sameReason(r)(b),
      (r, b) => {
        paidAsAsked += 1;
        rows.push({ ...fromBonus(b, 'paid', ''), line: r.line, askedCents: r.amountCents });
      },
    ],
    [
      sameReason,
      (r, b) => {
        wrongAmount += 1;
        rows.push({
          ...fromBonus(
            b,
            'wrong-amount',
            `line ${r.line} asks ${dollars(r.amountCents)}, MTurk paid ${dollars(b.amountCents)}`,
          ),
          line: r.line,
          askedCents: r.amountCents,
        });
      },
    ],
    [
      (r) => (b) => b.amountCents === r.amountCents,
      (r, b) => {
        reasonDiffers += 1;
        rows.push({
          ...fromBonus(
            b,
            'reason-differs',
            `line ${r.line} asks the same amount with reason ${JSON.stringify(r.reason)}: the same payment, or another one?`,
          ),
          line: r.line,
          askedCents: r.amountCents,
        });
      },
    ],
  ];
  let left = pending;
  for (const [fits, record] of passes) {
    const stillOpen: AskedBonus[] = [];
    for (const r of left) {
      const b = take(r, fits(r));
      if (b) record(r, b);
      else stillOpen.push(r);
    }
    left = stillOpen;
  }
  for (const r of left) {
    missing.push(r);
    rows.push(
      fromRow(
        r,
        'missing',
        // MTurk's listing may be eventually consistent: a just-paid bonus can be absent a while.
        "not in MTurk's ledger (a bonus paid in the last minutes may not be listed yet: audit again before paying it)",
      ),
    );
  }
  for (const u of input.unknown ?? []) {
    rows.push(fromRow(u.row, 'unknown-assignment', u.message));
  }
  const notInFile: ListedBonus[] = [];
  for (const list of open.values()) {
    for (const b of list) {
      notInFile.push(b);
      rows.push(fromBonus(b, 'not-in-file', 'paid, but no row of the file asks for it'));
    }
  }

  // Overpaid: per (assignment, worker), everything paid (duplicates too) against everything asked.
  const paidOf = new Map<string, number>();
  for (const b of [...originals, ...duplicates]) {
    const key = pairKey(b.assignmentId, b.workerId);
    paidOf.set(key, (paidOf.get(key) ?? 0) + b.amountCents);
  }
  const askedOf = new Map<string, number>();
  for (const r of asked) {
    const key = pairKey(r.assignmentId, r.workerId);
    askedOf.set(key, (askedOf.get(key) ?? 0) + r.amountCents);
  }
  let overpaidCount = 0;
  let overpaidCents = 0;
  for (const [key, paid] of paidOf) {
    const want = askedOf.get(key) ?? 0;
    if (paid <= want) continue;
    const [assignmentId = '', workerId = ''] = key.split('\n');
    overpaidCount += 1;
    overpaidCents += paid - want;
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

  summary.asked = total(asked.map((r) => r.amountCents));
  summary.paidAsAsked = paidAsAsked;
  summary.missing = total(missing.map((r) => r.amountCents));
  summary.wrongAmount = wrongAmount;
  summary.reasonDiffers = reasonDiffers;
  summary.notInFile = total(notInFile.map((b) => b.amountCents));
  summary.overpaid = { count: overpaidCount, cents: overpaidCents };
  summary.unknownAssignments = input.unknown?.length ?? 0;
}
