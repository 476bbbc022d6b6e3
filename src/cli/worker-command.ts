/**
 * `temporal-mturk worker`: runs temporal-mturk's workflows and activities (payments, batches,
 * reviews) against the configured Temporal and MTurk target, until Ctrl-C.
 */
import { NativeConnection } from '@temporalio/worker';
import { dataConverterFromEnv } from '../codec';
import { createMTurkClient, describeTarget, targetBinding } from '../mturk-client';
import { installRuntimeFromEnv } from '../observability';
import { createMTurkWorker } from '../worker';
import { CliError, ExitCode } from './exit-codes';
import { printer, processIO, type CliIO } from './io';
import { resolveOptions, type CommonOptions } from './options';

export async function runWorker(opts: CommonOptions, io: CliIO = processIO()): Promise<number> {
  const print = printer(io);
  let resolved;
  let dataConverter;
  try {
    resolved = resolveOptions(opts, io.env);
    dataConverter = dataConverterFromEnv(io.env);
  } catch (err) {
    print.err(`temporal-mturk worker: ${(err as Error).message}`);
    return err instanceof CliError ? err.exitCode : ExitCode.InvalidInput;
  }
  const { temporal, taskQueue } = resolved;
  print.out(`temporal-mturk worker: Temporal ${temporal.description}, task queue ${taskQueue}`);
  print.out(`temporal-mturk worker: MTurk ${describeTarget(resolved.mturk)}`);
  let connection: NativeConnection | undefined;
  try {
    // Before the first connection: Temporal creates its runtime (and metrics) once.
    const metrics = installRuntimeFromEnv(io.env);
    if (metrics)
      print.out(`temporal-mturk worker: Prometheus metrics at http://${metrics}/metrics`);
    connection = await NativeConnection.connect(temporal.connectionOptions);
    const worker = await createMTurkWorker({
      connection,
      namespace: temporal.namespace,
      taskQueue,
      mturk: createMTurkClient(resolved.mturk),
      mturkTarget: targetBinding(resolved.mturk),
      maxBonusCents: resolved.maxBonusCents,
      dataConverter,
    });
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
    await connection?.close();
  }
}
