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
import { FailureType } from '../../src/errors';
import { createMTurkClient, localMTurkConfig } from '../../src/mturk-client';
import type { SendBonusInput } from '../../src/types';
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
  emulator.configure({ tokenTtlMs: DAY_MS, consumeTokenOnFailure: false });
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
    // First attempt, no prior payment possible: no look-up needed.
    expect(requests('ListBonusPayments')).toBe(0);
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

  it('answers a reused token with already-paid after confirming the payment', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    const first = await asAttempt(1, () => activities().sendBonus(input));
    // Same token again, on attempt 1 and without priorPaymentPossible: MTurk refuses the token.
    const second = await asAttempt(1, () => activities().sendBonus(input));
    expect(first.status).toBe('paid');
    expect(second).toEqual({
      status: 'already-paid',
      amount: '1.50',
      token: input.uniqueRequestToken,
    });
    expect(requests('SendBonus')).toBe(2);
    expect(requests('ListBonusPayments')).toBe(1);
    expect(emulator.ledger().bonuses).toHaveLength(1);
    expect(emulator.ledger().balance).toBe('98.20');
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

  it('past the token memory, priorPaymentPossible makes even attempt 1 look first', async () => {
    const ids = seedAssignment();
    const input = bonusInput(ids);
    await asAttempt(1, () => activities().sendBonus(input));
    emulator.advanceClock(DAY_MS + 60_000);

    const again = await asAttempt(1, () =>
      activities().sendBonus({ ...input, priorPaymentPossible: true }),
    );
    expect(again.status).toBe('already-paid');
    expect(requests('SendBonus')).toBe(1);
    expect(emulator.ledger().bonuses).toHaveLength(1);
  });

  it('the look-up matches amount and reason: a different bonus on the same assignment is paid', async () => {
    const ids = seedAssignment();
    await asAttempt(1, () => activities().sendBonus(bonusInput(ids)));
    const other = bonusInput(ids, {
      bonusAmount: '1.50',
      reason: 'Second bonus for the follow-up task',
      uniqueRequestToken: 'tok-second',
    });
    const result = await asAttempt(2, () => activities().sendBonus(other));
    expect(result.status).toBe('paid');
    const amountOnly = bonusInput(ids, { bonusAmount: '2.00', uniqueRequestToken: 'tok-third' });
    expect((await asAttempt(2, () => activities().sendBonus(amountOnly))).status).toBe('paid');
    expect(emulator.ledger().bonuses).toHaveLength(3);
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
            reason: `bonus ${i}`,
            uniqueRequestToken: `t${i}`,
          }),
        ),
      );
    }
    const before = requests('ListBonusPayments');
    const retry = await asAttempt(2, () =>
      acts.sendBonus(
        bonusInput(ids, { bonusAmount: '0.01', reason: 'bonus 104', uniqueRequestToken: 't104' }),
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
    expect(result).toEqual({
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
