/**
 * `temporal-mturk worker`: runs temporal-mturk's workflows and activities (payments, batches,
 * reviews) against the configured Temporal and MTurk target, until Ctrl-C.
 */
import { NativeConnection } from '@temporalio/worker';
import { dataConverterFromEnv } from '../codec';
import { createMTurkClient, describeTarget, targetBinding } from '../mturk/client';
import { installRuntimeFromEnv } from '../observability';
import { checkRateLimit } from '../mturk/rate-limiter';
import { createMTurkWorker, logMTurkCalls } from '../worker';
import { CliError, ExitCode } from './exit-codes';
import { printer, processIO, type CliIO, type Print } from './io';
import { resolveOptions, type CommonOptions, type ResolvedOptions } from './options';

export interface WorkerOptions extends CommonOptions {
  /** `--rate-limit <calls/s>`: a ceiling on this worker's MTurk calls. */
  rateLimit?: string;
}

export async function runWorker(opts: WorkerOptions, io: CliIO = processIO()): Promise<number> {
  const print = printer(io);
  let settings: WorkerSettings;
  try {
    settings = workerSettings(opts, io.env);
  } catch (err) {
    print.err(`temporal-mturk worker: ${(err as Error).message}`);
    return err instanceof CliError ? err.exitCode : ExitCode.InvalidInput;
  }
  printSettings(settings, print);
  return await runUntilStopped(settings, io.env, print);
}

/** What the worker runs with, from its options and the environment. */
interface WorkerSettings {
  resolved: ResolvedOptions;
  dataConverter: ReturnType<typeof dataConverterFromEnv>;
  mturkRateLimit: number | undefined;
}

function workerSettings(opts: WorkerOptions, env: NodeJS.ProcessEnv): WorkerSettings {
  const mturkRateLimit = rateLimitOption(opts, env);
  return {
    mturkRateLimit,
    resolved: resolveOptions(opts, env),
    dataConverter: dataConverterFromEnv(env),
  };
}

/** `--rate-limit`, else MTURK_RATE_LIMIT, checked; throws an InvalidInput CliError naming it. */
function rateLimitOption(opts: WorkerOptions, env: NodeJS.ProcessEnv): number | undefined {
  const rawLimit = opts.rateLimit ?? (env.MTURK_RATE_LIMIT?.trim() || undefined);
  if (rawLimit === undefined) return undefined;
  const name = opts.rateLimit !== undefined ? '--rate-limit' : 'MTURK_RATE_LIMIT';
  try {
    return checkRateLimit(rawLimit, name);
  } catch (err) {
    throw new CliError((err as Error).message, ExitCode.InvalidInput);
  }
}

function printSettings({ resolved, mturkRateLimit }: WorkerSettings, print: Print): void {
  const { temporal, taskQueue } = resolved;
  print.out(`temporal-mturk worker: Temporal ${temporal.description}, task queue ${taskQueue}`);
  print.out(`temporal-mturk worker: MTurk ${describeTarget(resolved.mturk)}`);
  print.out(
    `temporal-mturk worker: MTurk rate ${mturkRateLimit === undefined ? "paced to MTurk's throttling" : `at most ${mturkRateLimit} calls/s`}`,
  );
}

/** Connects, runs the worker until a signal stops it, and closes what it opened. */
async function runUntilStopped(
  { resolved, dataConverter, mturkRateLimit }: WorkerSettings,
  env: NodeJS.ProcessEnv,
  print: Print,
): Promise<number> {
  const { temporal, taskQueue } = resolved;
  let connection: NativeConnection | undefined;
  let stopLog: (() => void) | undefined;
  try {
    // Before the first connection: Temporal creates its runtime (and metrics) once.
    const metrics = installRuntimeFromEnv(env);
    if (metrics)
      print.out(`temporal-mturk worker: Prometheus metrics at http://${metrics}/metrics`);
    connection = await NativeConnection.connect(temporal.connectionOptions);
    const mturk = createMTurkClient(resolved.mturk);
    const worker = await createMTurkWorker({
      connection,
      namespace: temporal.namespace,
      taskQueue,
      mturk,
      mturkRateLimit,
      mturkTarget: targetBinding(resolved.mturk),
      maxBonusCents: resolved.maxBonusCents,
      dataConverter,
    });
    stopLog = logMTurkCalls(mturk, (line) => print.out(`temporal-mturk worker: ${line}`));
    print.out(
      `temporal-mturk worker: running, payload encryption ${dataConverter.payloadCodecs ? 'on' : 'off'} (Ctrl-C to stop)`,
    );
    // Worker.run() shuts down gracefully on SIGINT/SIGTERM (the SDK installs those handlers).
    await worker.run();
    return ExitCode.Ok;
  } catch (err) {
    print.err(`temporal-mturk worker: ${(err as Error).message}`);
    return ExitCode.Error;
  } finally {
    stopLog?.();
    await connection?.close();
  }
}
