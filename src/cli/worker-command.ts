/**
 * `temporal-mturk worker`: runs temporal-mturk's workflows and activities (the payments and the
 * batch) against the configured Temporal and MTurk target, until Ctrl-C.
 */
import type { MTurkClient } from '@aws-sdk/client-mturk';
import { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createMTurkActivities } from '../activities';
import { createBatchActivities } from '../activities/batch-activities';
import { createMTurkClient, describeTarget } from '../mturk-client';
import { createMTurkWorker } from '../worker';
import { ExitCode, CliError } from './exit-codes';
import { printer, processIO, type CliIO } from './io';
import { resolveOptions, type CommonOptions } from './options';

export interface BatchWorkerOptions {
  /** Also serves the client the batch activities look at other workflows through. */
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  mturk: MTurkClient;
  maxBonusCents?: number;
}

/**
 * createMTurkWorker with the batch activities registered as well. createMTurkWorker registers
 * the MTurk activities only, so its `workerOptions` (spread last) carries the full set.
 */
export function createBatchWorker(opts: BatchWorkerOptions): Promise<Worker> {
  return createMTurkWorker({
    connection: opts.connection,
    namespace: opts.namespace,
    taskQueue: opts.taskQueue,
    mturk: opts.mturk,
    maxBonusCents: opts.maxBonusCents,
    workerOptions: {
      activities: {
        ...createMTurkActivities({ client: opts.mturk, maxBonusCents: opts.maxBonusCents }),
        ...createBatchActivities({
          client: new Client({ connection: opts.connection, namespace: opts.namespace }),
        }),
      },
    },
  });
}

export async function runWorker(opts: CommonOptions, io: CliIO = processIO()): Promise<number> {
  const print = printer(io);
  let resolved;
  try {
    resolved = resolveOptions(opts, io.env);
  } catch (err) {
    print.err(`temporal-mturk worker: ${(err as Error).message}`);
    return err instanceof CliError ? err.exitCode : ExitCode.Error;
  }
  const { temporal, taskQueue } = resolved;
  print.out(`temporal-mturk worker: Temporal ${temporal.description}, task queue ${taskQueue}`);
  print.out(`temporal-mturk worker: MTurk ${describeTarget(resolved.mturk)}`);
  let connection: NativeConnection | undefined;
  try {
    connection = await NativeConnection.connect(temporal.connectionOptions);
    const worker = await createBatchWorker({
      connection,
      namespace: temporal.namespace,
      taskQueue,
      mturk: createMTurkClient(resolved.mturk),
      maxBonusCents: resolved.maxBonusCents,
    });
    print.out('temporal-mturk worker: running (Ctrl-C to stop)');
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
