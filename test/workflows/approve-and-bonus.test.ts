import { ApplicationFailure, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { bonusWorkflowId, payBonus, payBonusAndWait } from '../../src/client';
import type { ApproveAndBonusInput } from '../../src/common/types';
import { MTurkBonusState } from '../../src/common/search-attributes';
import { statusQuery } from '../../src/workflows';
import { emulatorClient, useWorkerPerTest } from '../harness/mturk';

const bed = useWorkerPerTest('bonus');

/** One submitted assignment on a funded account. */
function seedOne(balance = '100.00', workerId = 'AWORKER0000001') {
  const { hits } = bed.emu.seed({ balance, hits: [{ assignments: [{ workerId }] }] });
  const assignmentId = hits[0]!.assignments[0]!.assignmentId;
  return { assignmentId, workerId };
}

function input(
  a: { assignmentId: string; workerId: string },
  extra: Partial<ApproveAndBonusInput> = {},
): ApproveAndBonusInput {
  return { ...a, bonusAmount: '1.00', reason: 'Thanks for the careful work', ...extra };
}

/** Quick retries keep fault tests short; the policy's shape is the production one. */
const fast = {
  taskQueue: '',
  workflowOptions: { retryInitialInterval: '50ms', retryMaximumInterval: '500ms' },
};
const opts = () => ({ ...fast, taskQueue: bed.taskQueue });

describe('approveAndBonus', () => {
  it('approves once and pays once, exact to the cent with the fee', async () => {
    const a = seedOne('10.00');
    const result = await payBonusAndWait(bed.env.client, input(a, { bonusAmount: '2.50' }), opts());

    expect(result.approval?.status).toBe('approved');
    expect(result.bonus.status).toBe('paid');
    expect(result.bonus.amount).toBe('2.50');
    expect(result.bonus.requestId).toBeTruthy();
    const ledger = bed.emu.ledger();
    expect(ledger.approvals).toHaveLength(1);
    expect(ledger.bonuses).toHaveLength(1);
    expect(ledger.bonuses[0]).toMatchObject({
      amount: '2.50',
      fee: '0.50',
      workerId: a.workerId,
      token: result.bonus.token,
    });
    expect(ledger.balance).toBe('7.00');
  });

  it('writes MTurkBonusState once on the happy path: started, then paid', async () => {
    const a = seedOne();
    const handle = await payBonus(bed.env.client, input(a), opts());
    await handle.result();

    expect((await handle.describe()).typedSearchAttributes.get(MTurkBonusState)).toBe('paid');
    expect(await searchStateUpserts(handle)).toEqual(['paid']);
  });

  it('derives a stable token of at most 64 characters from the workflow ID', async () => {
    const a = seedOne();
    const handle = await payBonus(bed.env.client, input(a, { bonusKey: 'round-2' }), opts());
    expect(handle.workflowId).toBe(bonusWorkflowId(a.assignmentId, 'round-2'));
    const { bonus } = await handle.result();
    expect(bonus.token).toMatch(/^tm1-0-[0-9a-f]{48}$/);
    expect(bonus.token.length).toBeLessThanOrEqual(64);
  });

  it('pays once when SendBonus commits and the response is lost', async () => {
    const a = seedOne();
    bed.emu.setFaults({ seed: 7, operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    const handle = await payBonus(bed.env.client, input(a), opts());
    // Let the first attempt commit and drop, then heal the network.
    await waitFor(() => bed.emu.ledger().bonuses.length === 1);
    bed.emu.setFaults({});
    const result = await handle.result();
    expect(result.bonus.status).toBe('already-paid');
    expect(bed.emu.ledger().bonuses).toHaveLength(1);
  });

  it('approves once and pays once through ServiceFault and throttling storms', async () => {
    const a = seedOne();
    bed.emu.setFaults({
      seed: 3,
      operations: {
        ApproveAssignment: { serviceFaultRate: 0.5, throttleRate: 0.3 },
        GetAssignment: { serviceFaultRate: 0.3 },
        SendBonus: { serviceFaultRate: 0.5, throttleRate: 0.3, dropAfterCommitRate: 0.2 },
        ListBonusPayments: { throttleRate: 0.3 },
      },
    });
    const result = await payBonusAndWait(bed.env.client, input(a), opts());
    expect(['paid', 'already-paid']).toContain(result.bonus.status);
    const ledger = bed.emu.ledger();
    expect(ledger.approvals).toHaveLength(1);
    expect(ledger.bonuses).toHaveLength(1);
    expect(ledger.faults.serviceFault + ledger.faults.throttle).toBeGreaterThan(0);
  });

  it('pays both of two keyed bonuses with the same amount and reason, even on retries', async () => {
    const a = seedOne();
    const bonus = (bonusKey: string) => input(a, { reason: 'Weekly bonus', bonusKey });
    const first = await payBonusAndWait(bed.env.client, bonus('week-1'), opts());
    expect(first.bonus.status).toBe('paid');

    // The second one's first SendBonus is throttled (nothing paid); its retry looks the
    // payment up in ListBonusPayments, which must not take week-1's bonus for week-2's.
    bed.emu.setFaults({ seed: 5, operations: { SendBonus: { throttleRate: 1 } } });
    const sent = bed.emu.ledger().requests.SendBonus ?? 0;
    const handle = await payBonus(bed.env.client, bonus('week-2'), opts());
    await waitFor(() => (bed.emu.ledger().requests.SendBonus ?? 0) > sent);
    bed.emu.setFaults({});
    const second = await handle.result();

    expect(second.bonus.status).toBe('paid');
    expect(bed.emu.ledger().bonuses.map((b) => b.reason)).toEqual([
      'Weekly bonus (bonus week-1)',
      'Weekly bonus (bonus week-2)',
    ]);
  });

  it('returns the first result when the same payment is started twice or repeated after completion', async () => {
    const a = seedOne();
    const [h1, h2] = await Promise.all([
      payBonus(bed.env.client, input(a), opts()),
      payBonus(bed.env.client, input(a), opts()),
    ]);
    expect(h1.workflowId).toBe(h2.workflowId);
    const first = await h1.result();
    const again = await payBonusAndWait(bed.env.client, input(a), opts());
    expect(again).toEqual(first);
    expect(bed.emu.ledger().bonuses).toHaveLength(1);
    expect(bed.emu.ledger().requests.SendBonus).toBe(1);
  });

  it('pays once after a retry whose token MTurk has already forgotten', async () => {
    const a = seedOne();
    // The first SendBonus commits and drops; MTurk then forgets tokens at once (the 24 h limit).
    bed.emu.configure({ tokenTtlMs: 1 });
    bed.emu.setFaults({ seed: 1, operations: { SendBonus: { dropAfterCommitRate: 1 } } });
    const handle = await payBonus(bed.env.client, input(a), opts());
    await waitFor(() => bed.emu.ledger().bonuses.length === 1);
    bed.emu.setFaults({});
    bed.emu.advanceClock(25 * 3600_000);
    const result = await handle.result();
    expect(result.bonus.status).toBe('already-paid');
    expect(bed.emu.ledger().bonuses).toHaveLength(1);
  });

  it('treats an already approved assignment as approved', async () => {
    const a = seedOne();
    await emulatorClient(bed.emu.url).send(
      new (await import('@aws-sdk/client-mturk')).ApproveAssignmentCommand({
        AssignmentId: a.assignmentId,
      }),
    );
    const result = await payBonusAndWait(bed.env.client, input(a), opts());
    expect(result.approval?.status).toBe('already-approved');
    expect(bed.emu.ledger().approvals).toHaveLength(1);
    expect(bed.emu.ledger().bonuses).toHaveLength(1);
  });

  it('refuses a rejected assignment unless overrideRejection is asked', async () => {
    const { RejectAssignmentCommand } = await import('@aws-sdk/client-mturk');
    const a = seedOne();
    await emulatorClient(bed.emu.url).send(
      new RejectAssignmentCommand({ AssignmentId: a.assignmentId, RequesterFeedback: 'no' }),
    );
    const err = await payBonusAndWait(bed.env.client, input(a), opts()).catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(rootFailure(err)).toMatchObject({ type: 'AssignmentNotApprovable', nonRetryable: true });
    expect(bed.emu.ledger().bonuses).toHaveLength(0);

    const b = seedOne('100.00', 'AWORKER0000002');
    await emulatorClient(bed.emu.url).send(
      new RejectAssignmentCommand({ AssignmentId: b.assignmentId, RequesterFeedback: 'no' }),
    );
    const ok = await payBonusAndWait(bed.env.client, input(b, { overrideRejection: true }), opts());
    expect(ok.approval?.status).toBe('approved');
    expect(bed.emu.ledger().bonuses).toHaveLength(1);
  });

  it('waits for funds, then pays once after a top-up and the fundsAdded signal', async () => {
    const a = seedOne('0.50');
    const handle = await payBonus(bed.env.client, input(a), opts());
    await waitFor(async () => (await handle.query(statusQuery)).state === 'waiting-for-funds');
    expect(bed.emu.ledger().bonuses).toHaveLength(0);
    const searched = (await handle.describe()).typedSearchAttributes.get(MTurkBonusState);
    expect(searched).toBe('waiting-for-funds');
    bed.emu.addBalance('5.00');
    await handle.signal('fundsAdded');
    const result = await handle.result();
    expect(result.bonus.status).toBe('paid');
    expect(bed.emu.ledger().bonuses).toHaveLength(1);
    expect(bed.emu.ledger().balance).toBe('4.30');
    expect((await handle.query(statusQuery)).state).toBe('paid');
    expect(await searchStateUpserts(handle)).toEqual(['waiting-for-funds', 'paying', 'paid']);
  });

  it('fails a bad request before any MTurk call, as a non-retryable InvalidBonusRequest', async () => {
    const a = seedOne();
    const handle = await bed.env.client.workflow.start('approveAndBonus', {
      taskQueue: bed.taskQueue,
      workflowId: `bad-${bed.taskQueue}`,
      args: [input(a, { bonusAmount: '1.234' })],
    });
    const err = await handle.result().catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(rootFailure(err)).toMatchObject({ type: 'InvalidBonusRequest', nonRetryable: true });
    expect(totalRequests()).toBe(0);
  });
});

function totalRequests(): number {
  return Object.values(bed.emu.ledger().requests).reduce((a, b) => a + b, 0);
}

function rootFailure(err: unknown): ApplicationFailure | undefined {
  let e: unknown = err;
  while (e instanceof Error) {
    if (e instanceof ApplicationFailure) return e;
    e = (e as Error & { cause?: unknown }).cause;
  }
  return undefined;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The MTurkBonusState values the payment upserted, in order, read from its history. */
async function searchStateUpserts(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const payload =
      event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields?.[
        'MTurkBonusState'
      ];
    return payload?.data ? [JSON.parse(Buffer.from(payload.data).toString('utf8')) as string] : [];
  });
}
