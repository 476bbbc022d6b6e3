/**
 * `temporal-mturk status <file.csv | batch-id>`: where a batch stands, from any terminal.
 * Read-only: never starts or changes anything.
 */
import { existsSync } from 'node:fs';
import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  batchResultRows,
  type BatchProgress,
  type BatchProgressRequest,
  type BatchRowResult,
  type PayBatchResult,
} from '../common/batch';
import { describeFailure } from '../common/failures';
import { BATCH_ID_PREFIX, planBatch, type BatchPlan } from './batch-plan';
import { allIssues, formatIssue, readBonusFile, type ResultsFileOptions } from './csv-input';
import { CliError, ExitCode, commandExitCode } from './exit-codes';
import { printer, processIO, type CliIO, type Print } from './io';
import { connectClient, resolveOptions, type CommonOptions } from './options';
import { formatCounts } from './progress';
import { MAX_SAFE_CENTS } from '../common/money';
import { queryWithin } from '../query-within';

/** Rows not paid listed at most; the report of `pay` has them all. */
const MAX_LISTED_ROWS = 50;
const QUERY_DEADLINE_MS = 5_000;

export type StatusOptions = CommonOptions & ResultsFileOptions;

export async function runStatus(
  target: string,
  opts: StatusOptions,
  io: CliIO = processIO(),
): Promise<number> {
  const print = printer(io);
  return commandExitCode('status', print, () => status(target, opts, io, print));
}

interface FilePlan {
  plan: BatchPlan;
  /** Lines of the file that are not part of the batch (invalid under the cap it was paid with). */
  invalidLines: number;
}

/**
 * The plans the file may have been paid as. The batch holds the file's valid rows, and which
 * rows are valid depends on the --max-bonus the batch was paid with: the cap given here, no cap
 * at all (every row within any cap), and the default cap, so `status` finds a batch paid with
 * `--max-bonus` even when it is not repeated.
 */
function plansOf(path: string, opts: StatusOptions, io: CliIO): FilePlan[] {
  const resolved = resolveOptions(opts, io.env);
  const caps = [resolved.maxBonusCents, MAX_SAFE_CENTS, undefined];
  const plans: FilePlan[] = [];
  for (const maxBonusCents of caps) {
    const file = readBonusFile(path, { maxBonusCents }, opts);
    if (file.fileIssues.length > 0) {
      throw new CliError(
        allIssues(file)
          .map((i) => formatIssue(path, i))
          .join('\n'),
        ExitCode.InvalidInput,
      );
    }
    // As `pay --skip-invalid` would: the batch holds the valid rows only.
    const plan = planBatch(file);
    if (plans.some((p) => p.plan.batchId === plan.batchId)) continue;
    plans.push({ plan, invalidLines: file.lines.filter((l) => l.kind === 'invalid').length });
  }
  return plans;
}

/** The first plan whose batch exists, else the first. */
async function findPlan(client: Client, plans: FilePlan[]): Promise<FilePlan> {
  for (const candidate of plans) {
    try {
      await client.workflow.getHandle(candidate.plan.batchId).describe();
      return candidate;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return plans[0]!;
}

async function status(
  target: string,
  opts: StatusOptions,
  io: CliIO,
  print: Print,
): Promise<number> {
  const isFile = !target.startsWith(BATCH_ID_PREFIX) && existsSync(target);
  const plans = isFile ? plansOf(target, opts, io) : [];
  const resolved = resolveOptions(opts, io.env);
  const client = await connectClient(resolved.temporal, io.env);
  try {
    const found = plans.length > 0 ? await findPlan(client, plans) : undefined;
    const batchId = found?.plan.batchId ?? target;
    const handle = client.workflow.getHandle(batchId);
    const description = await describeBatch(handle);
    if (!description) {
      print.out(
        `No batch ${batchId}${isFile ? ` for ${target}: nothing from this file has been paid by a batch` : ''}.`,
      );
      return ExitCode.NotAllPaid;
    }
    const state = description.status.name;
    print.out(
      `batch ${batchId}: ${state.toLowerCase()} (started ${description.startTime.toISOString()}${description.closeTime ? `, closed ${description.closeTime.toISOString()}` : ''})`,
    );
    const batch: ShownBatch = { client, handle, plan: found?.plan, print };
    if (state === 'RUNNING') return await showRunning(batch, description.taskQueue);
    // As `pay` does: a file with lines outside the batch is not all paid.
    if (state === 'COMPLETED') return await showCompleted(batch, found?.invalidLines ?? 0);
    return await showClosed(batch);
  } finally {
    await client.connection.close();
  }
}

/** The batch's description; undefined when there is no such batch. */
async function describeBatch(
  handle: WorkflowHandle,
): Promise<WorkflowExecutionDescription | undefined> {
  try {
    return await handle.describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    return undefined;
  }
}

/** The batch being shown, and the plan of the file it was paid from when one was given. */
interface ShownBatch {
  client: Client;
  handle: WorkflowHandle;
  plan: BatchPlan | undefined;
  print: Print;
}

async function showRunning(batch: ShownBatch, taskQueue: string): Promise<number> {
  const progress = await queryProgress(batch.client, batch.handle, {
    limit: MAX_LISTED_ROWS,
    only: ['failed', 'waiting-for-funds', 'unconfirmed'],
  });
  if (!progress) {
    batch.print.out(
      `(no answer to the progress query: is a worker running on task queue ${taskQueue}?)`,
    );
    return ExitCode.NotAllPaid;
  }
  batch.print.out(`  ${formatCounts(progress.counts)} (run ${progress.run})`);
  listRows(batch.print, progress.rows, batch.plan);
  return ExitCode.NotAllPaid;
}

async function showCompleted(batch: ShownBatch, invalidLines: number): Promise<number> {
  const result = (await batch.handle.result()) as PayBatchResult;
  batch.print.out(
    `  ${formatCounts(result.counts)} (${result.runs} run${result.runs === 1 ? '' : 's'}, ${result.startedAt} to ${result.finishedAt})`,
  );
  await listNotPaid(batch, result);
  if (invalidLines > 0)
    batch.print.out(`  ${invalidLines} lines of the file are invalid: not paid`);
  return result.counts.failed === 0 && invalidLines === 0 ? ExitCode.Ok : ExitCode.NotAllPaid;
}

/**
 * From the result itself when the file's plan has its rows; else (no file, or another file) the
 * failed rows, from the batch's progress query.
 */
async function listNotPaid(batch: ShownBatch, result: PayBatchResult): Promise<void> {
  const { plan } = batch;
  if (plan && plan.rows.rows.length === result.rows.length) {
    const notPaid = batchResultRows(plan.rows, result).filter(
      (r) => r.status !== 'paid' && r.status !== 'already-paid',
    );
    listRows(batch.print, notPaid, plan);
    return;
  }
  const page = await queryProgress(batch.client, batch.handle, {
    limit: MAX_LISTED_ROWS,
    only: ['failed'],
  });
  if (page) listRows(batch.print, page.rows, plan);
}

/** Closed without completing (failed, terminated, cancelled, timed out): why, and where it stopped. */
async function showClosed(batch: ShownBatch): Promise<number> {
  try {
    await batch.handle.result();
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const failure = describeFailure(err.cause ?? err);
    batch.print.out(`  ${failure.type ? `${failure.type}: ` : ''}${failure.message}`);
  }
  // A closed run still answers queries (a worker replays it): where it stopped.
  const progress = await queryProgress(batch.client, batch.handle, {
    limit: MAX_LISTED_ROWS,
    only: ['failed'],
  });
  if (progress) {
    batch.print.out(`  when it stopped: ${formatCounts(progress.counts)}`);
    listRows(batch.print, progress.rows, batch.plan);
  }
  batch.print.out(
    '  Payments it started finish on their own; run `pay` with the same file to start the batch again (nothing is paid twice).',
  );
  return ExitCode.NotAllPaid;
}

async function queryProgress(
  client: Client,
  handle: WorkflowHandle,
  request: BatchProgressRequest,
): Promise<BatchProgress | undefined> {
  try {
    return await queryWithin<BatchProgress, [BatchProgressRequest]>(
      client,
      handle,
      QUERY_DEADLINE_MS,
      'progress',
      request,
    );
  } catch {
    return undefined;
  }
}

function listRows(print: Print, rows: BatchRowResult[], plan: BatchPlan | undefined): void {
  for (const row of rows.slice(0, MAX_LISTED_ROWS)) {
    const line = plan?.payments[row.index]?.line;
    const where = line !== undefined ? `line ${line}` : `row ${row.index}`;
    const error = row.error ? `: ${row.errorType ? `${row.errorType}: ` : ''}${row.error}` : '';
    print.out(`  ${where} ${row.assignmentId} ${row.amount}: ${row.status}${error}`);
  }
  if (rows.length > MAX_LISTED_ROWS) print.out(`  ... and ${rows.length - MAX_LISTED_ROWS} more`);
}
