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
import { printer, processIO, type CliIO } from './io';
import { resolveOptions, type CommonOptions } from './options';

export interface WorkerOptions extends CommonOptions {
  /** `--rate-limit <calls/s>`: a ceiling on this worker's MTurk calls. */
  rateLimit?: string;
}

export async function runWorker(opts: WorkerOptions, io: CliIO = processIO()): Promise<number> {
  const print = printer(io);
  let resolved;
  let dataConverter;
  let mturkRateLimit: number | undefined;
  try {
    const rawLimit = opts.rateLimit ?? (io.env.MTURK_RATE_LIMIT?.trim() || undefined);
    if (rawLimit !== undefined) {
      const name = opts.rateLimit !== undefined ? '--rate-limit' : 'MTURK_RATE_LIMIT';
      try {
        mturkRateLimit = checkRateLimit(rawLimit, name);
      } catch (err) {
        throw new CliError((err as Error).message, ExitCode.InvalidInput);
      }
    }
    resolved = resolveOptions(opts, io.env);
    dataConverter = dataConverterFromEnv(io.env);
  } catch (err) {
    print.err(`temporal-mturk worker: ${(err as Error).message}`);
    return err instanceof CliError ? err.exitCode : ExitCode.InvalidInput;
  }
  const { temporal, taskQueue } = resolved;
  print.out(`temporal-mturk worker: Temporal ${temporal.description}, task queue ${taskQueue}`);
  print.out(`temporal-mturk worker: MTurk ${describeTarget(resolved.mturk)}`);
  print.out(
    `temporal-mturk worker: MTurk rate ${mturkRateLimit === undefined ? "paced to MTurk's throttling" : `at most ${mturkRateLimit} calls/s`}`,
  );
  let connection: NativeConnection | undefined;
  let stopLog: (() => void) | undefined;
  try {
    // Before the first connection: Temporal creates its runtime (and metrics) once.
    const metrics = installRuntimeFromEnv(io.env);
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
