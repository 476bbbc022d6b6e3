/**
 * Structured logs: every line about a payment names its workflow and its assignment, so an
 * operator can go from a log line to the payment's history and back.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { createMTurkActivities } from '../../src/activities';
import { payBonus } from '../../src/client';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { fundsAddedSignal, statusQuery } from '../../src/workflows';
import { emulatorClient, workflowBundle } from '../harness/mturk';
import { uniqueTaskQueue } from '../harness/temporal';

const entries: LogEntry[] = [];
let env: TestWorkflowEnvironment;
let emu: RunningEmulator;

beforeAll(async () => {
  // This file's own process: capture everything the runtime logs.
  Runtime.install({ logger: new DefaultLogger('INFO', (entry) => entries.push(entry)) });
  env = await TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
  });
  emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emu?.stop();
  await env?.teardown();
});

const REASON = 'Personal words for this worker only';

it('names the workflow, the assignment and MTurk’s receipt in activity and workflow logs', async () => {
  const taskQueue = uniqueTaskQueue('logging');
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createMTurkActivities({ client: emulatorClient(emu.url) }),
  });
  const { hits } = emu.seed({
    balance: '0.10', // too little: the workflow logs its wait for funds
    hits: [{ assignments: [{ workerId: 'ALOGGED00001' }] }],
  });
  const assignmentId = hits[0]!.assignments[0]!.assignmentId;
  const workflowId = await worker.runUntil(async () => {
    const handle = await payBonus(
      env.client,
      { assignmentId, workerId: 'ALOGGED00001', bonusAmount: '1.00', reason: REASON },
      { taskQueue, workflowOptions: { retryInitialInterval: '50ms' } },
    );
    while ((await handle.query(statusQuery)).state !== 'waiting-for-funds') {
      await new Promise((r) => setTimeout(r, 50));
    }
    emu.addBalance('10.00');
    await handle.signal(fundsAddedSignal);
    await handle.result();
    return handle.workflowId;
  });

  const paid = entries.find((e) => e.message === 'MTurk bonus paid');
  expect(paid?.meta).toMatchObject({
    workflowId,
    workflowType: 'approveAndBonus',
    activityType: 'sendBonus',
    assignmentId,
    workerId: 'ALOGGED00001',
    amount: '1.00',
    requestId: expect.any(String),
    // Refused for funds first: nothing was paid under generation 0, so it paid under 1.
    token: expect.stringMatching(/^tm1-1-/),
  });
  const approved = entries.find((e) => e.message === 'MTurk assignment approved');
  expect(approved?.meta).toMatchObject({
    workflowId,
    activityType: 'approveAssignment',
    assignmentId,
  });
  const waiting = entries.find((e) => e.message === 'waiting for funds');
  expect(waiting?.meta).toMatchObject({ workflowId, assignmentId, amount: '1.00' });
  // The reason is the worker's business: it is paid, not logged.
  const text = (e: LogEntry) =>
    JSON.stringify([e.message, e.meta], (_, v: unknown) => (typeof v === 'bigint' ? `${v}` : v));
  expect(entries.some((e) => text(e).includes(REASON))).toBe(false);
});
