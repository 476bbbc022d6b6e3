import {
  GetAccountBalanceCommand,
  ListBonusPaymentsCommand,
  RequestError,
  SendBonusCommand,
  type MTurkClient,
  type SendBonusCommandInput,
} from '@aws-sdk/client-mturk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index';
import { bonusFeeCents, formatCents, parseDollars } from '../../src/emulator/money';
import { client, failure } from './helpers';

const DAY = 24 * 3600_000;
let clock = Date.UTC(2025, 0, 1);
let emu: RunningEmulator;
let mturk: MTurkClient;
let assignmentId = '';
const WORKER = 'ABONUSWORKER';

beforeAll(async () => {
  emu = await startEmulator({ port: 0, now: () => clock });
  mturk = client(emu.url);
});
afterAll(async () => {
  mturk.destroy();
  await emu.stop();
});
beforeEach(() => {
  emu.reset();
  emu.configure({ tokenTtlMs: DAY, consumeTokenOnFailure: false, feeRounding: 'half-up' });
  const r = emu.seed({ balance: '100.00', hits: [{ assignments: [{ workerId: WORKER }] }] });
  assignmentId = r.hits[0]!.assignments[0]!.assignmentId;
});

const bonus = (over: Partial<SendBonusCommandInput> = {}) =>
  mturk.send(
    new SendBonusCommand({
      WorkerId: WORKER,
      AssignmentId: assignmentId,
      BonusAmount: '1.00',
      Reason: 'Great work',
      ...over,
    }),
  );
const balance = async () => (await mturk.send(new GetAccountBalanceCommand({}))).AvailableBalance;

describe('money helpers', () => {
  it('parse and format integer cents', () => {
    expect(parseDollars('101.42')).toBe(10142);
    expect(parseDollars('5')).toBe(500);
    expect(parseDollars('5.')).toBe(500);
    expect(parseDollars('0.1')).toBe(10);
    expect(parseDollars('007.05')).toBe(705);
    for (const bad of ['1.234', '-1', '$5', '1e3', '.5', '', ' 1', '1,00']) {
      expect(parseDollars(bad)).toBeNull();
    }
    expect(formatCents(120)).toBe('1.20');
    expect(formatCents(5)).toBe('0.05');
    expect(formatCents(0)).toBe('0.00');
  });

  it('fee is 20 % with a one-cent minimum, rounding configurable', () => {
    expect(bonusFeeCents(100, 'half-up')).toBe(20);
    expect(bonusFeeCents(1, 'half-up')).toBe(1);
    expect(bonusFeeCents(1, 'down')).toBe(1);
    // 0.12 * 20 % = 2.4 cents; 0.13 -> 2.6 cents; 0.07 -> 1.4 cents
    expect([12, 13, 7].map((c) => bonusFeeCents(c, 'half-up'))).toEqual([2, 3, 1]);
    expect([12, 13, 7].map((c) => bonusFeeCents(c, 'up'))).toEqual([3, 3, 2]);
    expect([12, 13, 7].map((c) => bonusFeeCents(c, 'down'))).toEqual([2, 2, 1]);
  });
});

describe('SendBonus', () => {
  it('pays bonus + 20 % fee and answers {}', async () => {
    const r = await bonus();
    expect(Object.keys(r)).toEqual(['$metadata']);
    expect(await balance()).toBe('98.80');
    const l = emu.ledger();
    expect(l.bonuses).toEqual([
      expect.objectContaining({
        workerId: WORKER,
        assignmentId,
        amount: '1.00',
        fee: '0.20',
        reason: 'Great work',
        token: null,
        requestId: r.$metadata.requestId,
        time: new Date(clock).toISOString(),
      }),
    ]);
    expect(l.totals).toEqual({ bonusCount: 1, bonuses: '1.00', fees: '0.20' });
  });

  it('charges the one-cent minimum fee', async () => {
    await bonus({ BonusAmount: '0.01' });
    expect(emu.ledger().bonuses[0]).toMatchObject({ amount: '0.01', fee: '0.01' });
    expect(await balance()).toBe('99.98');
  });

  it.each([
    ['half-up', '0.13', '0.03'],
    ['up', '0.12', '0.03'],
    ['down', '0.13', '0.02'],
  ] as const)('feeRounding %s: %s pays fee %s', async (feeRounding, amount, fee) => {
    emu.configure({ feeRounding });
    await bonus({ BonusAmount: amount });
    expect(emu.ledger().bonuses[0]).toMatchObject({ amount, fee });
  });

  it.each(['1.234', '-1', '$5', '1e3', '.5', '1,00'])(
    'rejects BonusAmount %j with a validation error and pays nothing',
    async (amount) => {
      const e = await failure(bonus({ BonusAmount: amount }));
      expect(e.name).toBe('ValidationException');
      expect(e.message).toContain(
        `Value '${amount}' at 'bonusAmount' failed to satisfy constraint`,
      );
      expect(e.$metadata!.httpStatusCode).toBe(400);
      expect(emu.ledger().bonuses).toEqual([]);
      expect(await balance()).toBe('100.00');
    },
  );

  it('rejects a zero bonus with a RequestError and pays nothing', async () => {
    for (const amount of ['0', '0.00']) {
      const e = await failure(bonus({ BonusAmount: amount }));
      expect(e).toBeInstanceOf(RequestError);
      expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.InvalidParameterValue');
    }
    expect(emu.ledger().bonuses).toEqual([]);
    expect(await balance()).toBe('100.00');
  });

  it('validates required members, IDs and token length', async () => {
    const missing = await failure(
      mturk.send(new SendBonusCommand({ BonusAmount: '1.00' } as SendBonusCommandInput)),
    );
    expect(missing.name).toBe('ValidationException');
    expect(missing.message).toMatch(/^3 validation errors detected: /);
    const badWorker = await failure(bonus({ WorkerId: 'worker-1' }));
    expect(badWorker.name).toBe('ValidationException');
    const longToken = await failure(bonus({ UniqueRequestToken: 'x'.repeat(65) }));
    expect(longToken.name).toBe('ValidationException');
    expect(emu.ledger().bonuses).toEqual([]);
  });

  it('needs an existing assignment of that worker', async () => {
    const unknown = await failure(bonus({ AssignmentId: 'NOSUCHASSIGNMENT' }));
    expect(unknown.TurkErrorCode).toBe('AWS.MechanicalTurk.AssignmentDoesNotExist');
    expect(unknown.message).toMatch(/^Assignment NOSUCHASSIGNMENT does not exist\. \(\d+\)$/);
    const other = await failure(bonus({ WorkerId: 'AOTHERWORKER' }));
    expect(other).toBeInstanceOf(RequestError);
    expect(emu.ledger().bonuses).toEqual([]);
  });

  it('bonuses approved and rejected assignments', async () => {
    const r = emu.seed({
      hits: [
        {
          assignments: [
            { workerId: WORKER, status: 'Approved' },
            { workerId: WORKER, status: 'Rejected' },
          ],
        },
      ],
    });
    for (const a of r.hits[0]!.assignments) await bonus({ AssignmentId: a.assignmentId });
    expect(emu.ledger().bonuses).toHaveLength(2);
  });

  it('insufficient funds (bonus + fee) pays nothing', async () => {
    emu.setBalance('1.19');
    const e = await failure(bonus());
    expect(e).toBeInstanceOf(RequestError);
    expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.InsufficientFunds');
    expect(e.message).toMatch(
      /^This Requester has insufficient funds in their account to complete this transaction\./,
    );
    expect(emu.ledger().bonuses).toEqual([]);
    expect(await balance()).toBe('1.19');
    emu.addBalance('0.01');
    await bonus();
    expect(await balance()).toBe('0.00');
  });
});

describe('UniqueRequestToken', () => {
  it('a duplicate within the TTL pays once and names the original request ID', async () => {
    const first = await bonus({ UniqueRequestToken: 'tok-1' });
    const e = await failure(bonus({ UniqueRequestToken: 'tok-1' }));
    expect(e).toBeInstanceOf(RequestError);
    expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.DuplicateRequest');
    expect(e.message).toContain(first.$metadata.requestId!);
    expect(e.message).toBe(
      `The request with UniqueRequestToken tok-1 has already been processed (request ID ${first.$metadata.requestId}).`,
    );
    expect(e.$metadata!.requestId).not.toBe(first.$metadata.requestId);
    clock += DAY - 1;
    const stillDup = await failure(bonus({ UniqueRequestToken: 'tok-1' }));
    expect(stillDup.TurkErrorCode).toBe('AWS.MechanicalTurk.DuplicateRequest');
    const l = emu.ledger();
    expect(l.bonuses).toHaveLength(1);
    expect(l.bonuses[0]!.token).toBe('tok-1');
    expect(l.requests.SendBonus).toBe(3);
    expect(await balance()).toBe('98.80');
  });

  it('after the TTL the same token pays again (the real MTurk hazard)', async () => {
    await bonus({ UniqueRequestToken: 'tok-2' });
    clock += DAY;
    await bonus({ UniqueRequestToken: 'tok-2' });
    expect(emu.ledger().bonuses).toHaveLength(2);
    expect(await balance()).toBe('97.60');
  });

  it('the admin clock and a runtime TTL change expire tokens too', async () => {
    await bonus({ UniqueRequestToken: 'tok-3' });
    emu.advanceClock(DAY);
    await bonus({ UniqueRequestToken: 'tok-3' });
    emu.configure({ tokenTtlMs: 1000 });
    clock += 999;
    expect((await failure(bonus({ UniqueRequestToken: 'tok-3' }))).TurkErrorCode).toBe(
      'AWS.MechanicalTurk.DuplicateRequest',
    );
    clock += 1;
    await bonus({ UniqueRequestToken: 'tok-3' });
    expect(emu.ledger().bonuses).toHaveLength(3);
  });

  it('consumeTokenOnFailure=false: a failed call leaves the token usable', async () => {
    emu.setBalance('0.50');
    const e = await failure(bonus({ UniqueRequestToken: 'tok-4' }));
    expect(e.TurkErrorCode).toBe('AWS.MechanicalTurk.InsufficientFunds');
    emu.setBalance('10.00');
    await bonus({ UniqueRequestToken: 'tok-4' });
    expect(emu.ledger().bonuses).toHaveLength(1);
  });

  it('consumeTokenOnFailure=true: a failed call burns the token', async () => {
    emu.configure({ consumeTokenOnFailure: true });
    emu.setBalance('0.50');
    const failed = await failure(bonus({ UniqueRequestToken: 'tok-5' }));
    expect(failed.TurkErrorCode).toBe('AWS.MechanicalTurk.InsufficientFunds');
    emu.setBalance('10.00');
    const dup = await failure(bonus({ UniqueRequestToken: 'tok-5' }));
    expect(dup.TurkErrorCode).toBe('AWS.MechanicalTurk.DuplicateRequest');
    expect(dup.message).toContain(failed.$metadata!.requestId!);
    expect(emu.ledger().bonuses).toEqual([]);
    expect(await balance()).toBe('10.00');
  });

  it('tokens are per request, not per assignment: a new token pays again', async () => {
    await bonus({ UniqueRequestToken: 'a' });
    await bonus({ UniqueRequestToken: 'b' });
    const list = await mturk.send(new ListBonusPaymentsCommand({ AssignmentId: assignmentId }));
    expect(list.NumResults).toBe(2);
  });
});
