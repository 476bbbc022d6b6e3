/**
 * `temporal-mturk audit <file.csv | --hit HITId...>`: what MTurk really paid, read back from its
 * own ledger (ListBonusPayments), with duplicates found, and compared with a file of bonuses
 * when one is given (the file `pay` reads, or MTurk's results file).
 *
 * Needs no Temporal and writes nothing to MTurk: it works on payments made by any tool. Reads
 * are paced (at most three in flight, throttled calls tried again after a pause).
 */
import { stringify } from 'csv-stringify/sync';
import { reasonSentToMTurk } from '../common/bonus-reason';
import { formatCents } from '../common/money';
import { createMTurkClient, describeTarget } from '../mturk/client';
import { checkHitId } from '../common/validation';
import {
  auditLedger,
  CLEAN_STATUSES,
  type AskedBonus,
  type AuditResult,
  type AuditRow,
  type AuditSummary,
  type MoneyTotal,
} from './audit-check';
import { readLedger } from './audit-read';
import { dollars } from './batch-plan';
import {
  allIssues,
  formatIssue,
  readBonusFile,
  validLines,
  type BonusFile,
  type ResultsFileOptions,
} from './csv-input';
import { CliError, ExitCode, commandExitCode } from './exit-codes';
import { printer, processIO, type CliIO, type Print } from './io';
import { MAX_BONUS_CEILING_CENTS, resolveMTurkConfig } from './options';
import { MTurkReadError, type RetryOptions } from './paced';
import { writeFileAtomically } from './report';

export interface AuditOptions extends ResultsFileOptions {
  target?: string;
  endpoint?: string;
  hit?: string[];
  report?: string;
  /** Tests: shorter pauses between tries. */
  retry?: RetryOptions;
}

/** Discrepancies listed on the terminal; the report has them all. */
const MAX_LISTED_ROWS = 50;

export const AUDIT_REPORT_COLUMNS = [
  'status',
  'line',
  'hitId',
  'assignmentId',
  'workerId',
  'asked',
  'paid',
  'reason',
  'grantTime',
  'detail',
] as const;

export async function runAudit(
  file: string | undefined,
  opts: AuditOptions,
  io: CliIO = processIO(),
): Promise<number> {
  const print = printer(io);
  return commandExitCode(
    'audit',
    print,
    () => audit(file, opts, io, print),
    (err) =>
      err instanceof MTurkReadError ? `cannot read MTurk's ledger: ${err.message}` : undefined,
  );
}

/** The file's rows as asked bonuses, or exit 2 listing every problem. */
function readAsked(path: string, opts: AuditOptions, print: Print): BonusFile {
  // The audit pays nothing, so any amount a requester may have paid is a fair row to compare.
  const file = readBonusFile(path, { maxBonusCents: MAX_BONUS_CEILING_CENTS }, opts);
  for (const warning of file.warnings) print.out(`warning: ${warning}`);
  const invalid = file.lines.filter((l) => l.kind === 'invalid').length;
  if (file.fileIssues.length > 0 || invalid > 0) {
    for (const issue of allIssues(file)) print.err(formatIssue(path, issue));
    throw new CliError(
      file.fileIssues.length > 0
        ? 'the file cannot be read as a bonus CSV; nothing was audited'
        : `${invalid} of ${file.lines.length} rows are invalid; fix them to audit the file`,
      ExitCode.InvalidInput,
    );
  }
  return file;
}

function askedOf(file: BonusFile): AskedBonus[] {
  return validLines(file).map((l) => ({
    line: l.line,
    assignmentId: l.request.assignmentId,
    workerId: l.request.workerId,
    amountCents: l.request.bonusCents,
    // What this project sends for a keyed bonus, and so what MTurk's ledger shows.
    reason: reasonSentToMTurk(l.request.reason, l.request.bonusKey),
  }));
}

async function audit(
  path: string | undefined,
  opts: AuditOptions,
  io: CliIO,
  print: Print,
): Promise<number> {
  const mturk = resolveMTurkConfig(opts, io.env);
  const hitArgs = [...new Set(opts.hit ?? [])];
  for (const hitId of hitArgs) {
    const problem = checkHitId(hitId);
    if (problem) throw new CliError(`--hit ${problem}`, ExitCode.InvalidInput);
  }
  if (path === undefined && hitArgs.length === 0) {
    throw new CliError(
      'give a file of bonuses (or MTurk results file) to compare with, or --hit <HITId>...',
      ExitCode.InvalidInput,
    );
  }
  const file = path === undefined ? undefined : readAsked(path, opts, print);
  const asked = file ? askedOf(file) : undefined;
  const target = describeTarget(mturk);

  const client = createMTurkClient(mturk);
  try {
    const { listed, unknown, hitOfAssignment, scopes, calls } = await readLedger(
      client,
      file,
      asked,
      hitArgs,
      opts.retry,
      io,
    );
    const result = auditLedger({ listed, asked, unknown, hitOfAssignment });
    printResult(print, result, {
      target,
      path,
      file,
      scopes,
      calls,
    });
    if (opts.report) {
      writeAuditReport(opts.report, result, { target, file: path, hits: hitArgs });
      print.out(`report: ${opts.report}`);
    }
    return result.summary.discrepancies > 0 ? ExitCode.NotAllPaid : ExitCode.Ok;
  } finally {
    client.destroy();
  }
}

function money(t: MoneyTotal): string {
  return `${dollars(t.bonusCents)} + ${dollars(t.feeCents)} fees = ${dollars(t.bonusCents + t.feeCents)}`;
}

function printResult(
  print: Print,
  result: AuditResult,
  ctx: {
    target: string;
    path: string | undefined;
    file: BonusFile | undefined;
    scopes: { hits: number; assignments: number };
    calls: number;
  },
): void {
  const s = result.summary;
  print.out(`Audit of MTurk's ledger (${ctx.target})`);
  print.out(
    `  listed          ${ctx.scopes.hits} HITs, ${ctx.scopes.assignments} assignments (${ctx.calls} read calls, no writes)`,
  );
  print.out(`  bonuses         ${s.listed.count}: ${money(s.listed)}`);
  print.out(
    `  duplicates      ${s.duplicates.count}` +
      (s.duplicates.count > 0 ? `: ${money(s.duplicates)} paid twice` : ''),
  );
  if (s.asked && ctx.file) {
    const skipped =
      ctx.file.format === 'mturk-results'
        ? `; ${ctx.file.skippedLines.length} rows with no amount skipped`
        : '';
    print.out(`  file            ${ctx.path}: ${s.asked.count} bonuses asked${skipped}`);
    print.out(`  asked           ${money(s.asked)}`);
    print.out(`  paid as asked   ${s.paidAsAsked}`);
    print.out(
      `  missing         ${s.missing!.count}` +
        (s.missing!.count > 0 ? `: ${money(s.missing!)} not paid` : ''),
    );
    print.out(`  wrong amount    ${s.wrongAmount}`);
    print.out(`  reason differs  ${s.reasonDiffers}`);
    print.out(
      `  not in file     ${s.notInFile!.count}` +
        (s.notInFile!.count > 0 ? `: ${money(s.notInFile!)}` : ''),
    );
    print.out(
      `  overpaid        ${s.overpaid!.count} assignments` +
        (s.overpaid!.count > 0 ? `: ${dollars(s.overpaid!.cents)} more than asked` : ''),
    );
    if (s.unknownAssignments)
      print.out(
        `  unknown         ${s.unknownAssignments} rows name an assignment MTurk does not know`,
      );
  }
  const problems = result.rows.filter((r) => !CLEAN_STATUSES.has(r.status));
  if (problems.length === 0) {
    print.out('No discrepancies.');
    return;
  }
  print.out(`${problems.length} discrepancies:`);
  for (const row of problems.slice(0, MAX_LISTED_ROWS)) print.out(`  ${describeRow(row)}`);
  if (problems.length > MAX_LISTED_ROWS) {
    print.out(`  ... and ${problems.length - MAX_LISTED_ROWS} more (all in the report: --report)`);
  }
}

function describeRow(r: AuditRow): string {
  const where = `${r.line !== undefined ? `line ${r.line}: ` : ''}assignment ${r.assignmentId} worker ${r.workerId}`;
  const amount =
    r.status === 'overpaid'
      ? ''
      : ` ${dollars(r.paidCents ?? r.askedCents ?? 0)} ${JSON.stringify(r.reason)}`;
  return `${r.status.padEnd(18)} ${where}${amount}${r.detail ? `: ${r.detail}` : ''}`;
}

function flatSummary(s: AuditSummary): Record<string, string | number> {
  const out: Record<string, string | number> = { discrepancies: s.discrepancies };
  const put = (name: string, t: MoneyTotal | undefined) => {
    if (!t) return;
    out[`${name}Count`] = t.count;
    out[`${name}Bonuses`] = dollars(t.bonusCents);
    out[`${name}Fees`] = dollars(t.feeCents);
  };
  put('listed', s.listed);
  put('duplicates', s.duplicates);
  put('asked', s.asked);
  put('missing', s.missing);
  put('notInFile', s.notInFile);
  if (s.paidAsAsked !== undefined) out.paidAsAsked = s.paidAsAsked;
  if (s.wrongAmount !== undefined) out.wrongAmount = s.wrongAmount;
  if (s.reasonDiffers !== undefined) out.reasonDiffers = s.reasonDiffers;
  if (s.overpaid) {
    out.overpaidAssignments = s.overpaid.count;
    out.overpaid = dollars(s.overpaid.cents);
  }
  if (s.unknownAssignments !== undefined) out.unknownAssignments = s.unknownAssignments;
  return out;
}

function writeAuditReport(
  path: string,
  result: AuditResult,
  ctx: { target: string; file: string | undefined; hits: string[] },
): void {
  const summary = {
    target: ctx.target,
    file: ctx.file ?? '',
    hits: ctx.hits.join(' '),
    generatedAt: new Date().toISOString(),
    ...flatSummary(result.summary),
  };
  const rows = result.rows.map((r) => ({
    status: r.status,
    line: r.line ?? '',
    hitId: r.hitId ?? '',
    assignmentId: r.assignmentId,
    workerId: r.workerId,
    asked: r.askedCents === undefined ? '' : formatCents(r.askedCents),
    paid: r.paidCents === undefined ? '' : formatCents(r.paidCents),
    reason: r.reason,
    grantTime: r.grantTime ?? '',
    detail: r.detail,
  }));
  const body = path.toLowerCase().endsWith('.json')
    ? `${JSON.stringify({ summary, rows }, null, 2)}\n`
    : stringify(rows, { header: true, columns: [...AUDIT_REPORT_COLUMNS] }) +
      Object.entries(summary)
        .map(([key, value]) => `# ${key}: ${String(value)}\n`)
        .join('');
  writeFileAtomically(path, body);
}
