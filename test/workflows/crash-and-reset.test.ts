import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payBonus } from '../../src/client';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';
import { startTestWorker } from '../harness/mturk';

const root = path.join(__dirname, '..', '..');
let env: TestWorkflowEnvironment;
let emu: RunningEmulator;

beforeAll(async () => {
  env = await connectToDevServer();
  emu = await startEmulator({ port: 0 });
});
const children = new Set<ChildProcess>();
afterAll(async () => {
  // A failed or timed-out test must not leave its worker process running.
  for (const child of children) child.kill('SIGKILL');
  await emu?.stop();
  await env?.teardown();
});

function seedOne(workerId: string) {
  const { hits } = emu.seed({ balance: '100.00', hits: [{ assignments: [{ workerId }] }] });
  return { assignmentId: hits[0]!.assignments[0]!.assignmentId, workerId };
}

/** `npm run worker` as its own process, so it can be killed like a crashed machine. */
function workerProcess(taskQueue: string): ChildProcess {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(root, 'src', 'worker-main.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        TEMPORAL_NAMESPACE: env.namespace,
        TEMPORAL_TASK_QUEUE: taskQueue,
        MTURK_TARGET: 'local',
        MTURK_ENDPOINT: emu.url,
      },
      stdio: 'ignore',
    },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('approveAndBonus across crashes and resets', () => {
  it('pays once when the worker is killed while sendBonus is in flight', async () => {
    const taskQueue = uniqueTaskQueue('crash');
    const a = seedOne('AWORKERCRASH01');
    // SendBonus takes 2 s to answer, so the kill lands while the call is in flight. The retry
    // comes when the killed attempt's start-to-close timeout (10 s) ends, well after that call
    // committed even on a loaded machine. (With 4 s, a slow lookup before the call once let the
    // retry run first: it paid under the same token, the delayed call was refused as a duplicate,
    // one bonus, but reported `paid`.)
    emu.setFaults({ seed: 1, operations: { SendBonus: { latencyMs: 2000 } } });
    const before = emu.ledger().requests.SendBonus ?? 0;

    const child = workerProcess(taskQueue);
    const exited = new Promise((r) => child.once('exit', r));
    const handle = await payBonus(
      env.client,
      { ...a, bonusAmount: '3.00', reason: 'crash test' },
      {
        taskQueue,
        workflowOptions: { activityStartToCloseTimeout: '10s', retryInitialInterval: '100ms' },
      },
    );
    await waitFor(() => (emu.ledger().requests.SendBonus ?? 0) > before);
    child.kill('SIGKILL');
    await exited;
    emu.setFaults({});

    const worker = await startTestWorker(env, emu.url, taskQueue);
    try {
      const result = await handle.result();
      expect(result.bonus.status).toBe('already-paid');
    } finally {
      await worker.stop();
    }
    expect(emu.ledger().bonuses.filter((b) => b.assignmentId === a.assignmentId)).toHaveLength(1);
  });

  it('pays once after `temporal workflow reset` to before sendBonus', async () => {
    const taskQueue = uniqueTaskQueue('reset');
    const a = seedOne('AWORKERRESET01');
    const worker = await startTestWorker(env, emu.url, taskQueue);
    try {
      const handle = await payBonus(
        env.client,
        { ...a, bonusAmount: '4.00', reason: 'reset test' },
        { taskQueue },
      );
      const first = await handle.result();
      expect(first.bonus.status).toBe('paid');

      const history = await handle.fetchHistory();
      const scheduled = history.events!.find(
        (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendBonus',
      )!;
      const resetTo = scheduled.activityTaskScheduledEventAttributes!.workflowTaskCompletedEventId!;
      const { runId } = await env.client.workflowService.resetWorkflowExecution({
        namespace: env.namespace,
        workflowExecution: { workflowId: handle.workflowId },
        workflowTaskFinishEventId: resetTo,
        requestId: randomUUID(),
        reason: 'test: reset to before sendBonus',
      });
      const second = await env.client.workflow
        .getHandle(handle.workflowId, runId ?? undefined)
        .result();
      expect(second.bonus.status).toBe('already-paid');
      expect(second.bonus.token).toBe(first.bonus.token);
    } finally {
      await worker.stop();
    }
    expect(emu.ledger().bonuses.filter((b) => b.assignmentId === a.assignmentId)).toHaveLength(1);
  });
});
