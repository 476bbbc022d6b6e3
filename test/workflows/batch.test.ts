import { isDeepStrictEqual } from 'node:util';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { RejectAssignmentCommand } from '@aws-sdk/client-mturk';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { payBonusAndWait } from '../../src/client';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import type { ApproveAndBonusInput } from '../../src/common/types';
import { bonusWorkflowId } from '../../src/common/workflow-ids';
import {
  MAX_BATCH_ROWS,
  batchResultRows,
  decodeBatchRow,
  encodeBatchRows,
  packOutcomes,
  unpackOutcomes,
  type BatchRowOutcome,
  type PayBatchInput,
  type PayBatchResult,
} from '../../src/common/batch';
import { payBatch, progressQuery } from '../../src/workflows/batch';
import { emulatorClient, startTestWorker, type TestWorker, workflowBundle } from '../harness/mturk';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';

let env: TestWorkflowEnvironment;
let emu: RunningEmulator;
let taskQueue: string;
let worker: TestWorker;

/** Quick retries keep fault tests short; the policy's shape is the production one. */
const fastOptions = { retryInitialInterval: '50ms', retryMaximumInterval: '500ms' };

/** `count` submitted assignments by distinct workers, each asking a different amount. */
function seedRows(count: number, balance = '1000.00'): ApproveAndBonusInput[] {
  const assignments = Array.from({ length: count }, (_, i) => ({
    workerId: `AWORKER${String(i).padStart(7, '0')}`,
  }));
  const { hits } = emu.seed({ balance, hits: [{ assignments }] });
  return hits[0]!.assignments.map((a, i) => ({
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    bonusAmount: `${i + 1}.0${i % 10}`,
    reason: 'Thanks for taking part in the study',
  }));
}

function batchInput(
  rows: ApproveAndBonusInput[],
  extra: Partial<PayBatchInput> = {},
): PayBatchInput {
  return { ...encodeBatchRows(rows), options: fastOptions, ...extra };
}

async function runBatch(
  input: PayBatchInput,
  workflowId = `batch-${taskQueue}`,
): Promise<PayBatchResult> {
  return env.client.workflow.execute(payBatch, { taskQueue, workflowId, args: [input] });
}

function bonusesByAssignment(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const b of emu.ledger().bonuses)
    counts.set(b.assignmentId, (counts.get(b.assignmentId) ?? 0) + 1);
  return counts;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('payBatch', () => {
  beforeAll(async () => {
    env = await connectToDevServer();
    emu = await startEmulator({ port: 0 });
    await workflowBundle(); // once, here, rather than inside the first test's time
  });
  afterAll(async () => {
    await emu?.stop();
    await env?.teardown();
  });

  beforeEach(async () => {
    emu.reset();
    taskQueue = uniqueTaskQueue('batch');
    worker = await startTestWorker(env, emu.url, taskQueue);
  });
  afterEach(async () => {
    await worker.stop();
  });

  it('reports as paid what it paid, even when a SendBonus answer was lost and a retry found it', async () => {
    const rows = seedRows(3);
    // Every SendBonus commits and then drops its connection: each payment learns of its own
    // payment only through the retry's ledger lookup.
    emu.setFaults({ seed: 2, operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    const result = await runBatch(batchInput(rows));
    emu.setFaults({});

    expect(result.counts).toMatchObject({ total: 3, paid: 3, alreadyPaid: 0, failed: 0 });
    expect([...bonusesByAssignment().values()]).toEqual([1, 1, 1]);
  });

  it('pays every row once through a bounded window and continue-as-new, exact to the cent', async () => {
    const rows = seedRows(12);
    // A slow SendBonus makes the window observable.
    emu.setFaults({ seed: 1, operations: { SendBonus: { latencyMs: 150 } } });
    const handle = await env.client.workflow.start(payBatch, {
      taskQueue,
      workflowId: `batch-${taskQueue}`,
      args: [batchInput(rows, { concurrency: 3, continueAsNewEvery: 4 })],
    });
    let maxInFlight = 0;
    let sawProgress = false;
    const watching = (async () => {
      for (;;) {
        const progress = await handle.query(progressQuery, { limit: 0 }).catch(() => undefined);
        if (progress) {
          maxInFlight = Math.max(maxInFlight, progress.counts.inFlight);
          if (progress.counts.paid > 0 && progress.counts.paid < 12) sawProgress = true;
          if (progress.done) return;
        }
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const result = await handle.result();
    await watching;

    expect(result.counts).toMatchObject({
      total: 12,
      paid: 12,
      alreadyPaid: 0,
      failed: 0,
      inFlight: 0,
      pending: 0,
    });
    expect(result.runs).toBeGreaterThanOrEqual(2);
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(3);
    expect(sawProgress).toBe(true);

    const input = batchInput(rows);
    const entries = batchResultRows(input, result);
    expect(entries).toHaveLength(12);
    for (const [i, entry] of entries.entries()) {
      expect(entry).toMatchObject({
        index: i,
        assignmentId: rows[i]!.assignmentId,
        status: 'paid',
        workflowId: bonusWorkflowId(rows[i]!.assignmentId),
      });
      expect(entry.requestId).toBeTruthy();
      expect(entry.token).toMatch(/^tm1-0-[0-9a-f]{48}$/);
    }
    const ledger = emu.ledger();
    expect([...bonusesByAssignment().values()].every((n) => n === 1)).toBe(true);
    expect(ledger.bonuses).toHaveLength(12);
    expect(ledger.approvals).toHaveLength(12);
    // 1.00 + 2.01 + ... + 12.01: every amount and its 20 % fee, to the cent.
    const expectedCents = rows.reduce((sum, r) => {
      const cents = Math.round(Number(r.bonusAmount) * 100);
      return sum + cents + Math.max(1, Math.round(cents / 5));
    }, 0);
    expect(ledger.totals.bonusCount).toBe(12);
    expect(Math.round(Number(ledger.balance) * 100)).toBe(100_000 - expectedCents);
    for (const entry of entries) {
      const bonus = ledger.bonuses.find((b) => b.assignmentId === entry.assignmentId)!;
      expect(bonus.amount).toBe(entry.amount);
      expect(bonus.token).toBe(entry.token);
      expect(bonus.requestId).toBe(entry.requestId);
    }
  });

  it('reports a row paid earlier by payBonus as already-paid, and a different earlier amount as a conflict', async () => {
    const rows = seedRows(4);
    const earlier = await payBonusAndWait(env.client, rows[0]!, {
      taskQueue,
      workflowOptions: fastOptions,
    });
    await payBonusAndWait(
      env.client,
      { ...rows[1]!, bonusAmount: '0.50' },
      { taskQueue, workflowOptions: fastOptions },
    );
    const requestsBefore = emu.ledger().requests.SendBonus ?? 0;

    const result = await runBatch(batchInput(rows));
    const entries = batchResultRows(batchInput(rows), result);
    expect(entries.map((e) => e.status)).toEqual(['already-paid', 'failed', 'paid', 'paid']);
    expect(entries[0]!.requestId).toBe(earlier.bonus.requestId);
    expect(entries[0]!.token).toBe(earlier.bonus.token);
    expect(entries[1]).toMatchObject({ errorType: 'PaymentConflict' });
    expect(entries[1]!.error).toContain('already paid 0.50');
    // Two new payments only: rows 2 and 3.
    expect(emu.ledger().requests.SendBonus).toBe(requestsBefore + 2);
    expect([...bonusesByAssignment().values()]).toEqual([1, 1, 1, 1]);
    expect(result.counts).toMatchObject({ paid: 2, alreadyPaid: 1, failed: 1 });
  });

  it('reports a payment that MTurk refuses as failed with its type, and pays the others', async () => {
    const rows = seedRows(3);
    await emulatorClient(emu.url).send(
      new RejectAssignmentCommand({ AssignmentId: rows[1]!.assignmentId, RequesterFeedback: 'no' }),
    );
    const result = await runBatch(batchInput(rows));
    const entries = batchResultRows(batchInput(rows), result);
    expect(entries.map((e) => e.status)).toEqual(['paid', 'failed', 'paid']);
    expect(entries[1]).toMatchObject({ errorType: 'AssignmentNotApprovable' });
    expect(entries[1]!.token).toBeUndefined();
    expect(emu.ledger().bonuses).toHaveLength(2);
  });

  it('counts payments waiting for funds, forwards fundsAdded, then pays each once', async () => {
    const rows = seedRows(3, '1.00').map((r) => ({ ...r, bonusAmount: '2.00' }));
    const handle = await env.client.workflow.start(payBatch, {
      taskQueue,
      workflowId: `batch-${taskQueue}`,
      args: [batchInput(rows, { stateCheckInterval: '500ms' })],
    });
    await waitFor(async () => (await handle.query(progressQuery)).counts.waitingForFunds === 3);
    const waitingPage = await handle.query(progressQuery, { only: ['waiting-for-funds'] });
    expect(waitingPage.rows.map((r) => r.assignmentId).sort()).toEqual(
      rows.map((r) => r.assignmentId).sort(),
    );
    expect(emu.ledger().bonuses).toHaveLength(0);

    emu.addBalance('10.00');
    await handle.signal('fundsAdded');
    const result = await handle.result();
    expect(result.counts).toMatchObject({ paid: 3, waitingForFunds: 0 });
    expect(emu.ledger().bonuses).toHaveLength(3);
    expect(emu.ledger().balance).toBe('3.80');
  });

  it('carries a payment waiting for funds across continue-as-new and reports it paid by the batch', async () => {
    const rows = seedRows(5, '10.00').map((r, i) => ({
      ...r,
      bonusAmount: i === 4 ? '20.00' : '1.00',
    }));
    const handle = await env.client.workflow.start(payBatch, {
      taskQueue,
      workflowId: `batch-${taskQueue}`,
      args: [batchInput(rows, { continueAsNewEvery: 2, stateCheckInterval: '300ms' })],
    });
    await waitFor(async () => {
      const progress = await handle.query(progressQuery, { limit: 0 });
      return progress.run >= 2 && progress.counts.waitingForFunds === 1;
    });
    expect(emu.ledger().bonuses).toHaveLength(4);

    emu.addBalance('30.00');
    await handle.signal('fundsAdded');
    const result = await handle.result();
    expect(result.runs).toBeGreaterThanOrEqual(2);
    expect(result.counts).toMatchObject({ paid: 5, alreadyPaid: 0 });
    expect(result.rows[4]!.requestId).toBe(
      emu.ledger().bonuses.find((b) => b.assignmentId === rows[4]!.assignmentId)!.requestId,
    );
    expect([...bonusesByAssignment().values()]).toEqual([1, 1, 1, 1, 1]);
  });

  it.each(['terminated', 'cancelled'] as const)(
    'lets payments in flight finish when the batch is %s, and a new run pays nothing twice',
    async (how) => {
      const rows = seedRows(6);
      emu.setFaults({ seed: 2, operations: { SendBonus: { latencyMs: 400 } } });
      const workflowId = `batch-${taskQueue}`;
      const handle = await env.client.workflow.start(payBatch, {
        taskQueue,
        workflowId,
        args: [batchInput(rows, { concurrency: 2 })],
      });
      await waitFor(() => (emu.ledger().requests.SendBonus ?? 0) >= 1);
      if (how === 'terminated') await handle.terminate('operator stopped the batch');
      else await handle.cancel();
      expect((await handle.result().catch((e: unknown) => e)) instanceof WorkflowFailedError).toBe(
        true,
      );
      // The abandoned children still finish their payments.
      await waitFor(async () => {
        const started = await Promise.all(
          rows.map((r) =>
            env.client.workflow
              .getHandle(bonusWorkflowId(r.assignmentId))
              .describe()
              .catch(() => undefined),
          ),
        );
        return started.every((d) => d === undefined || d.status.name !== 'RUNNING');
      });
      const paidByFirstRun = emu.ledger().bonuses.length;
      expect(paidByFirstRun).toBeGreaterThanOrEqual(1);
      expect(paidByFirstRun).toBeLessThan(6);

      emu.setFaults({});
      const result = await env.client.workflow.execute(payBatch, {
        taskQueue,
        workflowId,
        args: [batchInput(rows, { concurrency: 2 })],
      });
      expect(result.counts.alreadyPaid).toBe(paidByFirstRun);
      expect(result.counts.paid).toBe(6 - paidByFirstRun);
      expect([...bonusesByAssignment().values()]).toEqual([1, 1, 1, 1, 1, 1]);
    },
  );

  it('refuses bad rows and duplicate payments before any MTurk call', async () => {
    const rows = seedRows(2);
    const bad = batchInput([
      rows[0]!,
      { ...rows[1]!, bonusAmount: '1.234' },
      { ...rows[0]!, bonusAmount: '3.00' },
    ]);
    const err = await runBatch(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const message = String((err as WorkflowFailedError).cause?.message);
    expect(message).toContain('rows[1].bonusAmount');
    expect(message).toContain('rows[2]');
    expect(Object.values(emu.ledger().requests).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

describe('batch rows', () => {
  it('keeps 10,000 rows and their outcomes well under the 2 MB payload limit', () => {
    const requests: ApproveAndBonusInput[] = Array.from({ length: MAX_BATCH_ROWS }, (_, i) => ({
      assignmentId: `3AMYWKA6YBLU92KSOGLNT7${String(i).padStart(8, '0')}`,
      workerId: `A1B2C3D4${String(i).padStart(6, '0')}`,
      bonusAmount: '10.10',
      reason: 'Thanks for the careful work on our study',
      bonusKey: 'round-2',
    }));
    const encoded = encodeBatchRows(requests);
    expect(decodeBatchRow(encoded, 42)).toEqual(requests[42]);
    // One row in a hundred failed with a long error; one paid with a later token generation.
    const outcomes = requests.map((_, i): BatchRowOutcome =>
      i % 100 === 7
        ? { status: 'failed', errorType: 'AssignmentNotApprovable', error: 'x'.repeat(300) }
        : {
            status: 'paid',
            requestId: '6f1c2b1e-9b7a-4f7e-8a2c-1d2e3f4a5b6c',
            ...(i === 9 && { tokenGeneration: 1 }),
          },
    );
    const carried = [...outcomes.slice(0, -1), null];
    const packed = packOutcomes(carried);
    const unpacked = unpackOutcomes(packed);
    // node's deep equality: vitest's would take seconds on 10,000 rows.
    expect(unpacked.length).toBe(carried.length);
    expect(unpacked.every((outcome, i) => isDeepStrictEqual(outcome, carried[i]))).toBe(true);
    expect(unpacked[9]).toEqual(carried[9]);
    const inputBytes = Buffer.byteLength(JSON.stringify(encoded));
    const carriedBytes = inputBytes + Buffer.byteLength(JSON.stringify(packed));
    const resultBytes = Buffer.byteLength(JSON.stringify(outcomes));
    expect(inputBytes).toBeLessThan(750_000);
    expect(carriedBytes).toBeLessThan(1_200_000);
    expect(resultBytes).toBeLessThan(750_000);
  });
});
