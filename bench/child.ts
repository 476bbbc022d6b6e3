/**
 * One benchmark process, started by the harness (bench/harness.ts) with `node --import tsx` and
 * an IPC channel, so each case's client side runs in a process of its own: its memory and CPU
 * are measurable and it does not share an event loop with the emulator.
 *
 * Roles (BENCH_CHILD, JSON):
 * - `worker`: a temporal-mturk worker, configured as the product's (`createMTurkWorker` with the
 *   MTurk and batch activities, as `temporal-mturk worker` registers them), on its own task queue.
 * - `floor`: the same worker and workflows, with no-op activities of the same names.
 * - `baseline`: pays rows with the plain AWS SDK, `concurrency` at a time (1 = a sequential
 *   script), no durability.
 */
import { ApproveAssignmentCommand, MTurkClient, SendBonusCommand } from '@aws-sdk/client-mturk';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type WorkerOptions } from '@temporalio/worker';
import { createMTurkActivities } from '../src/activities';
import { createBatchActivities } from '../src/activities/batch-activities';
import { createMTurkClient, localMTurkConfig } from '../src/mturk/client';
import { createMTurkWorker } from '../src/worker';
import type { ChildConfig, ChildMessage, ParentMessage } from './protocol';

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('bench child needs an IPC channel'));
    process.send(message, (err: Error | null) => (err ? reject(err) : resolve()));
  });
}

function nextMessage(): Promise<ParentMessage> {
  return new Promise((resolve) => process.once('message', (m) => resolve(m as ParentMessage)));
}

type Activities = Record<string, (...args: never[]) => Promise<unknown>>;

/** Activities with the names the product registers, returning at once with well-formed results. */
export function floorActivities(names: readonly string[]): Activities {
  let requests = 0;
  const noOps: Activities = {
    approveAssignment: async (input: { assignmentId: string }) => ({
      status: 'approved',
      assignmentId: input.assignmentId,
      requestId: `floor-${++requests}`,
    }),
    sendBonus: async (input: { bonusAmount: string; uniqueRequestToken: string }) => ({
      status: 'paid',
      amount: input.bonusAmount,
      token: input.uniqueRequestToken,
      requestId: `floor-${++requests}`,
    }),
    lookUpBonus: async () => ({ listed: false }),
    notifyWorkers: async (input: { workerIds: string[] }) => ({
      notified: input.workerIds,
      failures: [],
      calls: 1,
    }),
    getAccountBalance: async () => ({ availableBalance: '1000000.00', onHoldBalance: '0.00' }),
    paymentOutcome: async () => ({ kind: 'not-found' }),
    paymentStates: async (input: { workflowIds: string[] }) => input.workflowIds.map(() => null),
  };
  const missing = names.filter((name) => !(name in noOps));
  if (missing.length > 0)
    throw new Error(`floor has no no-op for activities ${missing.join(', ')}`);
  return Object.fromEntries(names.map((name) => [name, noOps[name]!]));
}

/** Every activity records its start time (ms), for the rate-limit measurement. */
function timed(activities: Activities, starts: number[]): Activities {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...args: never[]) => {
        starts.push(Date.now());
        return fn(...args);
      },
    ]),
  );
}

/** The memory breakdown at the highest RSS seen (sampled every 250 ms), for profiling. */
function memorySampler(cachedWorkflows: () => number) {
  let peak = process.memoryUsage();
  let peakCached = 0;
  const timer = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
    peakCached = Math.max(peakCached, cachedWorkflows());
  }, 250);
  timer.unref();
  return () => {
    clearInterval(timer);
    const mb = (v: number) => Math.round(v / 2 ** 20);
    return {
      rss: mb(peak.rss),
      heapTotal: mb(peak.heapTotal),
      heapUsed: mb(peak.heapUsed),
      external: mb(peak.external),
      arrayBuffers: mb(peak.arrayBuffers),
      peakCachedWorkflows: peakCached,
    };
  };
}

async function runWorker(config: Extract<ChildConfig, { role: 'worker' | 'floor' }>) {
  let cached = () => 0;
  const memory = memorySampler(() => cached());
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: config.address });
  const clientConnection = await Connection.connect({ address: config.address });
  const mturk = createMTurkClient(localMTurkConfig(config.emulatorUrl));
  // The product's set: what `temporal-mturk worker` (createBatchWorker) registers.
  const product = {
    ...createMTurkActivities({ client: mturk }),
    ...createBatchActivities({
      client: new Client({ connection: clientConnection, namespace: config.namespace }),
    }),
  } as unknown as Activities;
  const chosen = config.role === 'floor' ? floorActivities(Object.keys(product)) : product;
  const activityStarts: number[] = [];
  const workerOptions: Partial<WorkerOptions> = {
    activities: timed(chosen, activityStarts),
    // Bundled once by the harness instead of by every worker: the same code, less waiting.
    workflowsPath: undefined,
    workflowBundle: { codePath: config.bundlePath },
    ...(config.maxTaskQueueActivitiesPerSecond !== undefined && {
      maxTaskQueueActivitiesPerSecond: config.maxTaskQueueActivitiesPerSecond,
    }),
    ...config.workerOptions,
  };
  const worker = await createMTurkWorker({
    connection,
    namespace: config.namespace,
    taskQueue: config.taskQueue,
    mturk,
    workerOptions,
  });
  cached = () => worker.getStatus().numCachedWorkflows;
  const running = worker.run();
  const stop = nextMessage();
  await send({ type: 'ready', pid: process.pid });
  const message = await Promise.race([stop, running.then(() => undefined)]);
  if (message?.type === 'stop' && worker.getState() === 'RUNNING') worker.shutdown();
  await running;
  await clientConnection.close();
  await connection.close();
  mturk.destroy();
  await send({
    type: 'stopped',
    activityStarts,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
    memory: memory(),
  });
}

async function runBaseline(config: Extract<ChildConfig, { role: 'baseline' }>) {
  // A plain script: the SDK's defaults, as boto3 scripts and psiTurk use it.
  const mturk = new MTurkClient({
    region: 'us-east-1',
    endpoint: config.emulatorUrl,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await send({ type: 'ready', pid: process.pid });
  const message = await nextMessage();
  if (message.type !== 'run') throw new Error(`expected run, got ${message.type}`);
  const { rows } = message;
  const completedAt: number[] = new Array(rows.length).fill(0);
  let next = 0;
  let failures = 0;
  let firstError: string | undefined;
  const lane = async () => {
    for (let i = next++; i < rows.length; i = next++) {
      const row = rows[i]!;
      try {
        await mturk.send(new ApproveAssignmentCommand({ AssignmentId: row.assignmentId }));
        await mturk.send(
          new SendBonusCommand({
            WorkerId: row.workerId,
            AssignmentId: row.assignmentId,
            BonusAmount: row.bonusAmount,
            Reason: row.reason,
            UniqueRequestToken: `bench-${row.assignmentId}`,
          }),
        );
      } catch (err) {
        failures++;
        firstError ??= err instanceof Error ? err.message : String(err);
      }
      completedAt[i] = Date.now();
    }
  };
  const startedAt = Date.now();
  await Promise.all(Array.from({ length: Math.min(config.concurrency, rows.length) }, lane));
  const finishedAt = Date.now();
  await send({
    type: 'done',
    startedAt,
    finishedAt,
    completedAt,
    failures,
    ...(firstError !== undefined && { firstError }),
  });
  const stop = await nextMessage();
  if (stop.type !== 'stop') throw new Error(`expected stop, got ${stop.type}`);
  mturk.destroy();
  await send({
    type: 'stopped',
    activityStarts: [],
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  });
}

async function main(): Promise<void> {
  const raw = process.env.BENCH_CHILD;
  if (!raw) throw new Error('BENCH_CHILD is not set: this file is started by bench/harness.ts');
  const config = JSON.parse(raw) as ChildConfig;
  if (config.role === 'baseline') await runBaseline(config);
  else await runWorker(config);
  process.disconnect?.();
}

if (require.main === module) {
  main().catch(async (err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    try {
      await send({ type: 'error', message });
    } finally {
      process.exit(1);
    }
  });
}
