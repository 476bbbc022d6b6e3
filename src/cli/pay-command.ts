/**
 * `temporal-mturk pay <file.csv>`: validate the whole file, preview the money, confirm, pay the
 * batch through the `payBatch` workflow, follow it, write a report.
 *
 * Safe to run again at any point: the batch's workflow ID comes from the file's payments, so a
 * second run (after a crash, Ctrl-C, a lost terminal) attaches to the running batch or reports
 * the finished one, and each payment has its own workflow ID on top of that.
 */
import { basename } from 'node:path';
import { GetAccountBalanceCommand } from '@aws-sdk/client-mturk';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { searchAttributesRegistered } from '../client';
import { createMTurkClient, describeTarget, sameTarget, targetBinding } from '../mturk/client';
import { bonusCostCents, tryParseDollarsToCents } from '../common/money';
import type { BonusNotification } from '../common/types';
import { checkBonusNotification } from '../common/validation';
import type { ApproveAndBonusOptions } from '../common/workflow-options';
import type { payBatch } from '../workflows/batch';
import { describeFailure } from '../common/failures';
import {
  DEFAULT_BATCH_CONCURRENCY,
  MAX_BATCH_CONCURRENCY,
  MAX_BATCH_ROWS,
  batchResultRows,
  type PayBatchInput,
  type PayBatchResult,
} from '../common/batch';
import { dollars, planBatch, type BatchPlan } from './batch-plan';
import { confirmByTyping, confirmYesNo } from './confirm';
import {
  allIssues,
  formatIssue,
  readBonusFile,
  type BonusFile,
  type ResultsFileOptions,
} from './csv-input';
import { CliError, ExitCode, commandExitCode } from './exit-codes';
import { printer, processIO, type CliIO, type Print } from './io';
import { connectClient, resolveOptions, type CommonOptions, type ResolvedOptions } from './options';
import { describeLedgerPreview, previewLedger } from './ledger-preview';
import { followBatch } from './progress';
import { buildReport, defaultReportPath, summaryLines, writeReport } from './report';

export interface PayOptions extends CommonOptions, ResultsFileOptions {
  skipInvalid?: boolean;
  /** NotifyWorkers subject: tell each worker this run pays (once, never failing the payment). */
  notify?: string;
  /** The message text (default: amount, assignment and reason). */
  notifyMessage?: string;
  /** Before confirming, count the rows MTurk's ledger already lists (always on a dry run). */
  checkLedger?: boolean;
  allowWait?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  concurrency?: string | number;
  report?: string;
  /** Tuning passed to every payment (in-process callers such as the demo and tests). */
  paymentOptions?: ApproveAndBonusOptions;
}

/** Rows not paid listed on the terminal; the report has them all. */
const MAX_LISTED_ROWS = 50;

/** Runs the command; resolves with the exit code (see exit-codes.ts). */
export async function runPay(
  file: string,
  opts: PayOptions,
  io: CliIO = processIO(),
): Promise<number> {
  const print = printer(io);
  return commandExitCode('pay', print, () => pay(file, opts, io, print));
}

/** --notify and --notify-message as the payment takes them; exit 2 when MTurk would refuse. */
function notificationOf(opts: PayOptions): BonusNotification | undefined {
  if (opts.notify === undefined) {
    if (opts.notifyMessage !== undefined) {
      throw new CliError('--notify-message needs --notify <subject>', ExitCode.InvalidInput);
    }
    return undefined;
  }
  const notify: BonusNotification = { subject: opts.notify };
  if (opts.notifyMessage !== undefined) notify.message = opts.notifyMessage;
  const problem = checkBonusNotification(notify);
  if (problem) throw new CliError(`--notify: ${problem}`, ExitCode.InvalidInput);
  return notify;
}

function parseConcurrency(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_BATCH_CONCURRENCY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_BATCH_CONCURRENCY) {
    throw new CliError(
      `--concurrency must be an integer 1-${MAX_BATCH_CONCURRENCY}, got ${String(value)}`,
      ExitCode.InvalidInput,
    );
  }
  return n;
}

/** (a) The whole file, checked before anything else. Returns the plan, or throws exit 2. */
function checkFile(
  path: string,
  opts: PayOptions,
  resolved: ResolvedOptions,
  print: Print,
): { file: BonusFile; plan: BatchPlan } {
  const file = readBonusFile(path, { maxBonusCents: resolved.maxBonusCents }, opts);
  for (const warning of file.warnings) print.out(`warning: ${warning}`);
  const issues = allIssues(file);
  const invalidLines = file.lines.filter((l) => l.kind === 'invalid').length;
  if (file.fileIssues.length > 0 || (invalidLines > 0 && !opts.skipInvalid)) {
    for (const issue of issues) print.err(formatIssue(path, issue));
    const what =
      file.fileIssues.length > 0
        ? 'the file cannot be read as a bonus CSV'
        : `${invalidLines} of ${file.lines.length} rows are invalid`;
    throw new CliError(
      `${what}; nothing was paid.${file.fileIssues.length === 0 ? ' Fix the rows, or pass --skip-invalid to pay the valid ones.' : ''}`,
      ExitCode.InvalidInput,
    );
  }
  for (const issue of issues) print.out(`skipped: ${formatIssue(path, issue)}`);
  const plan = planBatch(file);
  if (plan.payments.length === 0)
    throw new CliError('no valid rows: nothing to pay', ExitCode.InvalidInput);
  if (plan.payments.length > MAX_BATCH_ROWS) {
    throw new CliError(
      `${plan.payments.length} payments; one batch takes at most ${MAX_BATCH_ROWS}: split the file`,
      ExitCode.InvalidInput,
    );
  }
  return { file, plan };
}

async function readBalanceCents(resolved: ResolvedOptions): Promise<number> {
  const mturk = createMTurkClient(resolved.mturk);
  try {
    const output = await mturk.send(new GetAccountBalanceCommand({}));
    const parsed = tryParseDollarsToCents(
      (output.AvailableBalance ?? '').trim().replace(/\.$/, ''),
    );
    if (!parsed.ok)
      throw new Error(`unreadable AvailableBalance ${JSON.stringify(output.AvailableBalance)}`);
    return parsed.cents;
  } catch (err) {
    throw new CliError(
      `cannot read the account balance from MTurk (${describeTarget(resolved.mturk)}): ${(err as Error).message}`,
      ExitCode.Error,
    );
  } finally {
    mturk.destroy();
  }
}

async function describeStatus(
  handle: WorkflowHandle,
): Promise<{ status: string; closeTime?: Date } | undefined> {
  try {
    const description = await handle.describe();
    return { status: description.status.name, closeTime: description.closeTime };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** Whether any worker polls the task queue; undefined when the server would not say. */
async function workerPolls(client: Client, taskQueue: string): Promise<boolean | undefined> {
  try {
    const response = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1, // TASK_QUEUE_TYPE_WORKFLOW
    });
    return (response.pollers?.length ?? 0) > 0;
  } catch {
    return undefined;
  }
}

/** What every step of one `pay` run works from: the options, the checked file and its plan. */
interface PayRun {
  path: string;
  opts: PayOptions;
  io: CliIO;
  print: Print;
  resolved: ResolvedOptions;
  concurrency: number;
  file: BonusFile;
  plan: BatchPlan;
  /** The MTurk target, as the preview and the report name it. */
  target: string;
  reportPath: string;
}

async function pay(path: string, opts: PayOptions, io: CliIO, print: Print): Promise<number> {
  const resolved = resolveOptions(opts, io.env);
  const concurrency = parseConcurrency(opts.concurrency);
  notificationOf(opts); // bad --notify values exit 2 before anything is read
  const { file, plan } = checkFile(path, opts, resolved, print);
  const run: PayRun = {
    path,
    opts,
    io,
    print,
    resolved,
    concurrency,
    file,
    plan,
    target: describeTarget(resolved.mturk),
    reportPath: opts.report ?? defaultReportPath(path),
  };
  let client: Client;
  try {
    client = await connectClient(
      resolved.temporal,
      io.env,
      opts.dryRun ? DRY_RUN_CONNECT_TIMEOUT_MS : undefined,
    );
  } catch (err) {
    // A dry run checks what it can: the file and the money need MTurk only.
    if (!opts.dryRun || !(err instanceof CliError) || err.exitCode !== ExitCode.Error) throw err;
    return dryRunWithoutTemporal(run, err);
  }
  try {
    return await payThroughTemporal(run, client);
  } finally {
    await client.connection.close();
  }
}

async function dryRunWithoutTemporal(run: PayRun, connectError: CliError): Promise<number> {
  await previewAndCheck(run, undefined);
  run.print.out(
    `Temporal could not be reached (${firstLine(connectError.message)}), so the dry run could not check ` +
      'whether this batch already ran or is running, nor whether some of its payments were made ' +
      'before (a real run looks them up and pays none of them twice).',
  );
  run.print.out('Dry run: nothing was paid.');
  return ExitCode.Ok;
}

/** Reports a finished batch, follows a running one, or previews, confirms and starts one. */
async function payThroughTemporal(run: PayRun, client: Client): Promise<number> {
  const { opts, plan, print } = run;
  const handle = client.workflow.getHandle<typeof payBatch>(plan.batchId);
  const existing = await describeStatus(handle);
  if (existing?.status === 'COMPLETED') return reportFinishedBatch(run, handle, existing.closeTime);
  if (existing?.status === 'RUNNING') {
    if (opts.dryRun) {
      print.out(
        `Batch ${plan.batchId} is already running; see it with: temporal-mturk status ${run.path}`,
      );
      return ExitCode.Ok;
    }
    print.out(`Batch ${plan.batchId} is already running: following it (nothing new is started).`);
  } else {
    // (b) Preview. A batch that failed or was terminated starts again from here: its payments
    // that already exist are reported, never repeated.
    await previewAndCheck(run, client);
    if (opts.dryRun) {
      print.out('Dry run: nothing was paid.');
      return ExitCode.Ok;
    }
    await confirmAndStart(run, client);
  }
  const result = await followToResult(run, client, handle);
  return finish(run, result, { finishedEarlier: false });
}

/** A batch that completed before this run: nothing is paid again, its result is the report. */
async function reportFinishedBatch(
  run: PayRun,
  handle: WorkflowHandle<typeof payBatch>,
  closeTime: Date | undefined,
): Promise<number> {
  const { plan, print } = run;
  print.out(
    `Batch ${plan.batchId} already finished${closeTime ? ` on ${closeTime.toISOString()}` : ''}: ` +
      'nothing is paid again.',
  );
  if (run.opts.dryRun) return ExitCode.Ok;
  const result = (await handle.result()) as PayBatchResult;
  checkSameTarget(result, run.resolved);
  return finish(run, result, { finishedEarlier: true });
}

/** (c) and (d): warn when no worker listens, ask the operator, start the batch. */
async function confirmAndStart(run: PayRun, client: Client): Promise<void> {
  const { opts, plan, resolved, print } = run;
  if ((await workerPolls(client, resolved.taskQueue)) === false) {
    print.out(
      `warning: no worker polls task queue "${resolved.taskQueue}" right now; payments start when ` +
        'one does (temporal-mturk worker).',
    );
  }
  await confirm(run.io, opts, plan, resolved);
  await startBatch(
    client,
    plan,
    resolved,
    run.concurrency,
    opts.paymentOptions,
    basename(run.path),
    notificationOf(opts),
  );
  print.out(`Started batch ${plan.batchId}.`);
}

/** (e) The progress bar until the batch returns; a failed batch is exit 5 with its failure. */
async function followToResult(
  run: PayRun,
  client: Client,
  handle: WorkflowHandle<typeof payBatch>,
): Promise<PayBatchResult> {
  const { io, plan } = run;
  try {
    return await followBatch(client, handle, {
      io,
      tty: Boolean(io.stdout.isTTY),
      total: plan.payments.length,
      taskQueue: run.resolved.taskQueue,
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError) {
      const failure = describeFailure(err.cause ?? err);
      throw new CliError(
        `batch ${plan.batchId} failed: ${failure.type ? `${failure.type}: ` : ''}${failure.message}`,
        ExitCode.Error,
      );
    }
    throw err;
  }
}

/** A finished batch bound to another MTurk was not paid on this one: say so, report nothing. */
function checkSameTarget(result: PayBatchResult, resolved: ResolvedOptions): void {
  const here = targetBinding(resolved.mturk);
  if (!result.target || sameTarget(result.target, here)) return;
  throw new CliError(
    `TargetMismatch: this file's batch was paid on MTurk ${result.target.name} at ` +
      `${result.target.endpoint}, not on ${here.name} at ${here.endpoint}; nothing was paid now`,
    ExitCode.Error,
  );
}

/** A dry run does not wait long for a Temporal that is down: it can preview without it. */
const DRY_RUN_CONNECT_TIMEOUT_MS = 5_000;

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/**
 * (b) The preview: cost, fees, balance. Throws exit 3 when the balance does not cover the batch
 * (without --allow-wait). Without Temporal (`client` undefined, dry runs only), payments made
 * before cannot be looked up, so the balance is compared with the whole batch.
 */
async function previewAndCheck(run: PayRun, client: Client | undefined): Promise<void> {
  const { file, plan, opts, resolved, concurrency, print } = run;
  const balanceCents = await readBalanceCents(resolved);
  let neededCents = plan.totalCents;
  let earlier: PaidEarlier | undefined;
  if (balanceCents < neededCents && client) {
    // Only when short (the usual run pays nothing for the look-up): payments completed
    // before, by another batch or payBonus, are not paid again and cost nothing now.
    earlier = await paidEarlier(client, plan);
    neededCents -= earlier.cents;
  }
  printPreview(print, file, plan, {
    target: run.target,
    balanceCents,
    neededCents,
    earlier,
    resolved,
    concurrency,
    temporalReachable: client !== undefined,
  });
  if (opts.checkLedger || opts.dryRun) {
    const mturk = createMTurkClient(resolved.mturk);
    try {
      const ledger = await previewLedger(mturk, plan);
      print.out(`  on MTurk     ${describeLedgerPreview(ledger, plan.payments.length)}`);
    } catch (err) {
      print.out(`  on MTurk     could not be read: ${(err as Error).message}`);
    } finally {
      mturk.destroy();
    }
  }
  if (balanceCents < neededCents && !opts.allowWait) {
    throw new CliError(
      `the available balance ${dollars(balanceCents)} does not cover ${dollars(neededCents)} ` +
        `(short by ${dollars(neededCents - balanceCents)}); nothing was paid. Add funds, or pass ` +
        '--allow-wait to pay what the balance covers and let the rest wait for funds.',
      ExitCode.InsufficientBalance,
    );
  }
  if (balanceCents < neededCents) {
    print.out(
      '--allow-wait: payments the balance does not cover wait for funds (re-checked hourly). ' +
        `After a top-up, wake them with: temporal workflow signal --workflow-id ${plan.batchId} --name fundsAdded`,
    );
  }
}

interface PaidEarlier {
  count: number;
  /** Bonuses plus fees of those payments. */
  cents: number;
}

const PARALLEL_LOOKUPS = 20;

/** Payments of the plan whose workflow already completed (paid before, or found paid). */
async function paidEarlier(client: Client, plan: BatchPlan): Promise<PaidEarlier> {
  const found: PaidEarlier = { count: 0, cents: 0 };
  let next = 0;
  const lookUp = async () => {
    while (next < plan.payments.length) {
      const payment = plan.payments[next++]!;
      const state = await describeStatus(client.workflow.getHandle(payment.workflowId));
      if (state?.status === 'COMPLETED') {
        found.count += 1;
        found.cents += bonusCostCents(payment.request.bonusCents);
      }
    }
  };
  await Promise.all(Array.from({ length: PARALLEL_LOOKUPS }, lookUp));
  return found;
}

function printPreview(
  print: Print,
  file: BonusFile,
  plan: BatchPlan,
  ctx: {
    target: string;
    balanceCents: number;
    neededCents: number;
    earlier?: PaidEarlier;
    resolved: ResolvedOptions;
    concurrency: number;
    temporalReachable?: boolean;
  },
): void {
  const invalid = file.lines.filter((l) => l.kind === 'invalid').length;
  const repeated = file.lines.filter((l) => l.kind === 'duplicate').length;
  const enough = ctx.balanceCents >= ctx.neededCents;
  print.out(`Preview of ${file.path}`);
  print.out(
    `  payments     ${plan.payments.length} (from ${file.lines.length} rows; ${invalid} invalid skipped, ${repeated} repeats collapsed)`,
  );
  if (file.format === 'mturk-results') {
    print.out(
      `  no bonus     ${file.skippedLines.length} rows of the results file with an empty amount cell, skipped`,
    );
  }
  print.out(`  bonuses      ${dollars(plan.bonusCents)}`);
  print.out(`  MTurk fees   ${dollars(plan.feeCents)} (20 %, at least $0.01 per bonus)`);
  print.out(`  total        ${dollars(plan.totalCents)}`);
  if (ctx.earlier && ctx.earlier.count > 0) {
    print.out(
      `  paid before  ${ctx.earlier.count} of these payments already completed: ` +
        `${dollars(ctx.earlier.cents)} is not spent again, ${dollars(ctx.neededCents)} is needed`,
    );
  }
  print.out(`  MTurk        ${ctx.target}`);
  print.out(
    `  balance      ${dollars(ctx.balanceCents)} available: ` +
      (enough
        ? `enough (leaves ${dollars(ctx.balanceCents - ctx.neededCents)})`
        : `NOT enough (short by ${dollars(ctx.neededCents - ctx.balanceCents)})`),
  );
  print.out(
    `  Temporal     ${ctx.resolved.temporal.description}, task queue ${ctx.resolved.taskQueue}` +
      (ctx.temporalReachable === false ? ' (NOT reachable)' : ''),
  );
  print.out(`  batch        ${plan.batchId} (concurrency ${ctx.concurrency})`);
}

async function confirm(
  io: CliIO,
  opts: PayOptions,
  plan: BatchPlan,
  resolved: ResolvedOptions,
): Promise<void> {
  if (opts.yes) return;
  if (!io.stdin.isTTY || !io.stdout.isTTY) {
    throw new CliError(
      'not a terminal, so nobody can confirm: pass --yes to pay without asking. Nothing was paid.',
      ExitCode.NotConfirmed,
    );
  }
  const question = `Pay ${plan.payments.length} bonuses, ${dollars(plan.totalCents)} with fees, on ${describeTarget(resolved.mturk)}?`;
  const confirmed =
    resolved.mturk.target === 'production'
      ? await confirmByTyping(io, `${question}\nThis is REAL money.`, dollars(plan.totalCents))
      : await confirmYesNo(io, question);
  if (!confirmed) throw new CliError('not confirmed; nothing was paid.', ExitCode.NotConfirmed);
}

async function startBatch(
  client: Client,
  plan: BatchPlan,
  resolved: ResolvedOptions,
  concurrency: number,
  paymentOptions: ApproveAndBonusOptions | undefined,
  fileName: string,
  notify: BonusNotification | undefined,
): Promise<void> {
  const options: ApproveAndBonusOptions = {
    ...paymentOptions,
    ...(resolved.maxBonusAmount !== undefined && { maxBonusAmount: resolved.maxBonusAmount }),
  };
  const input: PayBatchInput = {
    ...plan.rows,
    concurrency,
    options,
    searchAttributes: await searchAttributesRegistered(client),
    // What the preview showed and the user confirmed: a worker on another MTurk refuses it.
    target: targetBinding(resolved.mturk),
    ...(notify && { notify }),
  };
  try {
    await client.workflow.start<typeof payBatch>('payBatch', {
      taskQueue: resolved.taskQueue,
      workflowId: plan.batchId,
      args: [input],
      // A failed or terminated batch may run again (its existing payments are reported, not
      // repeated); a completed one never; a running one is joined.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      staticSummary: `Pay ${plan.payments.length} MTurk bonuses (${dollars(plan.totalCents)} with fees) from ${fileName}`,
    });
  } catch (err) {
    // Completed between our look and our start (another terminal): following it reports it.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** (f) Rows not paid, the summary, the report file; exit 0 only when every row is paid. */
function finish(run: PayRun, result: PayBatchResult, how: { finishedEarlier: boolean }): number {
  const { plan, print, reportPath } = run;
  const report = buildReport(run.file, plan, batchResultRows(plan.rows, result), {
    batchId: plan.batchId,
    target: run.target,
    finishedEarlier: how.finishedEarlier,
    notify: run.opts.notify !== undefined,
  });
  const notPaid = report.rows.filter((r) => r.status !== 'paid' && r.status !== 'already-paid');
  for (const row of notPaid.slice(0, MAX_LISTED_ROWS)) {
    print.out(`line ${row.line}: ${row.status}${row.error ? `: ${row.error}` : ''}`);
  }
  if (notPaid.length > MAX_LISTED_ROWS) {
    print.out(`... and ${notPaid.length - MAX_LISTED_ROWS} more rows not paid (all in the report)`);
  }
  for (const line of summaryLines(report.summary)) print.out(line);
  writeReport(reportPath, report);
  print.out(`report: ${reportPath}`);
  return report.summary.allPaid ? ExitCode.Ok : ExitCode.NotAllPaid;
}
