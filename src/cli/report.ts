/**
 * The report of a `pay` run: one line per data line of the input file, in file order, with what
 * happened to it and the receipts (MTurk request ID, workflow ID, token), plus a summary.
 * CSV by default (summary as trailing "# " comment lines); JSON when the name ends in .json.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { stringify } from 'csv-stringify/sync';
import { mturkFeeCents, parseDollarsToCents } from '../common/money';
import type { BatchRowResult, BatchRowStatus } from '../common/batch';
import { dollars, type BatchPlan } from './batch-plan';
import type { BonusFile, CsvLine } from './csv-input';

export type ReportStatus = BatchRowStatus | 'invalid' | 'duplicate';

export const REPORT_COLUMNS = [
  'line',
  'assignmentId',
  'workerId',
  'amount',
  'status',
  'foundBy',
  'requestId',
  'workflowId',
  'token',
  'notification',
  'error',
] as const;

export interface ReportRow {
  line: number;
  assignmentId: string;
  workerId: string;
  amount: string;
  status: ReportStatus;
  /** For already-paid rows: listing, token or workflow (see FoundPaidBy). */
  foundBy: string;
  requestId: string;
  workflowId: string;
  token: string;
  /** With --notify: sent, skipped (found already paid) or failed: <why>. */
  notification: string;
  error: string;
}

export interface ReportSummary {
  file: string;
  batchId: string;
  target: string;
  generatedAt: string;
  /** Data lines in the file. */
  lines: number;
  /** Distinct payments in the batch. */
  payments: number;
  paid: number;
  alreadyPaid: number;
  /** Of alreadyPaid: found on MTurk's listing before anything was sent. */
  alreadyPaidByListing: number;
  /** Of alreadyPaid: MTurk refused the token as used, and the listing confirmed it. */
  alreadyPaidByToken: number;
  /** Of alreadyPaid: a payment workflow of an earlier run or another starter had paid it. */
  alreadyPaidByWorkflow: number;
  failed: number;
  /** Of failed: MTurk lists another bonus in the row's place (PaymentConflict). */
  conflicts: number;
  /** Token used, bonus not listed yet: waiting for the listing or an operator. */
  unconfirmed: number;
  waitingForFunds: number;
  inFlight: number;
  pending: number;
  invalid: number;
  duplicates: number;
  /** Bonuses this run paid, and the fee MTurk charges on them (estimated, see money.ts). */
  paidNow: string;
  feesNow: string;
  /** Every line is paid, already paid, or a repeat of one that is. */
  allPaid: boolean;
}

export interface Report {
  summary: ReportSummary;
  rows: ReportRow[];
}

export interface ReportContext {
  batchId: string;
  target: string;
  /**
   * The batch had finished before this command ran: nothing was paid now, so rows it paid are
   * reported `already-paid`.
   */
  finishedEarlier: boolean;
  /** This run asked to notify workers (--notify). */
  notify?: boolean;
}

function notificationOf(result: BatchRowResult, status: ReportStatus, context: ReportContext) {
  if (result.notificationFailure) return `failed: ${result.notificationFailure}`;
  if (!context.notify || context.finishedEarlier) return '';
  if (status === 'paid') return 'sent';
  return status === 'already-paid' ? 'skipped' : '';
}

export function defaultReportPath(csvPath: string): string {
  return `${csvPath}.report.csv`;
}

export function buildReport(
  file: BonusFile,
  plan: BatchPlan,
  results: readonly BatchRowResult[],
  context: ReportContext,
): Report {
  const resultOfLine = resultsByLine(plan, results);
  const rows = file.lines.map((entry) => reportRow(entry, resultOfLine, context));
  return { summary: summarise(file, plan, rows, resultOfLine, context), rows };
}

/** The batch's result of each payment, by the file line the payment came from. */
function resultsByLine(
  plan: BatchPlan,
  results: readonly BatchRowResult[],
): Map<number, BatchRowResult> {
  const resultOfLine = new Map<number, BatchRowResult>();
  plan.payments.forEach((payment, index) => {
    const result = results[index];
    if (result) resultOfLine.set(payment.line, result);
  });
  return resultOfLine;
}

/** The line whose payment decides this line's fate: a repeat shares the first line's payment. */
function paymentLine(entry: CsvLine): number {
  return entry.kind === 'duplicate' ? entry.sameAs! : entry.line;
}

type ReportRowBase = Omit<ReportRow, 'status'>;

function reportRow(
  entry: CsvLine,
  resultOfLine: ReadonlyMap<number, BatchRowResult>,
  context: ReportContext,
): ReportRow {
  const base: ReportRowBase = {
    line: entry.line,
    assignmentId: entry.cells.assignmentId ?? '',
    workerId: entry.cells.workerId ?? '',
    amount: entry.request?.bonusAmount ?? entry.cells.amount ?? '',
    foundBy: '',
    requestId: '',
    workflowId: '',
    token: '',
    notification: '',
    error: '',
  };
  if (entry.kind === 'invalid') return invalidRow(base, entry);
  const sourceLine = paymentLine(entry);
  const result = resultOfLine.get(sourceLine);
  if (!result) return { ...base, status: 'pending', error: 'not part of the batch result' };
  if (entry.kind === 'duplicate') {
    return {
      ...base,
      status: 'duplicate',
      workflowId: result.workflowId,
      error: `repeats line ${sourceLine} (${result.status} there); paid at most once`,
    };
  }
  return paymentRow(base, result, context);
}

function invalidRow(base: ReportRowBase, entry: CsvLine): ReportRow {
  const error = entry.issues
    .map((i) => (i.column ? `${i.column} ${i.message}` : i.message))
    .join('; ');
  return { ...base, status: 'invalid', error };
}

/** A line the batch paid (or tried to): its outcome and receipts. */
function paymentRow(
  base: ReportRowBase,
  result: BatchRowResult,
  context: ReportContext,
): ReportRow {
  const paidByEarlierRun = context.finishedEarlier && result.status === 'paid';
  const status: ReportStatus = paidByEarlierRun ? 'already-paid' : result.status;
  const error = result.error ?? result.errorType ?? '';
  return {
    ...base,
    status,
    foundBy: paidByEarlierRun ? 'workflow' : (result.foundBy ?? ''),
    notification: notificationOf(result, status, context),
    requestId: result.requestId ?? '',
    workflowId: result.workflowId,
    token: result.token ?? '',
    error: result.errorType && result.error ? `${result.errorType}: ${result.error}` : error,
  };
}

function summarise(
  file: BonusFile,
  plan: BatchPlan,
  rows: readonly ReportRow[],
  resultOfLine: ReadonlyMap<number, BatchRowResult>,
  context: ReportContext,
): ReportSummary {
  const count = (status: ReportStatus) => rows.filter((r) => r.status === status).length;
  const foundBy = (how: string) =>
    rows.filter((r) => r.status === 'already-paid' && r.foundBy === how).length;
  const paidNowCents = rows
    .filter((r) => r.status === 'paid')
    .map((r) => parseDollarsToCents(r.amount));
  return {
    file: file.path,
    batchId: context.batchId,
    target: context.target,
    generatedAt: new Date().toISOString(),
    lines: rows.length,
    payments: plan.payments.length,
    paid: count('paid'),
    alreadyPaid: count('already-paid'),
    alreadyPaidByListing: foundBy('listing'),
    alreadyPaidByToken: foundBy('token'),
    alreadyPaidByWorkflow: foundBy('workflow'),
    failed: count('failed'),
    conflicts: rows.filter((r) => r.status === 'failed' && r.error.startsWith('PaymentConflict'))
      .length,
    unconfirmed: count('unconfirmed'),
    waitingForFunds: count('waiting-for-funds'),
    inFlight: count('in-flight'),
    pending: count('pending'),
    invalid: count('invalid'),
    duplicates: count('duplicate'),
    paidNow: dollars(paidNowCents.reduce((a, b) => a + b, 0)),
    feesNow: dollars(paidNowCents.reduce((a, b) => a + mturkFeeCents(b), 0)),
    allPaid: allPaid(file, resultOfLine),
  };
}

/** Every line is paid, already paid, or a repeat of one that is. */
function allPaid(file: BonusFile, resultOfLine: ReadonlyMap<number, BatchRowResult>): boolean {
  return file.lines.every((entry) => {
    if (entry.kind === 'invalid') return false;
    const status = resultOfLine.get(paymentLine(entry))?.status;
    return status === 'paid' || status === 'already-paid';
  });
}

export function summaryLines(s: ReportSummary): string[] {
  const how = [
    s.alreadyPaidByListing && `${s.alreadyPaidByListing} on MTurk's listing`,
    s.alreadyPaidByToken && `${s.alreadyPaidByToken} by used token`,
    s.alreadyPaidByWorkflow && `${s.alreadyPaidByWorkflow} by an earlier payment workflow`,
  ].filter(Boolean);
  const lines = [
    `${s.lines} lines, ${s.payments} payments: paid ${s.paid}, already paid ${s.alreadyPaid}` +
      (how.length > 0 ? ` (${how.join(', ')})` : '') +
      `, failed ${s.failed} (conflicts ${s.conflicts}), invalid ${s.invalid}, duplicates ${s.duplicates}` +
      (s.unconfirmed > 0 ? `, unconfirmed ${s.unconfirmed}` : '') +
      (s.inFlight + s.pending > 0 ? `, not finished ${s.inFlight + s.pending}` : ''),
    `paid now: ${s.paidNow} in bonuses + ${s.feesNow} MTurk fees (on ${s.target})`,
  ];
  return lines;
}

/** Writes atomically (temporary file, then rename) so a reader never sees half a report. */
export function writeReport(path: string, report: Report): void {
  const body = path.toLowerCase().endsWith('.json')
    ? `${JSON.stringify(report, null, 2)}\n`
    : stringify(report.rows, { header: true, columns: [...REPORT_COLUMNS] }) +
      Object.entries(report.summary)
        .map(([key, value]) => `# ${key}: ${String(value)}\n`)
        .join('');
  writeFileAtomically(path, body);
}

/** A temporary file, then a rename: a reader never sees half a report. */
export function writeFileAtomically(path: string, body: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, body, 'utf8');
  renameSync(temporary, path);
}
