/**
 * Throttling against the emulator through the real AWS SDK over HTTP, with the client
 * createMTurkClient builds: throttles are retried in-process (no Temporal retry, no ledger
 * lookup), nothing else is; and a batch on a real worker pays every row exactly once under a
 * tight account limit.
 */
import { GetAccountBalanceCommand, MTurkClient, SendBonusCommand } from '@aws-sdk/client-mturk';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMTurkActivities } from '../../src/activities';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { createMTurkClient, localMTurkConfig, mturkRateLimiter } from '../../src/mturk/client';
import { AdaptiveRateLimiter, ThrottleOnlyRetryStrategy } from '../../src/mturk/rate-limiter';
import { createMTurkWorker } from '../../src/worker';
import { encodeBatchRows } from '../../src/common/batch';
import { payBatch } from '../../src/workflows/batch';
import { workflowBundle } from '../harness/mturk';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';

let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emu.stop();
});
beforeEach(() => {
  emu.configure({ rateLimit: null });
  emu.reset();
});

function seed(count: number) {
  const { hits } = emu.seed({
    balance: '1000.00',
    hits: [
      {
        assignments: Array.from({ length: count }, (_, i) => ({
          workerId: `ARATE${String(i).padStart(6, '0')}`,
        })),
      },
    ],
  });
  return hits[0]!.assignments.map((a) => ({
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    bonusAmount: '1.00',
    reason: 'Thanks for taking part',
  }));
}

const settle = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as Error & { $metadata?: { attempts?: number } },
  );

/** Pays `count` bonuses through the sendBonus activity, each as its first attempt. */
async function payAsFirstAttempts(client: MTurkClient, count: number) {
  const { sendBonus } = createMTurkActivities({ client });
  for (const [i, row] of seed(count).entries()) {
    const result = (await new MockActivityEnvironment({ attempt: 1 }).run(() =>
      sendBonus({ ...row, uniqueRequestToken: `tok-rate-${i}` }),
    )) as { status: string };
    expect(result.status).toBe('paid');
  }
}

describe('throttles are retried in-process, nothing else is', () => {
  it('a throttled SendBonus is paid in the same attempt, with no more ledger lookups', async () => {
    const client = createMTurkClient(localMTurkConfig(emu.url));
    try {
      await payAsFirstAttempts(client, 6);
      const calm = emu.ledger();
      expect(calm.bonuses).toHaveLength(6);

      emu.reset();
      emu.setFaults({ seed: 7, operations: { SendBonus: { throttleRate: 0.5 } } });
      await payAsFirstAttempts(client, 6);
      const throttled = emu.ledger();
      expect(throttled.faults.throttle).toBeGreaterThan(0);
      expect(throttled.bonuses).toHaveLength(6);
      expect(new Set(throttled.bonuses.map((b) => b.assignmentId)).size).toBe(6);
      // The retries stayed inside the attempt: as many lookups as without throttling.
      expect(throttled.requests.ListBonusPayments).toBe(calm.requests.ListBonusPayments);
      expect(throttled.requests.SendBonus).toBe(6 + throttled.faults.throttle);
      expect(mturkRateLimiter(client)!.stats().retried).toBe(throttled.faults.throttle);
    } finally {
      client.destroy();
    }
  });

  it('a ServiceFault is not retried in-process: one request, the error surfaces', async () => {
    const client = createMTurkClient(localMTurkConfig(emu.url));
    try {
      emu.setFaults({ operations: { GetAccountBalance: { serviceFaultRate: 1 } } });
      const e = await settle(client.send(new GetAccountBalanceCommand({})));
      expect(e?.name).toBe('ServiceFault');
      expect(emu.ledger().requests.GetAccountBalance).toBe(1);
    } finally {
      client.destroy();
    }
  });

  it('a dropped connection after the payment is not retried in-process', async () => {
    const client = createMTurkClient(localMTurkConfig(emu.url));
    try {
      const [row] = seed(1);
      emu.setFaults({ operations: { SendBonus: { dropAfterCommitRate: 1 } } });
      const e = await settle(
        client.send(
          new SendBonusCommand({
            WorkerId: row!.workerId,
            AssignmentId: row!.assignmentId,
            BonusAmount: '1.00',
            Reason: 'r',
            UniqueRequestToken: 'tok-drop',
          }),
        ),
      );
      expect(e).toBeInstanceOf(Error);
      const l = emu.ledger();
      expect(l.requests.SendBonus).toBe(1);
      expect(l.bonuses).toHaveLength(1);
    } finally {
      client.destroy();
    }
  });

  it('gives a throttle back to the caller after its retries (then Temporal retries)', async () => {
    const client = new MTurkClient({
      region: 'us-east-1',
      endpoint: emu.url,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      retryStrategy: new ThrottleOnlyRetryStrategy(new AdaptiveRateLimiter({ maxRate: 1000 }), {
        maxThrottleRetries: 2,
        random: () => 0,
      }),
    });
    try {
      emu.setFaults({ operations: { GetAccountBalance: { throttleRate: 1 } } });
      const e = await settle(client.send(new GetAccountBalanceCommand({})));
      expect(e?.name).toBe('ThrottlingException');
      expect(emu.ledger().requests.GetAccountBalance).toBe(3);
    } finally {
      client.destroy();
    }
  });
});

describe('a batch under a tight account limit', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectToDevServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('pays every row exactly once at 5 calls/s (burst 10)', async () => {
    const rows = seed(15);
    emu.configure({ rateLimit: { rate: 5, burst: 10 } });
    const taskQueue = uniqueTaskQueue('rate-limited');
    const mturk = createMTurkClient(localMTurkConfig(emu.url));
    const worker = await createMTurkWorker({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      mturk,
      workflowBundle: await workflowBundle(),
    });
    const running = worker.run();
    try {
      const result = await env.client.workflow.execute(payBatch, {
        taskQueue,
        workflowId: `batch-${taskQueue}`,
        args: [{ ...encodeBatchRows(rows), options: {} }],
      });
      expect(result.counts.paid + result.counts.alreadyPaid).toBe(15);
      const l = emu.ledger();
      expect(l.bonuses).toHaveLength(15);
      expect(new Set(l.bonuses.map((b) => b.assignmentId)).size).toBe(15);
      expect(l.balance).toBe('982.00'); // 15 × ($1.00 + $0.20 fee)
      // What the limit refused, the worker's client saw (and retried) as throttles.
      const throttled = Object.values(l.rateLimited).reduce((a, b) => a + b, 0);
      expect(mturkRateLimiter(mturk)!.stats().throttled).toBe(throttled);
    } finally {
      worker.shutdown();
      await running;
      mturk.destroy();
    }
  });

  it('createMTurkWorker({ mturkRateLimit }) sets the ceiling of its client; bad values refused', async () => {
    const mturk = createMTurkClient(localMTurkConfig(emu.url));
    try {
      const make = (mturkRateLimit: number) =>
        createMTurkWorker({
          connection: env.nativeConnection,
          namespace: env.namespace,
          taskQueue: uniqueTaskQueue('ceiling'),
          mturk,
          mturkRateLimit,
          workflowBundle: { code: 'unused' },
        });
      for (const bad of [0, -1, NaN, Infinity]) {
        await expect(make(bad)).rejects.toThrow(/mturkRateLimit must be/);
      }
      await make(3).catch(() => undefined); // the bundle is no bundle: only the option matters
      expect(mturkRateLimiter(mturk)!.ceiling).toBe(3);
    } finally {
      mturk.destroy();
    }
  });
});
