/**
 * Reading a bonus CSV. Every problem in the file is found at once and named by line, column and
 * reason, before anything is sent anywhere: a file with one typo must not pay half a batch.
 *
 * Format: UTF-8 (a BOM is stripped), a header row, columns assignmentId, workerId, amount,
 * reason and optionally bonusKey and feedback (header names match ignoring case, spaces, "_"
 * and "-", so MTurk's "AssignmentId" works); other columns are ignored with a warning. Quoted
 * fields may hold commas, quotes ("") and line breaks. Cells are checked by validation.ts.
 *
 * MTurk's own results file (the batch-results CSV its requester site exports: HITId,
 * AssignmentId, WorkerId, AssignmentStatus, Answer.*, ...) is recognised by its header and read
 * too: the bonus comes from the column named by `amountColumn` (requesters add one, or compute
 * it in an Answer.* field), the reason from `reason` (one text for every row) or
 * `reasonColumn`. Rows whose amount cell is empty are skipped and counted, not errors: a results
 * file lists every assignment, and usually only some earn a bonus.
 */
import { readFileSync } from 'node:fs';
import { CsvError, parse } from 'csv-parse/sync';
import {
  checkBonusRow,
  checkReason,
  type ValidatedApproveAndBonusInput,
  type ValidationLimits,
} from '../common/validation';

export const REQUIRED_COLUMNS = ['assignmentId', 'workerId', 'amount', 'reason'] as const;
export const OPTIONAL_COLUMNS = ['bonusKey', 'feedback'] as const;
export type Column = (typeof REQUIRED_COLUMNS)[number] | (typeof OPTIONAL_COLUMNS)[number];

/** The request field (validation.ts) each column feeds. */
const FIELD_OF_COLUMN: Record<Column, string> = {
  assignmentId: 'assignmentId',
  workerId: 'workerId',
  amount: 'bonusAmount',
  reason: 'reason',
  bonusKey: 'bonusKey',
  feedback: 'requesterFeedback',
};
const COLUMN_OF_FIELD = new Map(Object.entries(FIELD_OF_COLUMN).map(([c, f]) => [f, c]));
/** Other spellings seen in the wild, after normalising (lowercase, no separators). */
const ALIASES: Record<string, Column> = { bonusamount: 'amount', requesterfeedback: 'feedback' };

export interface CsvIssue {
  /** 1-based line of the file; 0 for the file as a whole. */
  line: number;
  column?: string;
  message: string;
}

export type CsvLineKind = 'valid' | 'duplicate' | 'invalid';

export interface CsvLine {
  /** 1-based line where the record starts. */
  line: number;
  cells: Partial<Record<Column, string>>;
  /** `valid`: a payment. `duplicate`: the same payment as line `sameAs`. `invalid`: see issues. */
  kind: CsvLineKind;
  request?: ValidatedApproveAndBonusInput;
  sameAs?: number;
  issues: CsvIssue[];
}

/** How to read MTurk's results file; the plain bonus format takes none of these. */
export interface ResultsFileOptions {
  /** The column holding each row's bonus in dollars (exact header, or matched loosely). */
  amountColumn?: string;
  /** One reason for every row. */
  reason?: string;
  /** The column holding each row's reason. */
  reasonColumn?: string;
}

export type BonusFileFormat = 'bonus-csv' | 'mturk-results';

export interface BonusFile {
  path: string;
  format: BonusFileFormat;
  /** Results file: the HIT of each data line (by line), for listing bonuses per HIT. */
  hitOfLine?: Map<number, string>;
  /** Results file: lines skipped because their amount cell is empty. */
  skippedLines: number[];
  /** Every data line, in file order. */
  lines: CsvLine[];
  /** Problems with the file as a whole (not UTF-8, no header, missing column, broken quotes). */
  fileIssues: CsvIssue[];
  warnings: string[];
}

export function readBonusFile(
  path: string,
  limits: ValidationLimits = {},
  results: ResultsFileOptions = {},
): BonusFile {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    const file = emptyBonusFile(path);
    file.fileIssues.push({ line: 0, message: `cannot read ${path}: ${reason}` });
    return file;
  }
  return parseBonusCsv(bytes, path, limits, results);
}

/** A plain bonus file with nothing read yet: parsing fills it in, or adds file issues. */
function emptyBonusFile(path: string): BonusFile {
  return { path, format: 'bonus-csv', skippedLines: [], lines: [], fileIssues: [], warnings: [] };
}

function normaliseHeader(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '');
}

function columnOf(header: string): Column | undefined {
  const normalised = normaliseHeader(header);
  const known = [...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].find(
    (c) => c.toLowerCase() === normalised,
  );
  return known ?? ALIASES[normalised];
}

/** Strict UTF-8; on failure, the first line that does not decode. */
function decodeUtf8(bytes: Buffer): { text: string } | { badLine: number } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    let line = 1;
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i === bytes.length || bytes[i] === 0x0a) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(start, i));
        } catch {
          return { badLine: line };
        }
        line += 1;
        start = i + 1;
      }
    }
    return { badLine: 1 };
  }
}

interface RawRecord {
  record: string[];
  info: { lines: number; empty_lines: number };
}

/** Columns only MTurk's results file has; with AssignmentId and WorkerId they identify it. */
const RESULTS_FILE_MARKERS = ['hitid', 'assignmentstatus'];

function isResultsHeader(header: readonly string[]): boolean {
  const names = new Set(header.map(normaliseHeader));
  return RESULTS_FILE_MARKERS.every((m) => names.has(m));
}

function hasResultsOptions(o: ResultsFileOptions): boolean {
  return o.amountColumn !== undefined || o.reason !== undefined || o.reasonColumn !== undefined;
}

/** Index of a column: the exact header first, then the loose match the plain format uses. */
function findColumn(header: readonly string[], name: string): number | undefined {
  const exact = header.indexOf(name);
  if (exact >= 0) return exact;
  const loose = header.findIndex((h) => normaliseHeader(h) === normaliseHeader(name));
  return loose >= 0 ? loose : undefined;
}

/** Where each field of a row comes from: a column index, or (reason) one text for all rows. */
interface RowSource {
  columns: Map<Column, number>;
  fixedReason?: string;
  /** Results file: the column whose empty cell means "no bonus for this row". */
  skipWhenEmpty?: number;
  hitColumn?: number;
}

/** The columns found so far for a results file's rows, and what could not be found. */
interface ResultsColumns {
  header: readonly string[];
  /** The header's line, where a missing column is reported. */
  line: number;
  columns: Map<Column, number>;
  issues: CsvIssue[];
}

/**
 * The row source of a results file, or file issues saying which option is missing. Only
 * AssignmentId, WorkerId, the amount and reason (and a bonusKey column, if the requester added
 * one) are used: MTurk's RequesterFeedback column holds feedback already given, not new text.
 */
function resultsSource(
  header: readonly string[],
  options: ResultsFileOptions,
  line: number,
  file: BonusFile,
): RowSource | undefined {
  const found: ResultsColumns = { header, line, columns: new Map(), issues: [] };
  requireColumn(found, 'AssignmentId', 'assignmentId');
  requireColumn(found, 'WorkerId', 'workerId');
  const hitColumn = findColumn(header, 'HITId');
  const bonusKey = header.findIndex((h) => normaliseHeader(h) === 'bonuskey');
  if (bonusKey >= 0) found.columns.set('bonusKey', bonusKey);
  const skipWhenEmpty = findAmountColumn(found, options);
  const fixedReason = findReason(found, options);
  if (found.issues.length > 0) {
    file.fileIssues.push(...found.issues);
    return undefined;
  }
  const source = { columns: found.columns, fixedReason, skipWhenEmpty, hitColumn };
  file.warnings.push(describeResultsSource(header, source, options.reasonColumn));
  return source;
}

/** What the results file is read from, and how many of its columns are left unread. */
function describeResultsSource(
  header: readonly string[],
  source: RowSource,
  reasonColumn: string | undefined,
): string {
  const { columns, hitColumn, skipWhenEmpty, fixedReason } = source;
  const used = new Set([...columns.values(), ...(hitColumn === undefined ? [] : [hitColumn])]);
  return (
    `MTurk results file: bonus from column "${header[skipWhenEmpty!]}", reason from ` +
    (fixedReason !== undefined ? '--reason' : `column "${reasonColumn}"`) +
    `; ${header.length - used.size} other columns not used`
  );
}

function requireColumn(found: ResultsColumns, name: string, column: Column): void {
  const index = findColumn(found.header, name);
  if (index === undefined)
    found.issues.push({ line: found.line, message: `has no ${name} column` });
  else found.columns.set(column, index);
}

/** The --amount-column's index, which is also the cell whose emptiness skips a row. */
function findAmountColumn(found: ResultsColumns, options: ResultsFileOptions): number | undefined {
  const { header, line } = found;
  if (options.amountColumn === undefined) {
    found.issues.push({
      line: 0,
      message:
        "is MTurk's results file: name the column that holds each bonus with --amount-column " +
        `(e.g. --amount-column Answer.bonus; columns: ${header.join(', ')})`,
    });
    return undefined;
  }
  const index = findColumn(header, options.amountColumn);
  if (index === undefined) {
    found.issues.push({
      line,
      message: `has no column ${JSON.stringify(options.amountColumn)} (--amount-column; columns: ${header.join(', ')})`,
    });
    return undefined;
  }
  found.columns.set('amount', index);
  return index;
}

/** Exactly one of --reason (returned, as every row's reason) and --reason-column (a column). */
function findReason(found: ResultsColumns, options: ResultsFileOptions): string | undefined {
  if ((options.reason === undefined) === (options.reasonColumn === undefined)) {
    found.issues.push({
      line: 0,
      message:
        "is MTurk's results file: give the reason workers see, either --reason '<text>' for " +
        'every row or --reason-column <name> (exactly one of them)',
    });
    return undefined;
  }
  if (options.reason !== undefined) {
    const problem = checkReason(options.reason);
    if (problem) found.issues.push({ line: 0, message: `--reason ${problem}` });
    return options.reason;
  }
  const index = findColumn(found.header, options.reasonColumn!);
  if (index === undefined) {
    found.issues.push({
      line: found.line,
      message: `has no column ${JSON.stringify(options.reasonColumn)} (--reason-column)`,
    });
  } else {
    found.columns.set('reason', index);
  }
  return undefined;
}

export function parseBonusCsv(
  bytes: Buffer,
  path: string,
  limits: ValidationLimits = {},
  results: ResultsFileOptions = {},
): BonusFile {
  const file = emptyBonusFile(path);
  const text = decodeText(bytes, file);
  const records = text === undefined ? undefined : parseRecords(text, file);
  if (records === undefined) return file;
  const [header, ...data] = records;
  if (!header) {
    file.fileIssues.push({
      line: 0,
      message: 'is empty: expected a header row and one row per bonus',
    });
    return file;
  }
  const source = rowSource(header, results, file);
  if (file.fileIssues.length > 0 || !source) return file;
  checkDataLines(file, header, data, source, limits);
  if (file.lines.length === 0) {
    file.fileIssues.push({
      line: 0,
      message:
        file.skippedLines.length > 0
          ? `has no row with an amount (${file.skippedLines.length} rows with an empty amount cell)`
          : 'has a header but no rows',
    });
  }
  markDuplicates(file);
  return file;
}

/** The file as text without a BOM, or undefined with a file issue when it is not UTF-8. */
function decodeText(bytes: Buffer, file: BonusFile): string | undefined {
  const decoded = decodeUtf8(bytes);
  if ('badLine' in decoded) {
    file.fileIssues.push({
      line: decoded.badLine,
      message: 'is not valid UTF-8 (save the file as UTF-8 CSV)',
    });
    return undefined;
  }
  return decoded.text.replace(/^\uFEFF/, '');
}

/** Every record with where it ends, or undefined with a file issue when the CSV is broken. */
function parseRecords(text: string, file: BonusFile): RawRecord[] | undefined {
  try {
    return parse(text, {
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
    }) as unknown as RawRecord[];
  } catch (err) {
    const line =
      err instanceof CsvError ? Number((err as CsvError & { lines?: number }).lines ?? 0) : 0;
    file.fileIssues.push({ line, message: `is not valid CSV: ${(err as Error).message}` });
    return undefined;
  }
}

/** How to read the rows, by the header: MTurk's results file, or the plain bonus format. */
function rowSource(
  header: RawRecord,
  results: ResultsFileOptions,
  file: BonusFile,
): RowSource | undefined {
  if (isResultsHeader(header.record)) {
    file.format = 'mturk-results';
    file.hitOfLine = new Map();
    return resultsSource(header.record, results, header.info.lines, file);
  }
  if (hasResultsOptions(results)) {
    file.fileIssues.push({
      line: header.info.lines,
      message:
        "--amount-column, --reason and --reason-column apply to MTurk's results file only " +
        '(a header with HITId, AssignmentId, WorkerId, AssignmentStatus); this file has the ' +
        `columns ${header.record.join(', ')}`,
    });
    return undefined;
  }
  return plainSource(header, file);
}

/** Each data record checked into file.lines, or (results file, no amount) into skippedLines. */
function checkDataLines(
  file: BonusFile,
  header: RawRecord,
  data: readonly RawRecord[],
  source: RowSource,
  limits: ValidationLimits,
): void {
  // csv-parse reports where a record ends; it starts after the previous one and any blank lines.
  let previousEnd = header.info.lines;
  let previousEmpty = header.info.empty_lines;
  for (const { record, info } of data) {
    const line = previousEnd + 1 + (info.empty_lines - previousEmpty);
    previousEnd = info.lines;
    previousEmpty = info.empty_lines;
    if (
      source.skipWhenEmpty !== undefined &&
      record.length === header.record.length &&
      (record[source.skipWhenEmpty] ?? '').trim() === ''
    ) {
      file.skippedLines.push(line);
      continue;
    }
    if (source.hitColumn !== undefined) {
      const hitId = record[source.hitColumn];
      if (hitId) file.hitOfLine?.set(line, hitId);
    }
    file.lines.push(checkLine(line, record, header.record.length, source, limits));
  }
}

/** The plain bonus format: columns found by name (see the file comment). */
function plainSource(header: RawRecord, file: BonusFile): RowSource | undefined {
  const columns = header.record.map(columnOf);
  const seen = new Map<Column, number>();
  columns.forEach((column, i) => {
    const name = header.record[i] ?? '';
    if (column === undefined) {
      file.warnings.push(
        `column "${name}" is not used (columns: ${[...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS].join(', ')})`,
      );
    } else if (seen.has(column)) {
      file.fileIssues.push({
        line: header.info.lines,
        column: name,
        message: `appears twice in the header (columns ${seen.get(column)! + 1} and ${i + 1})`,
      });
    } else {
      seen.set(column, i);
    }
  });
  const missing = REQUIRED_COLUMNS.filter((c) => !seen.has(c));
  if (missing.length > 0) {
    file.fileIssues.push({
      line: header.info.lines,
      message:
        `header lacks ${missing.join(', ')} (found: ${header.record.join(', ') || 'nothing'}); ` +
        `the first row must name the columns ${REQUIRED_COLUMNS.join(', ')}`,
    });
  }
  if (file.fileIssues.length > 0) return undefined;
  return { columns: seen };
}

function checkLine(
  line: number,
  record: string[],
  width: number,
  source: RowSource,
  limits: ValidationLimits,
): CsvLine {
  const cells: CsvLine['cells'] = {};
  for (const [column, index] of source.columns) cells[column] = record[index];
  if (source.fixedReason !== undefined) cells.reason = source.fixedReason;
  const entry: CsvLine = { line, cells, kind: 'invalid', issues: [] };
  if (record.length !== width) {
    entry.issues.push({ line, message: `has ${record.length} fields, the header has ${width}` });
    return entry;
  }
  const row: Record<string, string | undefined> = {};
  for (const [column, value] of Object.entries(cells))
    row[FIELD_OF_COLUMN[column as Column]] = value;
  const checked = checkBonusRow(row, limits);
  if (!checked.ok) {
    for (const issue of checked.issues) {
      entry.issues.push({
        line,
        column: COLUMN_OF_FIELD.get(issue.field) ?? issue.field,
        message: issue.message,
      });
    }
    return entry;
  }
  entry.kind = 'valid';
  entry.request = checked.value;
  return entry;
}

/** Fields that make two rows for one payment differ, by column name. */
function differences(a: ValidatedApproveAndBonusInput, b: ValidatedApproveAndBonusInput): string[] {
  const out: string[] = [];
  if (a.workerId !== b.workerId) out.push(`workerId (${a.workerId} vs ${b.workerId})`);
  if (a.bonusCents !== b.bonusCents) out.push(`amount (${a.bonusAmount} vs ${b.bonusAmount})`);
  if (a.reason !== b.reason) out.push('reason');
  if ((a.requesterFeedback ?? '') !== (b.requesterFeedback ?? '')) out.push('feedback');
  return out;
}

/**
 * One payment per assignment and bonus key. Exact repeats (after normalising, so "5" and
 * "5.00" are the same) collapse into the first with a warning; rows that disagree are all
 * invalid, since there is no telling which one the author meant. An assignment belongs to one
 * worker, so rows naming another worker for it are invalid too.
 */
function markDuplicates(file: BonusFile): void {
  const byPayment = new Map<string, CsvLine[]>();
  const byAssignment = new Map<string, CsvLine[]>();
  for (const entry of file.lines) {
    if (entry.kind !== 'valid' || !entry.request) continue;
    const key = `${entry.request.assignmentId}\n${entry.request.bonusKey ?? ''}`;
    byPayment.set(key, [...(byPayment.get(key) ?? []), entry]);
    const forAssignment = byAssignment.get(entry.request.assignmentId) ?? [];
    byAssignment.set(entry.request.assignmentId, [...forAssignment, entry]);
  }
  for (const group of byPayment.values()) {
    const [first, ...rest] = group;
    if (!first?.request || rest.length === 0) continue;
    const conflicting = rest.filter((e) => differences(first.request!, e.request!).length > 0);
    if (conflicting.length === 0) {
      for (const e of rest) {
        e.kind = 'duplicate';
        e.sameAs = first.line;
        file.warnings.push(`line ${e.line} repeats line ${first.line} exactly; paid once`);
      }
      continue;
    }
    const lines = group.map((e) => e.line).join(', ');
    for (const e of group) {
      const other = e === first ? conflicting[0]! : first;
      e.kind = 'invalid';
      e.issues.push({
        line: e.line,
        column: 'assignmentId',
        message:
          `lines ${lines} are the same payment (assignmentId${e.request!.bonusKey ? ' and bonusKey' : ''}) ` +
          `with different ${differences(e.request!, other.request!).join(', ')}; keep one, or give each a ` +
          'distinct bonusKey',
      });
    }
  }
  for (const group of byAssignment.values()) {
    const workers = new Set(group.map((e) => e.request!.workerId));
    if (workers.size < 2) continue;
    for (const e of group) {
      if (e.kind === 'invalid') continue;
      e.kind = 'invalid';
      e.issues.push({
        line: e.line,
        column: 'workerId',
        message: `assignment ${e.request!.assignmentId} appears with ${workers.size} different workers (lines ${group.map((g) => g.line).join(', ')})`,
      });
    }
  }
}

/** Every issue of the file, in line order. */
export function allIssues(file: BonusFile): CsvIssue[] {
  return [...file.fileIssues, ...file.lines.flatMap((l) => l.issues)].sort(
    (a, b) => a.line - b.line,
  );
}

export function formatIssue(path: string, issue: CsvIssue): string {
  const where = issue.line > 0 ? `${path}:${issue.line}` : path;
  return issue.column ? `${where}: ${issue.column} ${issue.message}` : `${where}: ${issue.message}`;
}

export function validLines(
  file: BonusFile,
): (CsvLine & { request: ValidatedApproveAndBonusInput })[] {
  return file.lines.filter(
    (l): l is CsvLine & { request: ValidatedApproveAndBonusInput } =>
      l.kind === 'valid' && !!l.request,
  );
}
