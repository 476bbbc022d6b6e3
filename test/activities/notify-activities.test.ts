/**
 * The notifyWorkers activity against the emulator through the real AWS SDK client over HTTP.
 * MockActivityEnvironment supplies the activity context (heartbeat details of an earlier attempt).
 */
import type { MTurkClient } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifyActivities, type NotifyWorkersResult } from '../../src/activities';
import { FailureType } from '../../src/common/errors';
import { createMTurkClient, localMTurkConfig } from '../../src/mturk/client';
import { startEmulator, type RunningEmulator } from '../../src/emulator';

let emulator: RunningEmulator;
let client: MTurkClient;
const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  emulator = await startEmulator({ port: 0 });
  client = createMTurkClient(localMTurkConfig(emulator.url));
});
afterAll(async () => {
  client?.destroy();
  await emulator?.stop();
});
beforeEach(() => emulator.reset());

const workers = (n: number) => Array.from({ length: n }, (_, i) => `ANOTIFYACT${i}`);

/** `n` workers whose work was approved (reachable), plus the given others. */
function seedApproved(n: number, others: { workerId: string }[] = []) {
  emulator.seed({
    hits: [
      {
        assignments: [
          ...workers(n).map((workerId) => ({ workerId, status: 'Approved' as const })),
          ...others,
        ],
      },
    ],
  });
}

describe('notifyWorkers', () => {
  it('sends 100 workers per call and returns the workers MTurk could not reach', async () => {
    seedApproved(230, [{ workerId: 'ANOTREVIEWED' }]);
    const env = new MockActivityEnvironment(undefined, { logger: quiet });
    const ids = [...workers(230), 'ANOTREVIEWED', 'ASTRANGER', workers(230)[0]!];
    const result = (await env.run(createNotifyActivities({ client, logger: quiet }).notifyWorkers, {
      subject: 'Your bonus',
      messageText: 'You got a bonus for accuracy above 98 %. Thanks!',
      workerIds: ids,
    })) as NotifyWorkersResult;
    expect(result.calls).toBe(3); // 232 distinct workers: 100 + 100 + 32
    expect(result.notified).toEqual(workers(230));
    expect(result.failures).toEqual([
      { workerId: 'ANOTREVIEWED', code: 'HardFailure', message: expect.any(String) },
      { workerId: 'ASTRANGER', code: 'HardFailure', message: expect.any(String) },
    ]);
    const sent = emulator.ledger().notifications;
    expect(sent.map((n) => n.workerIds.length + n.failures.length)).toEqual([100, 100, 32]);
    expect(emulator.ledger().requests.NotifyWorkers).toBe(3);
  });

  it('resumes after the groups an earlier attempt sent: those workers are not told twice', async () => {
    seedApproved(150);
    const earlier = {
      groupsDone: 1,
      notified: workers(100),
      failures: [],
      calls: 1,
    };
    const env = new MockActivityEnvironment(
      { attempt: 2, heartbeatDetails: earlier },
      { logger: quiet },
    );
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    const result = await env.run(createNotifyActivities({ client, logger: quiet }).notifyWorkers, {
      subject: 'Your bonus',
      messageText: 'Thanks!',
      workerIds: workers(150),
    });
    expect(result).toEqual({ notified: workers(150), failures: [], calls: 2 });
    expect(emulator.ledger().notifications.map((n) => n.workerIds)).toEqual([
      workers(150).slice(100),
    ]);
    expect(beats.at(-1)).toMatchObject({ groupsDone: 2 });
  });

  it('refuses invalid input before any call, as a non-retryable InvalidNotifyRequest', async () => {
    const notify = createNotifyActivities({ client, logger: quiet }).notifyWorkers;
    const env = new MockActivityEnvironment(undefined, { logger: quiet });
    for (const input of [
      { subject: '', messageText: 'x', workerIds: ['AW1'] },
      { subject: 's'.repeat(201), messageText: 'x', workerIds: ['AW1'] },
      { subject: 's', messageText: 'm'.repeat(4097), workerIds: ['AW1'] },
      { subject: 's', messageText: 'x', workerIds: [] },
      { subject: 's', messageText: 'x', workerIds: ['not a worker'] },
    ]) {
      const err = await env.run(notify, input).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect((err as ApplicationFailure).type).toBe(FailureType.InvalidNotifyRequest);
      expect((err as ApplicationFailure).nonRetryable).toBe(true);
    }
    expect(emulator.ledger().requests.NotifyWorkers).toBe(0);
  });
});
