import {
  NativeConnection,
  Worker,
  type WorkerOptions,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import type { MTurkClient } from '@aws-sdk/client-mturk';
import { Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import {
  createBatchActivities,
  createMTurkActivities,
  createNotifyActivities,
  createReviewActivities,
} from './activities';
import { dataConverterFromEnv } from './codec';
import {
  createMTurkClient,
  describeTarget,
  mturkConfigFromEnv,
  mturkRateLimiter,
  targetBinding,
} from './mturk/client';
import { checkRateLimit, describeMTurkCalls } from './mturk/rate-limiter';
import type { MTurkTargetBinding } from './common/types';
import { installRuntimeFromEnv } from './observability';
import { DEFAULT_TASK_QUEUE, temporalTargetFromEnv } from './temporal-config';

export interface MTurkWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** The one MTurk client every activity shares. */
  mturk: MTurkClient;
  /**
   * Most MTurk calls per second this worker makes (all its activities together); default none:
   * the client paces itself to MTurk's throttling anyway. Needs a client from createMTurkClient.
   */
  mturkRateLimit?: number;
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
  if (opts.mturkRateLimit !== undefined) {
    const limit = checkRateLimit(opts.mturkRateLimit, 'mturkRateLimit');
    const limiter = mturkRateLimiter(opts.mturk);
    if (!limiter) {
      throw new Error('mturkRateLimit needs an MTurk client made by createMTurkClient');
    }
    limiter.setMaxRate(limit);
  }
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
      ...createNotifyActivities({ client: opts.mturk }),
      ...createBatchActivities({ client: temporal }),
    },
    ...(opts.dataConverter && { dataConverter: opts.dataConverter }),
    ...opts.workerOptions,
  });
}

/**
 * Logs the client's MTurk call counts (sent, throttled, retried) every `everyMs` while they
 * change: a worker knows them, a `pay` command does not. Returns the stop function.
 */
export function logMTurkCalls(
  mturk: MTurkClient,
  log: (line: string) => void,
  everyMs = 60_000,
): () => void {
  const limiter = mturkRateLimiter(mturk);
  if (!limiter) return () => undefined;
  let last = '';
  const tick = () => {
    const line = describeMTurkCalls(limiter.stats());
    if (line !== last) log(line);
    last = line;
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (limiter.stats().sent > 0) tick();
  };
}

/**
 * `npm run worker` (entry: worker-main.ts): Temporal from envconfig, MTurk target from
 * MTURK_TARGET / MTURK_ENDPOINT; runs until SIGINT/SIGTERM.
 */
export async function runWorkerFromEnv(): Promise<void> {
  const temporal = temporalTargetFromEnv();
  const mturkConfig = mturkConfigFromEnv();
  const taskQueue = process.env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  const rawLimit = process.env.MTURK_RATE_LIMIT?.trim();
  const mturkRateLimit = rawLimit ? checkRateLimit(rawLimit, 'MTURK_RATE_LIMIT') : undefined;
  const dataConverter = dataConverterFromEnv();
  // Before the first connection: Temporal creates its runtime once.
  const metrics = installRuntimeFromEnv();
  console.log(`temporal-mturk worker: Temporal ${temporal.description}, task queue ${taskQueue}`);
  console.log(`temporal-mturk worker: MTurk ${describeTarget(mturkConfig)}`);
  console.log(
    `temporal-mturk worker: payload encryption ${dataConverter.payloadCodecs ? 'on' : 'off'}` +
      (metrics ? `, Prometheus metrics at http://${metrics}/metrics` : ''),
  );
  console.log(
    `temporal-mturk worker: MTurk rate ${mturkRateLimit === undefined ? "paced to MTurk's throttling" : `at most ${mturkRateLimit} calls/s`}`,
  );
  const connection = await NativeConnection.connect(temporal.connectionOptions);
  const mturk = createMTurkClient(mturkConfig);
  const worker = await createMTurkWorker({
    connection,
    namespace: temporal.namespace,
    taskQueue,
    mturk,
    mturkRateLimit,
    mturkTarget: targetBinding(mturkConfig),
    dataConverter,
  });
  const stopLog = logMTurkCalls(mturk, (line) => console.log(`temporal-mturk worker: ${line}`));
  // Worker.run() stops gracefully on SIGINT/SIGTERM (the SDK installs those handlers).
  await worker.run();
  stopLog();
  await connection.close();
}
