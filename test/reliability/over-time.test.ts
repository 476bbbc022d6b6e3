/**
 * Exactly-once over time: what an earlier run, a deleted workflow or another tool did is known
 * only to MTurk's ledger. Each scenario runs the product's worker on the real dev server, reaches
 * the emulator through the real AWS SDK, and counts the payments in the emulator's ledger.
 */
import { randomUUID } from 'node:crypto';
import { SendBonusCommand } from '@aws-sdk/client-mturk';
import {
  WorkflowFailedError,
  WorkflowIdReusePolicy,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { bonusWorkflowId, payBonus, payBonusAndWait } from '../../src/client';
import { FailureType } from '../../src/common/errors';
import { bonusRequestToken } from '../../src/common/token';
import type {
  ApproveAndBonusInput,
  ApproveAndBonusResult,
  PaymentStatus,
} from '../../src/common/types';
import type {
  approveAndBonus,
  ApproveAndBonusOptions,
  ApproveAndBonusWorkflowInput,
} from '../../src/workflows';
import {
  PREPATCH_KEYED_CAN_HISTORY,
  continuedAsNewInput,
  loadHistory,
  recordedWorkflowId,
} from '../harness/histories';
import { emulatorClient, useWorkerPerTest } from '../harness/mturk';

const HOUR_MS = 60 * 60 * 1000;

const bed = useWorkerPerTest('over-time', (emu) =>
  emu.configure({ listingLagMs: 0, consumeTokenOnFailure: false }),
);

/** Quick retries and re-checks keep the scenarios short; the policy's shape is production's. */
const fast: ApproveAndBonusOptions = {
  retryInitialInterval: '50ms',
  retryMaximumInterval: '500ms',
  fundsRecheckInterval: '200ms',
  confirmationWindow: '2s',
  unconfirmedRecheckInterval: '500ms',
};
const opts = () => ({ taskQueue: bed.taskQueue, workflowOptions: fast });

function seed(count: number, balance = '100.00') {
  const assignments = Array.from({ length: count }, (_, i) => ({
    workerId: `AOVERTIME${String(i).padStart(5, '0')}`,
  }));
  return bed.emu.seed({ balance, hits: [{ assignments }] }).hits[0]!.assignments;
}

function input(
  a: { assignmentId: string; workerId: string },
  extra: Partial<ApproveAndBonusInput> = {},
) {
  return {
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    bonusAmount: '2.00',
    reason: 'Thanks for the careful work',
    ...extra,
  };
}

/** Bonuses MTurk's ledger holds for an assignment. */
const paidFor = (assignmentId: string) =>
  bed.emu.ledger().bonuses.filter((b) => b.assignmentId === assignmentId);

/** The workflow's first WorkflowTaskCompleted: `temporal workflow reset --type FirstWorkflowTask`. */
async function resetToFirstWorkflowTask(handle: WorkflowHandle): Promise<string> {
  const history = await handle.fetchHistory();
  const first = history.events!.find((e) => e.workflowTaskCompletedEventAttributes)!;
  const { runId } = await bed.env.client.workflowService.resetWorkflowExecution({
    namespace: bed.env.namespace,
    workflowExecution: { workflowId: handle.workflowId },
    workflowTaskFinishEventId: first.eventId,
    requestId: randomUUID(),
    reason: 'test: operator reset',
  });
  return runId!;
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  // A workflow's failure wraps the activity's: the ApplicationFailure is the innermost.
  let cause: unknown = err instanceof WorkflowFailedError ? err.cause : err;
  while (!(cause instanceof ApplicationFailure) && cause instanceof Error && cause.cause) {
    cause = cause.cause;
  }
  if (!(cause instanceof ApplicationFailure)) throw err;
  return cause;
}

describe('exactly once over time', () => {
  it('a reset to the first workflow task 25 h later (past the token memory) pays nothing again', async () => {
    const [a] = seed(1);
    const handle = await payBonus(bed.env.client, input(a!), opts());
    expect((await handle.result()).bonus.status).toBe('paid');
    bed.emu.advanceClock(25 * HOUR_MS);

    const runId = await resetToFirstWorkflowTask(handle);
    const again = await bed.env.client.workflow
      .getHandle<typeof approveAndBonus>(handle.workflowId, runId)
      .result();
    expect(again.bonus).toMatchObject({ status: 'already-paid', foundBy: 'listing' });
    expect(paidFor(a!.assignmentId)).toHaveLength(1);
    expect(bed.emu.ledger().requests.SendBonus).toBe(1);
  });

  it('a start by name 25 h later with ALLOW_DUPLICATE (any client, any language) pays nothing again', async () => {
    const [a] = seed(1);
    const first = await payBonusAndWait(bed.env.client, input(a!), opts());
    expect(first.bonus.status).toBe('paid');
    bed.emu.advanceClock(25 * HOUR_MS);

    const again = (await bed.env.client.workflow.execute('approveAndBonus', {
      taskQueue: bed.taskQueue,
      workflowId: bonusWorkflowId(a!.assignmentId),
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [{ ...input(a!), options: fast }],
    })) as ApproveAndBonusResult;
    expect(again.bonus).toMatchObject({ status: 'already-paid', foundBy: 'listing' });
    expect(paidFor(a!.assignmentId)).toHaveLength(1);
  });

  it('a rerun with another reason or amount for an unkeyed payment is a PaymentConflict: zero SendBonus', async () => {
    const [a] = seed(1);
    await payBonusAndWait(bed.env.client, input(a!), opts());
    const sendsBefore = bed.emu.ledger().requests.SendBonus;

    // Started by name (the workflow cannot know what an earlier run did: the ledger does).
    const byName = bed.env.client.workflow.execute('approveAndBonus', {
      taskQueue: bed.taskQueue,
      workflowId: `elsewhere-${randomUUID()}`,
      args: [{ ...input(a!, { reason: 'A different reason' }), options: fast }],
    });
    const conflict = await failureOf(byName);
    expect(conflict.type).toBe(FailureType.PaymentConflict);
    expect(conflict.message).toMatch(/2\.00 "Thanks for the careful work" granted/);

    // payBonus compares with the existing payment workflow before attaching to it.
    const attached = await failureOf(
      payBonus(bed.env.client, input(a!, { bonusAmount: '3.00' }), opts()),
    );
    expect(attached.type).toBe(FailureType.PaymentConflict);
    expect(attached.message).toMatch(/amount 2\.00 \(asked 3\.00\)/);

    expect(bed.emu.ledger().requests.SendBonus).toBe(sendsBefore);
    expect(paidFor(a!.assignmentId)).toHaveLength(1);
  });

  it('keyed bonuses for one assignment still pay once each, and a rerun finds both', async () => {
    const [a] = seed(1);
    const keyed = (bonusKey: string) => input(a!, { bonusKey, skipApproval: bonusKey === 'b' });
    for (const key of ['a', 'b']) {
      expect((await payBonusAndWait(bed.env.client, keyed(key), opts())).bonus.status).toBe('paid');
    }
    bed.emu.advanceClock(25 * HOUR_MS);
    for (const key of ['a', 'b']) {
      const again = (await bed.env.client.workflow.execute('approveAndBonus', {
        taskQueue: bed.taskQueue,
        workflowId: bonusWorkflowId(a!.assignmentId, key),
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        args: [{ ...keyed(key), options: fast }],
      })) as ApproveAndBonusResult;
      expect(again.bonus.status).toBe('already-paid');
    }
    expect(
      paidFor(a!.assignmentId)
        .map((b) => b.reason)
        .sort(),
    ).toEqual(['Thanks for the careful work (bonus a)', 'Thanks for the careful work (bonus b)']);
  });

  it.each([0, 5_000])(
    'a listing lagging %i ms with half the SendBonus answers lost: one payment each, none missing',
    async (lagMs) => {
      bed.emu.configure({ listingLagMs: lagMs });
      bed.emu.setFaults({ seed: 7, operations: { SendBonus: { dropAfterCommitRate: 0.5 } } });
      const rows = seed(10, '500.00');
      const results = await Promise.all(
        rows.map((a) =>
          payBonusAndWait(bed.env.client, input(a), {
            taskQueue: bed.taskQueue,
            workflowOptions: { ...fast, confirmationWindow: '10m' },
          }),
        ),
      );
      for (const result of results) expect(['paid', 'already-paid']).toContain(result.bonus.status);
      for (const a of rows) expect(paidFor(a.assignmentId)).toHaveLength(1);
      expect(bed.emu.ledger().faults.dropAfterCommit).toBeGreaterThan(0);
    },
  );

  it('a funds wait never fails, even when refused calls use up their tokens', async () => {
    bed.emu.configure({ consumeTokenOnFailure: true });
    const [a] = seed(1, '0.00');
    const handle = await payBonus(bed.env.client, input(a!, { bonusAmount: '5.00' }), opts());
    // Eight partial top-ups, each refused again, then enough.
    for (let i = 0; i < 8; i++) {
      await waitForState(handle, 'waiting-for-funds');
      bed.emu.setBalance((0.5 * (i + 1)).toFixed(2));
      await handle.signal('fundsAdded');
      await waitForRequests('SendBonus', i + 2);
    }
    bed.emu.setBalance('10.00');
    await handle.signal('fundsAdded');
    const result = await handle.result();
    expect(result.bonus.status).toBe('paid');
    expect(paidFor(a!.assignmentId)).toHaveLength(1);
    expect(bed.emu.ledger().balance).toBe('4.00');
    // Every refused token was left behind, never sent again.
    const status = await handle.query<PaymentStatus>('status');
    expect(status.tokenGeneration).toBeGreaterThanOrEqual(9);
    expect(result.bonus.token).toBe(
      bonusRequestToken(handle.workflowId, undefined, status.tokenGeneration),
    );
  });

  it('a restart after a refused call continues from the next token generation', async () => {
    bed.emu.configure({ consumeTokenOnFailure: true });
    const [a] = seed(1);
    // Wrong worker: MTurk refuses the SendBonus (and, here, remembers its token).
    const wrong = await failureOf(
      payBonusAndWait(bed.env.client, input(a!, { workerId: 'AWRONGWORKER01' }), opts()),
    );
    expect(wrong.type).toBe(FailureType.WorkerMismatch);
    const fixed = await payBonusAndWait(bed.env.client, input(a!), opts());
    expect(fixed.bonus.status).toBe('paid');
    expect(fixed.bonus.token).toMatch(/^tm1-1-/);
    expect(paidFor(a!.assignmentId)).toHaveLength(1);
  });

  it('a used token that is never listed waits as unconfirmed until an operator asks for a new token', async () => {
    bed.emu.configure({ consumeTokenOnFailure: true });
    const [a] = seed(1);
    const workflowId = bonusWorkflowId(a!.assignmentId);
    // Another tool used our generation-0 token on a call MTurk refused: nothing was paid.
    const mturk = emulatorClient(bed.emu.url);
    await mturk
      .send(
        new SendBonusCommand({
          AssignmentId: a!.assignmentId,
          WorkerId: 'AOTHERWORKER01',
          BonusAmount: '2.00',
          Reason: 'x',
          UniqueRequestToken: bonusRequestToken(workflowId, undefined, 0),
        }),
      )
      .catch(() => undefined);
    mturk.destroy();

    const handle = await payBonus(bed.env.client, input(a!), opts());
    const status = await waitForState(handle, 'unconfirmed');
    expect(status.originalRequestId).toBeTruthy();
    expect(paidFor(a!.assignmentId)).toHaveLength(0);
    // Nothing happens by itself: still unconfirmed after several re-checks.
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await handle.query<PaymentStatus>('status')).state).toBe('unconfirmed');
    expect(paidFor(a!.assignmentId)).toHaveLength(0);

    await handle.signal('payUnderNewToken', { note: 'test: support confirmed no bonus' });
    const result = await handle.result();
    expect(result.bonus.status).toBe('paid');
    expect(result.bonus.token).toMatch(/^tm1-1-/);
    expect(paidFor(a!.assignmentId)).toHaveLength(1);
  });

  it('a keyed payment carried across continue-as-new by an older version finds what it paid with the reason it sent then', async () => {
    const [a] = seed(1);
    const workflowId = bonusWorkflowId(a!.assignmentId, 'k');
    // Started before keys were carried in reasons: it paid "Thanks" (no key marker), and its
    // continue-as-new carried no record of the reason it sent.
    const mturk = emulatorClient(bed.emu.url);
    await mturk.send(
      new SendBonusCommand({
        AssignmentId: a!.assignmentId,
        WorkerId: a!.workerId,
        BonusAmount: '2.00',
        Reason: 'Thanks',
        UniqueRequestToken: bonusRequestToken(workflowId, 'k', 0),
      }),
    );
    mturk.destroy();
    const sends = bed.emu.ledger().requests.SendBonus;

    const result = (await bed.env.client.workflow.execute('approveAndBonus', {
      taskQueue: bed.taskQueue,
      workflowId,
      args: [
        {
          ...input(a!, { reason: 'Thanks', bonusKey: 'k', skipApproval: true }),
          options: fast,
          carried: { tokenGeneration: 0, bonusAttempted: true },
        },
      ],
    })) as ApproveAndBonusResult;
    expect(result.bonus).toMatchObject({ status: 'already-paid', foundBy: 'listing' });
    expect(bed.emu.ledger().requests.SendBonus).toBe(sends);
    expect(paidFor(a!.assignmentId)).toHaveLength(1);
  });

  it('the continue-as-new input a recorded pre-patch keyed run handed on finds the bonus paid with the plain reason: zero SendBonus', async () => {
    // test/histories: the old code's run waited for funds until it continued as new, carrying
    // no record of the reason it sent (the plain one, before keys were carried in reasons).
    const history = loadHistory(PREPATCH_KEYED_CAN_HISTORY);
    const recorded = continuedAsNewInput<ApproveAndBonusWorkflowInput>(history);
    const workflowId = recordedWorkflowId(history);
    expect(recorded.carried).toBeDefined();
    expect(recorded.carried).not.toHaveProperty('mturkReason');
    bed.emu.seed({
      balance: '100.00',
      hits: [
        {
          assignments: [{ assignmentId: recorded.assignmentId, workerId: recorded.workerId }],
        },
      ],
    });
    // Funds came, and the old code's SendBonus paid with the reason it always sent.
    const mturk = emulatorClient(bed.emu.url);
    await mturk.send(
      new SendBonusCommand({
        AssignmentId: recorded.assignmentId,
        WorkerId: recorded.workerId,
        BonusAmount: recorded.bonusAmount,
        Reason: recorded.reason,
        UniqueRequestToken: bonusRequestToken(
          workflowId,
          recorded.bonusKey,
          recorded.carried!.tokenGeneration,
        ),
      }),
    );
    mturk.destroy();
    const sends = bed.emu.ledger().requests.SendBonus;

    // The next run, as the server starts it: the recorded input, under the same workflow ID.
    const result = (await bed.env.client.workflow.execute('approveAndBonus', {
      taskQueue: bed.taskQueue,
      workflowId,
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      args: [recorded],
    })) as ApproveAndBonusResult;
    expect(result.bonus).toMatchObject({
      status: 'already-paid',
      foundBy: 'listing',
      amount: recorded.bonusAmount,
    });
    expect(bed.emu.ledger().requests.SendBonus).toBe(sends);
    expect(paidFor(recorded.assignmentId)).toEqual([
      expect.objectContaining({ reason: recorded.reason }),
    ]);
  });

  it('a payment confirmed for another MTurk is refused by the worker with zero requests', async () => {
    const [a] = seed(1);
    const before = { ...bed.emu.ledger().requests };
    const refused = await failureOf(
      payBonusAndWait(bed.env.client, input(a!), {
        ...opts(),
        target: { name: 'local', endpoint: 'http://127.0.0.1:9' },
      }),
    );
    expect(refused.type).toBe(FailureType.TargetMismatch);
    expect(refused.message).toContain(bed.emu.url);
    expect(bed.emu.ledger().requests).toEqual(before);
  });
});

async function waitForState(handle: WorkflowHandle, state: string): Promise<PaymentStatus> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await handle.query<PaymentStatus>('status').catch(() => undefined);
    if (status?.state === state) return status;
    if (Date.now() > deadline) throw new Error(`payment never reached ${state}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForRequests(operation: string, count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while ((bed.emu.ledger().requests[operation] ?? 0) < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} ${operation} requests`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
