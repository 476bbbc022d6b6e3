/**
 * `pay` over time, as an operator runs it: reruns after Temporal forgot the workflows, a lagging
 * listing with lost answers, a changed row, a worker on another MTurk. Every report count is
 * checked against the emulator's ledger.
 */
import { readFileSync } from 'node:fs';
import { WorkflowNotFoundError } from '@temporalio/client';
import { beforeEach, describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator';
import { useWorkerTestBed } from '../harness/mturk';
import { readReport, runCli, writeCsv, type CsvRow } from './helpers';

const bed = useWorkerTestBed('cli-over-time');
beforeEach(() => {
  bed.emu.reset();
  bed.emu.setFaults({});
  bed.emu.configure({ listingLagMs: 0 });
});

let seeded = 0;
function seedRows(count: number): CsvRow[] {
  const assignments = Array.from({ length: count }, () => ({
    workerId: `AOVERTIMECLI${String(seeded++).padStart(4, '0')}`,
  }));
  const { hits } = bed.emu.seed({ balance: '500.00', hits: [{ assignments }] });
  return hits[0]!.assignments.map((a, i) => ({
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    amount: ['1.00', '2.50', '0.75'][i % 3]!,
    reason: 'Thanks for the careful work',
  }));
}

const pay = (file: string, ...extra: string[]) =>
  runCli([
    'pay',
    file,
    '--endpoint',
    bed.emu.url,
    '--task-queue',
    bed.taskQueue,
    '--yes',
    ...extra,
  ]);

/** The report's summary lines ("# key: value"). */
function summaryOf(file: string): Record<string, string> {
  const text = readFileSync(`${file}.report.csv`, 'utf8');
  return Object.fromEntries(
    [...text.matchAll(/^# (\w+): (.*)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
  );
}

/** As namespace retention does: the finished batch and payment workflows are gone. */
async function deleteWorkflows(ids: string[]): Promise<void> {
  for (const workflowId of ids) {
    await bed.env.client.workflowService.deleteWorkflowExecution({
      namespace: bed.env.namespace,
      workflowExecution: { workflowId },
    });
  }
  for (const workflowId of ids) {
    for (;;) {
      try {
        await bed.env.client.workflow.getHandle(workflowId).describe();
        await new Promise((r) => setTimeout(r, 50));
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) break;
        throw err;
      }
    }
  }
}

const bonusesOf = (rows: CsvRow[]) =>
  rows.map((r) => bed.emu.ledger().bonuses.filter((b) => b.assignmentId === r.assignmentId).length);

describe('pay over time', () => {
  it('after the workflows were deleted: a rerun pays nothing again and reports every row already paid; a changed row is a conflict', async () => {
    const rows = seedRows(5);
    const file = writeCsv(rows);
    const first = await pay(file);
    expect(first.code).toBe(0);
    expect(summaryOf(file)).toMatchObject({ paid: '5', alreadyPaid: '0' });
    const batchId = summaryOf(file).batchId!;
    // Deleting takes the dev server ~30 s: one deletion serves both reruns.
    await deleteWorkflows([batchId, ...rows.map((r) => `mturk-bonus/${r.assignmentId}`)]);
    const sendsBefore = bed.emu.ledger().requests.SendBonus;

    const again = await pay(file);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(
      /5 lines, 5 payments: paid 0, already paid 5 \(5 on MTurk's listing\), failed 0 \(conflicts 0\)/,
    );
    expect(again.stdout).toContain('paid now: $0.00 in bonuses + $0.00 MTurk fees');
    expect(summaryOf(file)).toMatchObject({
      paid: '0',
      alreadyPaid: '5',
      alreadyPaidByListing: '5',
      paidNow: '$0.00',
    });
    for (const line of readReport(file)) {
      expect(line).toMatchObject({ status: 'already-paid', foundBy: 'listing' });
    }

    // The same assignments with another reason for one unkeyed row (its workflow is new, the
    // ledger is not): a conflict, reported; the others are found paid.
    const changed = writeCsv([...rows.slice(0, 4), { ...rows[4]!, reason: 'Another reason' }]);
    await deleteWorkflows(rows.map((r) => `mturk-bonus/${r.assignmentId}`));
    const conflict = await pay(changed);
    expect(conflict.code).toBe(1);
    expect(conflict.stdout).toMatch(/line 6: failed: PaymentConflict: MTurk already lists a bonus/);
    expect(summaryOf(changed)).toMatchObject({ alreadyPaid: '4', failed: '1', conflicts: '1' });

    expect(bed.emu.ledger().requests.SendBonus).toBe(sendsBefore);
    expect(bonusesOf(rows)).toEqual([1, 1, 1, 1, 1]);
  }, 180_000);

  it('a listing lagging 60 s with half the answers lost: one payment per row, and the report counts what the ledger holds', async () => {
    bed.emu.configure({ listingLagMs: 60_000 });
    bed.emu.setFaults({ seed: 11, operations: { SendBonus: { dropAfterCommitRate: 0.5 } } });
    const rows = seedRows(12);
    const file = writeCsv(rows);
    const run = await pay(file);
    expect(run.code).toBe(0);
    expect(bed.emu.ledger().faults.dropAfterCommit).toBeGreaterThan(0);
    expect(bonusesOf(rows)).toEqual(rows.map(() => 1));
    // Every payment was made by this run (the lost answers were its own): "paid" is the ledger's.
    expect(summaryOf(file)).toMatchObject({ paid: String(bed.emu.ledger().bonuses.length) });
  }, 240_000);

  it('a batch confirmed for one MTurk is refused by a worker on another: exit 1, nothing paid anywhere', async () => {
    const other = await startEmulator({ port: 0 });
    try {
      const rows = seedRows(3);
      other.seed({ balance: '500.00' });
      const file = writeCsv(rows);
      const run = await runCli([
        'pay',
        file,
        '--endpoint',
        other.url,
        '--task-queue',
        bed.taskQueue,
        '--yes',
      ]);
      expect(run.code).toBe(1);
      expect(run.stdout).toContain(
        `TargetMismatch: This payment was confirmed for MTurk local at ${other.url}`,
      );
      expect(run.stdout).toContain(`this worker pays into MTurk local at ${bed.emu.url}`);
      expect(summaryOf(file)).toMatchObject({ paid: '0', failed: '3' });
      expect(bed.emu.ledger().bonuses).toHaveLength(0);
      expect(bed.emu.ledger().approvals).toHaveLength(0);
      expect(other.ledger().bonuses).toHaveLength(0);
    } finally {
      await other.stop();
    }
  });
});
