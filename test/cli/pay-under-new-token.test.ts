/**
 * `temporal-mturk pay-under-new-token`: the operator's decision for an `unconfirmed` payment.
 * It risks a second payment, so it refuses anything but an unconfirmed payment and needs --yes
 * (or the assignment ID typed on a terminal); with it, the payment pays under the next token.
 */
import { SendBonusCommand } from '@aws-sdk/client-mturk';
import type { WorkflowHandle } from '@temporalio/client';
import { beforeEach, describe, expect, it } from 'vitest';
import { bonusWorkflowId, payBonus } from '../../src/client';
import { bonusRequestToken } from '../../src/common/token';
import type { PaymentStatus } from '../../src/common/types';
import { emulatorClient, useWorkerTestBed } from '../harness/mturk';
import { runCli } from './helpers';

const bed = useWorkerTestBed('cli-new-token');
beforeEach(() => {
  bed.emu.reset();
  bed.emu.configure({ listingLagMs: 0, consumeTokenOnFailure: true });
});

const fast = {
  retryInitialInterval: '50ms',
  retryMaximumInterval: '500ms',
  confirmationWindow: '1s',
  unconfirmedRecheckInterval: '500ms',
};

let seeded = 0;

/** A payment whose generation-0 token another tool used up on a refused call: unconfirmed. */
async function unconfirmedPayment(): Promise<{
  handle: WorkflowHandle;
  assignmentId: string;
  workerId: string;
}> {
  const workerId = `ANEWTOKENCLI${String(seeded++).padStart(4, '0')}`;
  const { hits } = bed.emu.seed({ balance: '50.00', hits: [{ assignments: [{ workerId }] }] });
  const assignmentId = hits[0]!.assignments[0]!.assignmentId;
  const mturk = emulatorClient(bed.emu.url);
  await mturk
    .send(
      new SendBonusCommand({
        AssignmentId: assignmentId,
        WorkerId: 'AOTHERWORKER01',
        BonusAmount: '2.00',
        Reason: 'x',
        UniqueRequestToken: bonusRequestToken(bonusWorkflowId(assignmentId), undefined, 0),
      }),
    )
    .catch(() => undefined);
  mturk.destroy();
  const handle = await payBonus(
    bed.env.client,
    { assignmentId, workerId, bonusAmount: '2.00', reason: 'Thanks for the careful work' },
    { taskQueue: bed.taskQueue, workflowOptions: fast },
  );
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await handle.query<PaymentStatus>('status').catch(() => undefined);
    if (status?.state === 'unconfirmed') return { handle, assignmentId, workerId };
    if (Date.now() > deadline) throw new Error('payment never became unconfirmed');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const paidTo = (assignmentId: string) =>
  bed.emu.ledger().bonuses.filter((b) => b.assignmentId === assignmentId);

describe('pay-under-new-token', () => {
  it('refuses without --yes when nobody can confirm, and sends nothing', async () => {
    const { handle, assignmentId, workerId } = await unconfirmedPayment();
    const run = await runCli(['pay-under-new-token', handle.workflowId]);
    expect(run.code).toBe(4);
    // What it knows and what it risks, before asking.
    expect(run.stdout).toContain(`Payment ${handle.workflowId} is unconfirmed`);
    expect(run.stdout).toContain(`worker ${workerId}, assignment ${assignmentId}, 2.00`);
    expect(run.stdout).toContain('Risk: if that call did pay');
    expect(run.stderr).toContain('pass --yes');
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await handle.query<PaymentStatus>('status')).state).toBe('unconfirmed');
    expect(paidTo(assignmentId)).toHaveLength(0);
    await handle.terminate('test done');
  });

  it('with --yes pays once under the next token generation, keeping the note', async () => {
    const { handle, assignmentId } = await unconfirmedPayment();
    const run = await runCli([
      'pay-under-new-token',
      handle.workflowId,
      '--yes',
      '--note',
      'test: support confirmed no bonus',
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Sent payUnderNewToken to ${handle.workflowId}`);
    const result = (await handle.result()) as { bonus: { status: string; token: string } };
    expect(result.bonus.status).toBe('paid');
    expect(result.bonus.token).toMatch(/^tm1-1-/);
    expect(paidTo(assignmentId)).toHaveLength(1);
    const history = await handle.fetchHistory();
    const signal = history.events?.find(
      (e) => e.workflowExecutionSignaledEventAttributes,
    )?.workflowExecutionSignaledEventAttributes;
    expect(signal?.signalName).toBe('payUnderNewToken');
    const payload = signal?.input?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(payload!).toString('utf8'))).toEqual({
      note: 'test: support confirmed no bonus',
    });

    // Paid now: nothing left to decide, nothing sent.
    const again = await runCli(['pay-under-new-token', handle.workflowId, '--yes']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('is paid, not unconfirmed');
    expect(paidTo(assignmentId)).toHaveLength(1);
  });

  it('names a payment that does not exist', async () => {
    const run = await runCli(['pay-under-new-token', 'mturk-bonus/NOSUCHASSIGNMENT', '--yes']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no payment mturk-bonus/NOSUCHASSIGNMENT');
  });
});
