import { MTurkClient } from '@aws-sdk/client-mturk';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  DefaultLogger,
  bundleWorkflowCode,
  type Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createMTurkWorker, type MTurkWorkerOptions } from '../../src/worker';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { connectToDevServer, uniqueTaskQueue } from './temporal';

/** The real AWS SDK client, pointed at the emulator; Temporal owns retries, so one attempt. */
export function emulatorClient(url: string): MTurkClient {
  return new MTurkClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: once per test file (process) is enough. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '..', '..', 'src', 'workflows'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

export interface TestWorker {
  worker: Worker;
  /** Shut the worker down and wait until it has stopped. */
  stop(): Promise<void>;
}

/**
 * The product's own worker (createMTurkWorker: every workflow and activity temporal-mturk ships)
 * on the shared dev server, talking to an emulator through the real SDK.
 */
export async function startTestWorker(
  env: TestWorkflowEnvironment,
  emulatorUrl: string,
  taskQueue: string,
  workerOptions?: MTurkWorkerOptions['workerOptions'],
): Promise<TestWorker> {
  const worker = await createMTurkWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    mturk: emulatorClient(emulatorUrl),
    workflowBundle: await workflowBundle(),
    workerOptions,
  });
  const running = worker.run();
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

export interface WorkerTestBed {
  env: TestWorkflowEnvironment;
  emu: RunningEmulator;
  worker: TestWorker;
  taskQueue: string;
}

/**
 * The usual setup of a test file: the shared dev server, an emulator on a random port and the
 * product's worker on a task queue of the file's own, started before its tests and stopped after.
 * Read the fields inside tests and hooks (they are set by beforeAll).
 */
export function useWorkerTestBed(prefix: string): WorkerTestBed {
  const bed = { taskQueue: uniqueTaskQueue(prefix) } as WorkerTestBed;
  beforeAll(async () => {
    bed.env = await connectToDevServer();
    bed.emu = await startEmulator({ port: 0 });
    bed.worker = await startTestWorker(bed.env, bed.emu.url, bed.taskQueue);
  });
  afterAll(async () => {
    await bed.worker?.stop();
    await bed.emu?.stop();
    await bed.env?.teardown();
  });
  return bed;
}

/**
 * As useWorkerTestBed, but every test starts clean: an emptied emulator (then `prepare`, e.g. a
 * configuration), a task queue of its own and a fresh worker, stopped after the test. For files
 * whose tests kill, reset or stall workflows that must not leak into the next test.
 */
export function useWorkerPerTest(
  prefix: string,
  prepare: (emu: RunningEmulator) => void = () => undefined,
): WorkerTestBed {
  const bed = {} as WorkerTestBed;
  beforeAll(async () => {
    bed.env = await connectToDevServer();
    bed.emu = await startEmulator({ port: 0 });
  });
  afterAll(async () => {
    await bed.emu?.stop();
    await bed.env?.teardown();
  });
  beforeEach(async () => {
    bed.emu.reset();
    prepare(bed.emu);
    bed.taskQueue = uniqueTaskQueue(prefix);
    bed.worker = await startTestWorker(bed.env, bed.emu.url, bed.taskQueue);
  });
  afterEach(async () => {
    await bed.worker.stop();
  });
  return bed;
}
