import {
  NativeConnection,
  Worker,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { MTurkClient } from '@aws-sdk/client-mturk';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { createMTurkActivities, createReviewActivities } from './activities';
import { createBatchActivities } from './activities/batch-activities';
import { dataConverterFromEnv } from './codec';
import {
  createMTurkClient,
  describeTarget,
  mturkConfigFromEnv,
  targetBinding,
} from './mturk-client';
import type { MTurkTargetBinding } from './types';
import { installRuntimeFromEnv } from './observability';
import { DEFAULT_TASK_QUEUE, temporalTargetFromEnv } from './temporal-config';

export interface MTurkWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** The one MTurk client every activity shares. */
  mturk: MTurkClient;
  /** Largest bonus the activities will pay, in cents (default $100.00). */
  maxBonusCents?: number;
  /**
   * The MTurk `mturk` talks to (targetBinding(config)), so payments confirmed for another one are
   * refused. Default: read from the client's endpoint.
   */
  mturkTarget?: MTurkTargetBinding;
  /** E.g. dataConverterFromEnv() for encryption; clients of the namespace need the same. */
  dataConverter?: DataConverter;
  /** A prebuilt bundle of `temporal-mturk/workflows` (bundleWorkflowCode), to skip bundling. */
  workflowBundle?: WorkflowBundleOption;
  /** Passed through to Worker.create (e.g. maxConcurrentActivityTaskExecutions). */
  workerOptions?: Partial<WorkerOptions>;
}

/** A worker that runs temporal-mturk's workflows and activities on one task queue. */
export async function createMTurkWorker(opts: MTurkWorkerOptions): Promise<Worker> {
  const namespace = opts.namespace ?? 'default';
  // payBatch's activities look at other workflows; with the worker's converter, so they can
  // read encrypted results.
  const temporal = new Client({
    connection: opts.connection,
    namespace,
    ...(opts.dataConverter && { dataConverter: opts.dataConverter }),
  });
  return Worker.create({
    connection: opts.connection,
    namespace,
    taskQueue: opts.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: {
      ...createMTurkActivities({
        client: opts.mturk,
        maxBonusCents: opts.maxBonusCents,
        target: opts.mturkTarget,
      }),
      ...createReviewActivities({ client: opts.mturk }),
      ...createBatchActivities({ client: temporal }),
    },
    ...(opts.dataConverter && { dataConverter: opts.dataConverter }),
    ...opts.workerOptions,
  });
}

/**
 * `npm run worker` (entry: worker-main.ts): Temporal from envconfig, MTurk target from
 * MTURK_TARGET / MTURK_ENDPOINT; runs until SIGINT/SIGTERM.
 */
export async function runWorkerFromEnv(): Promise<void> {
  const temporal = temporalTargetFromEnv();
  const mturkConfig = mturkConfigFromEnv();
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const dataConverter = dataConverterFromEnv();
  // Before the first connection: Temporal creates its runtime once.
  const metrics = installRuntimeFromEnv();
  console.log(`temporal-mturk worker: Temporal ${temporal.description}, task queue ${taskQueue}`);
  console.log(`temporal-mturk worker: MTurk ${describeTarget(mturkConfig)}`);
  console.log(
    `temporal-mturk worker: payload encryption ${dataConverter.payloadCodecs ? 'on' : 'off'}` +
      (metrics ? `, Prometheus metrics at http://${metrics}/metrics` : ''),
  );
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  const worker = await createMTurkWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    mturk: createMTurkClient(mturkConfig),
    mturkTarget: targetBinding(mturkConfig),
    dataConverter,
  });
  // Worker.run() stops gracefully on SIGINT/SIGTERM (the SDK installs those handlers).
  await worker.run();
  await connection.close();
}
