/**
 * The activities against the MTurk emulator through the real AWS SDK client over HTTP: no mocks
 * of the SDK. MockActivityEnvironment supplies the activity context (notably `attempt`).
 */
import type { MTurkClient } from '@aws-sdk/client-mturk';
import {
  ApplicationFailure,
  type Logger,
  type LogLevel,
  type LogMetadata,
} from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMTurkActivities } from '../../src/activities';
import { FailureType } from '../../src/common/errors';
import { createMTurkClient, localMTurkConfig } from '../../src/mturk/client';
import type { SendBonusInput } from '../../src/common/types';
import { startEmulator, type AssignmentStatus, type RunningEmulator } from '../../src/emulator';

const DAY_MS = 24 * 60 * 60 * 1000;

let emulator: RunningEmulator;
let client: MTurkClient;
let logs: LogEntry[];

type LogEntry = { level: LogLevel; message: string; meta?: LogMetadata };
let workerLogs: LogEntry[];

/** A logger that collects entries, so tests can check what was logged (and what was not). */
function collectingLogger(into: () => LogEntry[]): Logger {
  return {
    log: (level, message, meta) => into().push({ level, message, meta }),
    trace: (message, meta) => into().push({ level: 'TRACE', message, meta }),
    debug: (message, meta) => into().push({ level: 'DEBUG', message, meta }),
    info: (message, meta) => into().push({ level: 'INFO', message, meta }),
    warn: (message, meta) => into().push({ level: 'WARN', message, meta }),
    error: (message, meta) => into().push({ level: 'ERROR', message, meta }),
  };
}

const logger = collectingLogger(() => logs);
/** The mock environment's own logger (the SDK's "Activity failed" lines go here, not stderr). */
const workerLogger = collectingLogger(() => workerLogs);

function activities(maxBonusCents?: number) {
  return createMTurkActivities({ client, logger, maxBonusCents });
}

/** Runs fn as attempt `attempt` of an activity. */
function asAttempt<R>(attempt: number, fn: () => Promise<R>): Promise<R> {
  return new MockActivityEnvironment({ attempt }, { logger: workerLogger }).run(fn);
}

function seedAssignment(opts: { status?: AssignmentStatus; balance?: string } = {}) {
  const seeded = emulator.seed({
    balance: opts.balance ?? '100.00',
    hits: [{ assignments: [{ status: opts.status ?? 'Submitted' }] }],
  });
  const assignment = seeded.hits[0]!.assignments[0]!;
  return { assignmentId: assignment.assignmentId, workerId: assignment.workerId };
}

function bonusInput(
  ids: { assignmentId: string; workerId: string },
  extra: Partial<SendBonusInput> = {},
): SendBonusInput {
  return {
    ...ids,
    bonusAmount: '1.50',
    reason: 'Thank you for the careful work',
    uniqueRequestToken: `tok-${ids.assignmentId.slice(0, 12)}`,
    ...extra,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

function totalRequests(): number {
  return Object.values(emulator.ledger().requests).reduce((sum, n) => sum + n, 0);
}

function requests(operation: string): number {
  return emulator.ledger().requests[operation] ?? 0;
}

beforeAll(async () => {
  emulator = await startEmulator({ port: 0 });
  client = createMTurkClient(localMTurkConfig(emulator.url));
});

afterAll(async () => {
  client?.destroy();
  await emulator?.stop();
});

beforeEach(() => {
  emulator.reset();
  emulator.configure({
    tokenTtlMs: DAY_MS,
    consumeTokenOnFailure: false,
    listingLagMs: 0,
    normaliseReasons: false,
  });
  logs = [];
  workerLogs = [];
});

describe('approveAssignment', () => {
  it('approves a submitted assignment and returns MTurk request ID', async () => {
    const { assignmentId } = seedAssignment();
    const result = await asAttempt(1, () =>
      activities().approveAssignment({ assignmentId, requesterFeedback: 'Well done' }),
    );
    const approvals = emulator.ledger().approvals;
    expect(approvals).toHaveLength(1);
    expect(approvals[0]).toMatchObject({ assignmentId, feedback: 'Well done' });
    expect(result).toEqual({
      status: 'approved',
      assignmentId,
      requestId: approvals[0]!.requestId,
    });
  });

  it('approves a submitted assignment with one MTurk call, no status read', async () => {
    const { assignmentId } = seedAssignment();
    const result = await asAttempt(1, () => activities().approveAssignment({ assignmentId }));
    expect(result.status).toBe('approved');
    expect(requests('ApproveAssignment')).toBe(1);
    expect(requests('GetAssignment')).toBe(0);
    expect(emulator.ledger().approvals).toHaveLength(1);
  });

  it('reports an already approved assignment as such when MTurk refuses to approve it again', async () => {
    const { assignmentId } = seedAssignment({ status: 'Approved' });
    const result = await asAttempt(1, () => activities().approveAssignment({ assignmentId }));
    expect(result).toEqual({ status: 'already-approved', assignmentId });
    expect(requests('GetAssignment')).toBe(1);
    expect(emulator.ledger().approvals).toHaveLength(0);
  });

  it('is idempotent: a second run reports already-approved, one approval', async () => {
    const { assignmentId } = seedAssignment();
    await asAttempt(1, () => activities().approveAssignment({ assignmentId }));
    const again = await asAttempt(2, () => activities().approveAssignment({ assignmentId }));
    expect(again.status).toBe('already-approved');
    expect(emulator.ledger().approvals).toHaveLength(1);
  });

  it('succeeds on the retry after its approval committed but the answer was lost', async () => {
    const { assignmentId } = seedAssignment();
    emulator.setFaults({ operations: { ApproveAssignment: { dropAfterCommitRate: 1 } } });
    const lost = await asAttempt(1, () => activities().approveAssignment({ assignmentId })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(lost).toBeInstanceOf(Error);
    expect(lost).not.toBeInstanceOf(ApplicationFailure);
    emulator.setFaults({});
    const retry = await asAttempt(2, () => activities().approveAssignment({ assignmentId }));
    expect(retry.status).toBe('already-approved');
    expect(emulator.ledger().approvals).toHaveLength(1);
  });

  it('treats a concurrent approval (InvalidAssignmentState, now Approved) as success', async () => {
    const { assignmentId } = seedAssignment();
    // Both reads see Submitted; the approvals are held back so both race to approve.
    emulator.setFaults({ operations: { ApproveAssignment: { latencyMs: 150 } } });
    const results = await Promise.all([
      asAttempt(1, () => activities().approveAssignment({ assignmentId })),
      asAttempt(1, () => activities().approveAssignment({ assignmentId })),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['already-approved', 'approved']);
    expect(requests('ApproveAssignment')).toBe(2);
    expect(emulator.ledger().approvals).toHaveLength(1);
  });

  it('refuses a rejected assignment unless overrideRejection is set', async () => {
    const { assignmentId } = seedAssignment({ status: 'Rejected' });
    const failure = await failureOf(
      asAttempt(1, () => activities().approveAssignment({ assignmentId })),
    );
    expect(failure.type).toBe(FailureType.AssignmentNotApprovable);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/overrideRejection/);
    expect(emulator.ledger().approvals).toHaveLength(0);
  });

  it('approves a rejected assignment with overrideRejection', async () => {
    const { assignmentId } = seedAssignment({ status: 'Rejected' });
    const result = await asAttempt(1, () =>
      activities().approveAssignment({ assignmentId, overrideRejection: true }),
    );
    expect(result.status).toBe('approved');
    expect(emulator.ledger().approvals).toEqual([
      expect.objectContaining({ assignmentId, override: true }),
    ]);
  });

  it('fails non-retryably with AssignmentNotFound for an unknown assignment', async () => {
    emulator.seed({ balance: '100.00' });
    const failure = await failureOf(
      asAttempt(1, () =>
        activities().approveAssignment({ assignmentId: '3ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ' }),
      ),
    );
    expect(failure.type).toBe(FailureType.AssignmentNotFound);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(
      /ApproveAssignment.*3ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ.*request ID/,
    );
  });
});

describe('sendBonus', () => {
  it('pays once, exact to the cent, with the 20 % fee, and returns the request ID', async () => {
    const ids = seedAssignment({ balance: '100.00' });
    const input = bonusInput(ids, { bonusAmount: '1.5', reason: '  Thank you \n' });
    const result = await asAttempt(1, () => activities().sendBonus(input));

    const ledger = emulator.ledger();
    expect(ledger.bonuses).toHaveLength(1);
    const bonus = ledger.bonuses[0]!;
    expect(bonus).toMatchObject({
      workerId: ids.workerId,
      assignmentId: ids.assignmentId,
      amount: '1.50',
      fee: '0.30',
      reason: 'Thank you',
      token: input.uniqueRequestToken,
    });
    expect(ledger.balance).toBe('98.20');
    expect(result).toEqual({
      status: 'paid',
      amount: '1.50',
      token: input.uniqueRequestToken,
      requestId: bonus.requestId,
    });
    // The ledger before every SendBonus, whatever started the run: one look-up.
    expect(requests('ListBonusPayments')).toBe(1);
  });

  it('charges the minimum one-cent fee on a one-cent bonus', async () => {
    const ids = seedAssignment({ balance: '1.00' });
    await asAttempt(1, () => activities().sendBonus(bonusInput(ids, { bonusAmount: '0.01' })));
    expect(emulator.ledger()).toMatchObject({ balance: '0.98' });
    expect(emulator.ledger().bonuses[0]).toMatchObject({ amount: '0.01', fee: '0.01' });
  });

  it('logs assignment, token and status, and no credentials', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    await asAttempt(1, () => activities().sendBonus(input));
    const paid = logs.find((l) => l.message === 'MTurk bonus paid');
    expect(paid?.meta).toMatchObject({
      assignmentId: ids.assignmentId,
      token: input.uniqueRequestToken,
      status: 'paid',
    });
    expect(JSON.stringify(logs)).not.toMatch(/local-emulator|secretAccessKey|accessKeyId/);
  });

  it('logs through the activity logger when none is injected', async () => {
    const ids = seedAssignment();
    await asAttempt(1, () => createMTurkActivities({ client }).sendBonus(bonusInput(ids)));
    const paid = workerLogs.find((l) => l.message === 'MTurk bonus paid');
    expect(paid?.meta).toMatchObject({
      assignmentId: ids.assignmentId,
      status: 'paid',
      attempt: 1,
    });
  });

  it('a new run (attempt 1, no hint) finds a listed payment before sending anything', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    const first = await asAttempt(1, () => activities().sendBonus(input));
    const second = await asAttempt(1, () => activities().sendBonus(input));
    expect(first.status).toBe('paid');
    expect(second).toMatchObject({
      status: 'already-paid',
      amount: '1.50',
      token: input.uniqueRequestToken,
      foundBy: 'listing',
      foundAfterOwnAttempt: false,
    });
    expect(second.grantTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(requests('SendBonus')).toBe(1);
    expect(requests('ListBonusPayments')).toBe(2);
    expect(emulator.ledger().bonuses).toHaveLength(1);
    expect(emulator.ledger().balance).toBe('98.20');
  });

  it('a used token whose bonus a lagging listing does not show yet is unconfirmed, never paid again', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    emulator.configure({ listingLagMs: 60_000 });
    const first = await asAttempt(1, () => activities().sendBonus(input));
    const second = await asAttempt(1, () => activities().sendBonus(input));
    expect(second).toEqual({
      status: 'token-used-unconfirmed',
      amount: '1.50',
      token: input.uniqueRequestToken,
      foundAfterOwnAttempt: false,
      originalRequestId: first.requestId,
    });
    expect(requests('SendBonus')).toBe(2);
    expect(emulator.ledger().bonuses).toHaveLength(1);
    // Only the look-up, never a payment: once the listing catches up, it shows the bonus.
    expect(await asAttempt(1, () => activities().lookUpBonus(input))).toEqual({ listed: false });
    emulator.advanceClock(60_000);
    const listed = await asAttempt(1, () => activities().lookUpBonus(input));
    expect(listed.listed).toBe(true);
    expect(requests('SendBonus')).toBe(2);
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('after a commit-then-drop, the retry finds the payment and does not pay again', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    emulator.setFaults({ operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    const lost = await asAttempt(1, () => activities().sendBonus(input)).then(
      () => undefined,
      (e: unknown) => e,
    );
    // The dropped answer is retryable: a plain error, not a non-retryable failure.
    expect(lost).toBeInstanceOf(Error);
    expect(lost).not.toBeInstanceOf(ApplicationFailure);
    expect(emulator.ledger().bonuses).toHaveLength(1);

    emulator.setFaults({});
    const retry = await asAttempt(2, () => activities().sendBonus(input));
    expect(retry.status).toBe('already-paid');
    expect(requests('SendBonus')).toBe(1);
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('a retry says the bonus was found after its own SendBonus only when an earlier attempt sent one', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    emulator.setFaults({ operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    const beats: unknown[] = [];
    const first = new MockActivityEnvironment({ attempt: 1 }, { logger: workerLogger });
    first.on('heartbeat', (d: unknown) => beats.push(d));
    await first.run(() => activities().sendBonus(input)).catch(() => undefined);
    // Recorded before the call, so the next attempt knows.
    expect(beats).toEqual([{ sent: input.uniqueRequestToken }]);
    emulator.setFaults({});

    const afterSend = await new MockActivityEnvironment(
      { attempt: 2, heartbeatDetails: beats[0] },
      { logger: workerLogger },
    ).run(() => activities().sendBonus(input));
    expect(afterSend).toMatchObject({ status: 'already-paid', foundAfterOwnAttempt: true });
    // An attempt 2 whose attempt 1 never sent (it failed before, e.g. waiting for MTurk's rate
    // limit): the bonus it finds is someone else's, paid before.
    const notSent = await asAttempt(2, () => activities().sendBonus(input));
    expect(notSent).toMatchObject({ status: 'already-paid', foundAfterOwnAttempt: false });
    expect(requests('SendBonus')).toBe(1);
  });

  it('past the 24-hour token memory, the retry look-up prevents a second payment', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    emulator.setFaults({ operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    await asAttempt(1, () => activities().sendBonus(input)).catch(() => undefined);
    emulator.setFaults({});
    emulator.advanceClock(DAY_MS + 60_000);

    const retry = await asAttempt(2, () => activities().sendBonus(input));
    expect(retry.status).toBe('already-paid');
    expect(requests('SendBonus')).toBe(1);
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('past the token memory, even attempt 1 of a new run looks first', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    await asAttempt(1, () => activities().sendBonus(input));
    emulator.advanceClock(DAY_MS + 60_000);

    const again = await asAttempt(1, () => activities().sendBonus(input));
    expect(again.status).toBe('already-paid');
    expect(requests('SendBonus')).toBe(1);
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('one unkeyed bonus per assignment: another amount or reason is a PaymentConflict, nothing sent', async () => {
    const ids = seedAssignment();
    await asAttempt(1, () => activities().sendBonus(bonusInput(ids)));
    for (const change of [
      { reason: 'Second bonus for the follow-up task' },
      { bonusAmount: '2.00' },
    ]) {
      const other = bonusInput(ids, { ...change, uniqueRequestToken: 'tok-other' });
      const failure = await failureOf(asAttempt(1, () => activities().sendBonus(other)));
      expect(failure.type).toBe(FailureType.PaymentConflict);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(/1\.50 "Thank you for the careful work" granted \d{4}-/);
    }
    expect(requests('SendBonus')).toBe(1);
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('an unkeyed bonus paid by another tool counts: same amount and reason is already paid', async () => {
    const ids = seedAssignment();
    // Another tool paid it with its own token (or none).
    await asAttempt(1, () =>
      activities().sendBonus(bonusInput(ids, { uniqueRequestToken: 'boto3-x' })),
    );
    const ours = await asAttempt(1, () => activities().sendBonus(bonusInput(ids)));
    expect(ours).toMatchObject({ status: 'already-paid', foundBy: 'listing' });
    expect(requests('SendBonus')).toBe(1);
  });

  it('keyed bonuses do not block each other, nor an unkeyed one; the same key with another amount conflicts', async () => {
    const ids = seedAssignment();
    const keyed = (key: string, extra: Partial<SendBonusInput> = {}) =>
      bonusInput(ids, {
        reason: `Thanks (bonus ${key})`,
        bonusKey: key,
        uniqueRequestToken: `tok-${key}`,
        ...extra,
      });
    expect((await asAttempt(1, () => activities().sendBonus(keyed('week-1')))).status).toBe('paid');
    expect((await asAttempt(1, () => activities().sendBonus(keyed('week-2')))).status).toBe('paid');
    expect((await asAttempt(1, () => activities().sendBonus(bonusInput(ids)))).status).toBe('paid');
    const failure = await failureOf(
      asAttempt(1, () =>
        activities().sendBonus(
          keyed('week-1', { bonusAmount: '9.00', uniqueRequestToken: 'tok-9' }),
        ),
      ),
    );
    expect(failure.type).toBe(FailureType.PaymentConflict);
    expect(failure.message).toMatch(/bonus key week-1/);
    expect(emulator.ledger().bonuses).toHaveLength(3);
  });

  it('matches a reason MTurk stored normalised (NFC, whitespace collapsed)', async () => {
    const ids = seedAssignment();
    emulator.configure({ normaliseReasons: true });
    const reason = 'Cafe\u0301  bonus\n\tfor   you';
    const input = bonusInput(ids, { reason });
    expect((await asAttempt(1, () => activities().sendBonus(input))).status).toBe('paid');
    expect(emulator.ledger().bonuses[0]!.reason).toBe('Café bonus for you');
    expect((await asAttempt(2, () => activities().sendBonus(input))).status).toBe('already-paid');
    expect(requests('SendBonus')).toBe(1);
  });

  it('refuses a payment confirmed for another MTurk before any call (TargetMismatch)', async () => {
    const ids = seedAssignment();
    const elsewhere = { name: 'local' as const, endpoint: 'http://127.0.0.1:9' };
    const before = { ...emulator.ledger().requests };
    const calls: (() => Promise<unknown>)[] = [
      () => activities().sendBonus(bonusInput(ids, { target: elsewhere })),
      () => activities().approveAssignment({ assignmentId: ids.assignmentId, target: elsewhere }),
      () =>
        activities().sendBonus(
          bonusInput(ids, { target: { name: 'sandbox', endpoint: emulator.url } }),
        ),
    ];
    for (const call of calls) {
      const failure = await failureOf(asAttempt(1, call));
      expect(failure.type).toBe(FailureType.TargetMismatch);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(emulator.url);
    }
    expect(emulator.ledger().requests).toEqual(before);
    const own = { name: 'local' as const, endpoint: emulator.url };
    expect(
      (await asAttempt(1, () => activities().sendBonus(bonusInput(ids, { target: own })))).status,
    ).toBe('paid');
  });

  it('compares amounts in cents: "1.5" finds a payment listed as "1.50"', async () => {
    const ids = seedAssignment();
    await asAttempt(1, () => activities().sendBonus(bonusInput(ids, { bonusAmount: '1.50' })));
    const retry = await asAttempt(2, () =>
      activities().sendBonus(bonusInput(ids, { bonusAmount: '1.5', uniqueRequestToken: 'tok-x' })),
    );
    expect(retry.status).toBe('already-paid');
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('follows ListBonusPayments pages to find the payment', async () => {
    const ids = seedAssignment({ balance: '1000.00' });
    const acts = activities();
    for (let i = 0; i < 105; i++) {
      await asAttempt(1, () =>
        acts.sendBonus(
          bonusInput(ids, {
            bonusAmount: '0.01',
            reason: `Thanks (bonus k${i})`,
            bonusKey: `k${i}`,
            uniqueRequestToken: `t${i}`,
          }),
        ),
      );
    }
    const before = requests('ListBonusPayments');
    const retry = await asAttempt(2, () =>
      acts.sendBonus(
        bonusInput(ids, {
          bonusAmount: '0.01',
          reason: 'Thanks (bonus k104)',
          bonusKey: 'k104',
          uniqueRequestToken: 't104',
        }),
      ),
    );
    expect(retry.status).toBe('already-paid');
    expect(requests('ListBonusPayments') - before).toBeGreaterThanOrEqual(2);
    expect(emulator.ledger().bonuses).toHaveLength(105);
  });

  it('returns token-used-unconfirmed when the token was used but nothing was paid', async () => {
    const ids = seedAssignment({ balance: '0.50' });
    emulator.configure({ consumeTokenOnFailure: true });
    const input = bonusInput(ids);
    const failure = await failureOf(asAttempt(1, () => activities().sendBonus(input)));
    expect(failure.type).toBe(FailureType.InsufficientFunds);

    emulator.setBalance('100.00');
    const result = await asAttempt(1, () => activities().sendBonus(input));
    expect(result).toMatchObject({
      status: 'token-used-unconfirmed',
      amount: '1.50',
      token: input.uniqueRequestToken,
    });
    expect(emulator.ledger().bonuses).toHaveLength(0);
  });

  it('fails non-retryably with InsufficientFunds and pays nothing', async () => {
    const ids = seedAssignment({ balance: '1.00' });
    // $1.00 bonus costs $1.20 with the fee.
    const failure = await failureOf(
      asAttempt(1, () => activities().sendBonus(bonusInput(ids, { bonusAmount: '1.00' }))),
    );
    expect(failure.type).toBe(FailureType.InsufficientFunds);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/SendBonus.*insufficient funds.*request ID/i);
    expect(failure.details?.[0]).toMatchObject({
      turkErrorCode: 'AWS.MechanicalTurk.InsufficientFunds',
      requestId: expect.any(String),
    });
    expect(emulator.ledger()).toMatchObject({ balance: '1.00', bonuses: [] });
  });

  it('rethrows a ServiceFault as-is for Temporal to retry, and the retry pays once', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    emulator.setFaults({ operations: { SendBonus: { serviceFaultRate: 1 } } });
    const err = await asAttempt(1, () => activities().sendBonus(input)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect((err as Error).name).toBe('ServiceFault');
    expect(emulator.ledger().bonuses).toHaveLength(0);

    emulator.setFaults({});
    const retry = await asAttempt(2, () => activities().sendBonus(input));
    expect(retry.status).toBe('paid');
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('rethrows throttling as-is', async () => {
    const ids = seedAssignment();
    emulator.setFaults({ operations: { SendBonus: { throttleRate: 1 } } });
    const err = await asAttempt(1, () => activities().sendBonus(bonusInput(ids))).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as Error).name).toBe('ThrottlingException');
    expect(err).not.toBeInstanceOf(ApplicationFailure);
    expect(emulator.ledger().bonuses).toHaveLength(0);
  });

  it('fails non-retryably with WorkerMismatch for another worker', async () => {
    const ids = seedAssignment();
    const failure = await failureOf(
      asAttempt(1, () =>
        activities().sendBonus(bonusInput({ ...ids, workerId: 'A9Z9Z9Z9Z9Z9Z9' })),
      ),
    );
    expect(failure.type).toBe(FailureType.WorkerMismatch);
    expect(failure.nonRetryable).toBe(true);
    expect(emulator.ledger().bonuses).toHaveLength(0);
  });

  it('fails non-retryably with AssignmentNotFound for an unknown assignment', async () => {
    const ids = seedAssignment();
    const failure = await failureOf(
      asAttempt(1, () =>
        activities().sendBonus(
          bonusInput({ ...ids, assignmentId: '3ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ' }),
        ),
      ),
    );
    expect(failure.type).toBe(FailureType.AssignmentNotFound);
    expect(emulator.ledger().bonuses).toHaveLength(0);
  });

  it('honours a configured cap', async () => {
    const ids = seedAssignment();
    const failure = await failureOf(
      asAttempt(1, () => activities(100).sendBonus(bonusInput(ids, { bonusAmount: '1.01' }))),
    );
    expect(failure.type).toBe(FailureType.InvalidBonusRequest);
    expect(emulator.ledger().bonuses).toHaveLength(0);
  });
});

describe('bad input never reaches MTurk', () => {
  const ids = { assignmentId: '3AMYWKA6YBLU92KSOGLNT786ESP6OD', workerId: 'A1B2C3D4E5F6G7' };
  const valid = bonusInput(ids);

  const badBonusInputs: [string, Record<string, unknown>][] = [
    ...['$5', '5$', '1.234', '-1', '0', '0.00', '1e3', ' 5', '5,00', '', '5.', '.5', '100.01'].map(
      (bonusAmount): [string, Record<string, unknown>] => [
        `bonusAmount ${JSON.stringify(bonusAmount)}`,
        { ...valid, bonusAmount },
      ],
    ),
    ['bonusAmount as a number', { ...valid, bonusAmount: 5 }],
    ['empty reason', { ...valid, reason: '' }],
    ['whitespace reason', { ...valid, reason: ' \n\t ' }],
    ['reason with a control character', { ...valid, reason: 'a\u0000b' }],
    ['empty assignmentId', { ...valid, assignmentId: '' }],
    ['65-char assignmentId', { ...valid, assignmentId: 'A'.repeat(65) }],
    ['lower-case assignmentId', { ...valid, assignmentId: 'abc' }],
    ['empty workerId', { ...valid, workerId: '' }],
    ['65-char workerId', { ...valid, workerId: 'A'.repeat(65) }],
    ['empty token', { ...valid, uniqueRequestToken: '' }],
    ['65-char token', { ...valid, uniqueRequestToken: 't'.repeat(65) }],
    ['missing reason', { ...ids, bonusAmount: '1.00', uniqueRequestToken: 'tok' }],
    ['unknown field', { ...valid, bonus: '1.00' }],
    ['not an object', null],
  ].map(([name, input]) => [name as string, input as Record<string, unknown>]);

  it.each(badBonusInputs)('sendBonus refuses %s with InvalidBonusRequest', async (_name, input) => {
    emulator.seed({ balance: '100.00', hits: [{ assignments: [ids] }] });
    // Attempt 2 and priorPaymentPossible: not even the look-up may run.
    const withLookup = input === null ? input : { ...input, priorPaymentPossible: true };
    const failure = await failureOf(
      asAttempt(2, () => activities().sendBonus(withLookup as unknown as SendBonusInput)),
    );
    expect(failure.type).toBe(FailureType.InvalidBonusRequest);
    expect(failure.nonRetryable).toBe(true);
    expect(totalRequests()).toBe(0);
    expect(emulator.ledger().bonuses).toHaveLength(0);
  });

  it.each([
    ['empty assignmentId', { assignmentId: '' }],
    ['65-char assignmentId', { assignmentId: 'A'.repeat(65) }],
    ['lower-case assignmentId', { assignmentId: 'abc' }],
    [
      'feedback over 1024 chars',
      { assignmentId: ids.assignmentId, requesterFeedback: 'f'.repeat(1025) },
    ],
    ['non-boolean override', { assignmentId: ids.assignmentId, overrideRejection: 'yes' }],
  ])('approveAssignment refuses %s with InvalidBonusRequest', async (_name, input) => {
    const failure = await failureOf(
      asAttempt(1, () => activities().approveAssignment(input as never)),
    );
    expect(failure.type).toBe(FailureType.InvalidBonusRequest);
    expect(failure.nonRetryable).toBe(true);
    expect(totalRequests()).toBe(0);
  });
});

describe('getAccountBalance', () => {
  it('returns the balances as dollar strings', async () => {
    emulator.seed({ balance: '123.4' });
    const balance = await asAttempt(1, () => activities().getAccountBalance());
    expect(balance).toEqual({ availableBalance: '123.40', onHoldBalance: '0.00' });
  });

  it('drops with the fee after a bonus', async () => {
    const ids = seedAssignment({ balance: '10.00' });
    await asAttempt(1, () => activities().sendBonus(bonusInput(ids, { bonusAmount: '2.00' })));
    const balance = await asAttempt(1, () => activities().getAccountBalance());
    expect(balance.availableBalance).toBe('7.60');
  });
});
