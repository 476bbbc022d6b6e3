/**
 * `npm run worker` as it runs in production, in a child process: configured only by the
 * environment, with payload encryption and Prometheus metrics switched on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { payBonus, payBonusAndWait } from '../../src/client';
import { dataConverterFromEnv } from '../../src/codec';
import { freePort } from '../../tools/devserver/dev-server';
import { startReviewHit } from '../../src/review-client';
import type { ReviewDecision } from '../../src/common/review-types';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { WORKER_NODE_FLAGS } from '../../src/worker-memory';
import { uniqueTaskQueue } from '../harness/temporal';

const ROOT = path.join(__dirname, '..', '..');
const CODEC_KEY = randomBytes(32).toString('base64');
const REASON = 'Thanks for the careful transcription of page 7';

let emu: RunningEmulator;
let worker: ChildProcess;
let workerOutput = '';
let connection: Connection;
let client: Client;
let taskQueue: string;
let metricsUrl: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  taskQueue = uniqueTaskQueue('worker-process');
  const metricsAddress = `127.0.0.1:${await freePort()}`;
  metricsUrl = `http://${metricsAddress}/metrics`;
  worker = spawnWorkerProcess({
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_MTURK_CODEC_KEY: CODEC_KEY,
    TEMPORAL_MTURK_METRICS: metricsAddress,
  });
  worker.stdout!.on('data', (d: Buffer) => (workerOutput += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (workerOutput += d.toString()));

  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({
    connection,
    namespace: inject('temporalNamespace'),
    // The same key as the worker. Failure decoding needs no converter module on this side.
    dataConverter: dataConverterFromEnv(
      { TEMPORAL_MTURK_CODEC_KEY: CODEC_KEY },
      { encodeFailures: false },
    ),
  });
});

/** `npm run worker` (node --import tsx src/worker-main.ts), configured by `env` only. */
function spawnWorkerProcess(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/worker-main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TEMPORAL_CONFIG_FILE: path.join(ROOT, 'no-such-temporal.toml'),
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      MTURK_TARGET: 'local',
      MTURK_ENDPOINT: emu.url,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The worker started by the launcher `pid` (not, say, the esbuild service tsx starts). */
function workerOf(pid: number): number | undefined {
  return childrenOf(pid).find((child) => {
    try {
      return readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('worker-main');
    } catch {
      return false;
    }
  });
}

/** Processes whose parent is `pid`, read from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map(Number);
}

function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function eventually<T>(get: () => T | undefined, what: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGINT'); // Worker.run() shuts down gracefully on SIGINT
    const timer = setTimeout(() => worker.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  await connection?.close();
  await emu?.stop();
});

/** Every event of a workflow's history as the server stores it, serialised to bytes. */
async function rawHistory(workflowId: string): Promise<Buffer> {
  const events: temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: inject('temporalNamespace'),
      execution: { workflowId },
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
}

function seed(workerId: string) {
  const { hits } = emu.seed({ balance: '50.00', hits: [{ assignments: [{ workerId }] }] });
  return hits[0]!.assignments[0]!.assignmentId;
}

describe('the worker process (npm run worker)', () => {
  it('pays with payload encryption on, and the server history holds no reason or worker ID', async () => {
    const workerId = 'A3SECRETWORKERX';
    const assignmentId = seed(workerId);
    const handle = await payBonus(
      client,
      { assignmentId, workerId, bonusAmount: '1.25', reason: REASON },
      { taskQueue, workflowOptions: { retryInitialInterval: '50ms' } },
    );
    const result = await handle.result();
    expect(result).toMatchObject({ workerId, bonus: { status: 'paid', amount: '1.25' } });
    expect(emu.ledger().bonuses[0]).toMatchObject({ workerId, reason: REASON });

    const history = await rawHistory(handle.workflowId);
    expect(history.includes(workerId)).toBe(false);
    expect(history.includes(REASON)).toBe(false);
    expect(history.includes('Thanks for the careful')).toBe(false);
    expect(history.includes('binary/encrypted')).toBe(true);
    expect(workerOutput).toContain('payload encryption on');
  });

  it('encrypts failure messages too (they quote worker IDs)', async () => {
    const assignmentId = seed('A3REALWORKER');
    const impostor = 'A3IMPOSTORWORKER';
    const err = await payBonusAndWait(
      client,
      { assignmentId, workerId: impostor, bonusAmount: '1.00', reason: REASON },
      { taskQueue, workflowOptions: { retryInitialInterval: '50ms' } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    // Decrypted for the key holder: MTurk's words, naming the worker.
    const activityFailure = (err as WorkflowFailedError).cause?.cause as Error | undefined;
    expect(activityFailure?.message).toContain(impostor);

    const history = await rawHistory(`mturk-bonus/${assignmentId}`);
    expect(history.includes(impostor)).toBe(false);
    expect(history.includes(REASON)).toBe(false);
  });

  it('runs a review, and a second review reads the first one’s encrypted outcome', async () => {
    const { hits } = emu.seed({
      balance: '50.00',
      hits: [{ assignments: [{ workerId: 'A3REVIEWED01' }] }],
    });
    const hitId = hits[0]!.hitId;
    // The user's decision worker, with the same converter as everyone else.
    const native = await NativeConnection.connect({ address: inject('temporalAddress') });
    const decisionQueue = uniqueTaskQueue('worker-process-decide');
    const decider = await Worker.create({
      connection: native,
      namespace: inject('temporalNamespace'),
      taskQueue: decisionQueue,
      dataConverter: client.options.dataConverter,
      activities: {
        async decide(): Promise<ReviewDecision> {
          return { action: 'approve-and-bonus', bonusAmount: '0.40', reason: REASON };
        },
      },
    });
    const review = (statuses: ('Submitted' | 'Approved')[], run: number) =>
      startReviewHit(
        client,
        { hitId, decisionActivity: 'decide', decisionTaskQueue: decisionQueue, statuses },
        { taskQueue, workflowId: `review-${hitId}-${run}` },
      ).then((h) => h.result());
    try {
      await decider.runUntil(async () => {
        const first = await review(['Submitted'], 1);
        expect(first.counts).toMatchObject({ bonused: 1, earlier: 0, failed: 0 });
        const second = await review(['Approved'], 2);
        expect(second.counts).toMatchObject({ bonused: 1, earlier: 1, failed: 0 });
        expect(second.outcomes[0]?.bonus).toEqual(first.outcomes[0]?.bonus);
      });
    } finally {
      await native.close();
    }
    expect(emu.ledger().bonuses.filter((b) => b.workerId === 'A3REVIEWED01')).toHaveLength(1);
    const history = await rawHistory(`review-${hitId}-2`);
    expect(history.includes('A3REVIEWED01')).toBe(false);
  });

  it('runs the worker in a child process with the worker memory settings', async () => {
    const child = workerOf(worker.pid!);
    expect(child).toBeDefined();
    const argv = readFileSync(`/proc/${child}/cmdline`, 'utf8').split('\0');
    for (const flag of WORKER_NODE_FLAGS) expect(argv).toContain(flag);
    expect(readFileSync(`/proc/${child}/environ`, 'utf8').split('\0')).toContain(
      'MALLOC_ARENA_MAX=2',
    );
    expect(workerOutput).toContain('worker process with --max-old-space-size=512');
  });

  it('takes its worker down with it when the launcher is killed outright', async () => {
    const launcher = spawnWorkerProcess({ TEMPORAL_TASK_QUEUE: uniqueTaskQueue('orphan') });
    let output = '';
    launcher.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const child = await eventually(() => workerOf(launcher.pid!), 'the worker');
      // Running our code: the worker's own first line is printed.
      await eventually(() => (output.includes('task queue') ? true : undefined), 'its output');
      launcher.kill('SIGKILL');
      await eventually(() => (isRunning(child) ? undefined : true), 'the worker to exit');
    } finally {
      launcher.kill('SIGKILL');
    }
  });

  it('serves Prometheus metrics when TEMPORAL_MTURK_METRICS is set', async () => {
    let body = '';
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(metricsUrl);
        body = await res.text();
        if (res.ok && /temporal_workflow_completed/.test(body)) break;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(body).toMatch(/^# TYPE temporal_\w+ /m);
    // The payments above ran on this worker: its workflow and activity metrics say so.
    expect(body).toMatch(/temporal_workflow_completed\{[^}]*task_queue="[^"]+"[^}]*\} [1-9]/);
    expect(body).toMatch(/temporal_activity_execution_latency/);
    expect(workerOutput).toContain(`Prometheus metrics at ${metricsUrl}`);
  });

  it('stops gracefully on SIGINT, the worker with it, and exits 0', async () => {
    const child = workerOf(worker.pid!);
    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    worker.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(isRunning(child!)).toBe(false);
  });
});
