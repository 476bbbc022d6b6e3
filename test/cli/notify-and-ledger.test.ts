/**
 * `pay --notify` (one NotifyWorkers message per payment this run made, never failing it) and
 * `pay --check-ledger` / `--dry-run` (what MTurk already lists, before anything is confirmed).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { payBonusAndWait } from '../../src/client';
import { useWorkerTestBed } from '../harness/mturk';
import { readReport, runCli, writeCsv, type CsvRow } from './helpers';

const bed = useWorkerTestBed('cli-notify');
beforeEach(() => {
  bed.emu.reset();
  bed.emu.setFaults({});
});

let seeded = 0;
function seedRows(count: number): CsvRow[] {
  const assignments = Array.from({ length: count }, () => ({
    workerId: `ANOTIFY${String(seeded++).padStart(5, '0')}`,
  }));
  const { hits } = bed.emu.seed({ balance: '500.00', hits: [{ assignments }] });
  return hits[0]!.assignments.map((a, i) => ({
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    amount: ['1.00', '2.50', '0.75', '3.10'][i % 4]!,
    reason: 'Thanks for the careful work',
  }));
}

const pay = (file: string, ...extra: string[]) =>
  runCli(['pay', file, '--endpoint', bed.emu.url, '--task-queue', bed.taskQueue, ...extra]);

describe('pay --notify', () => {
  it('sends one message per payment, naming amount and reason, even when SendBonus answers are lost; a rerun sends none', async () => {
    bed.emu.setFaults({ seed: 3, operations: { SendBonus: { dropAfterCommitRate: 0.5 } } });
    const rows = seedRows(6);
    const file = writeCsv(rows);
    const run = await pay(file, '--yes', '--notify', 'Your bonus');
    expect(run.code).toBe(0);
    expect(bed.emu.ledger().faults.dropAfterCommit).toBeGreaterThan(0);
    const notes = bed.emu.ledger().notifications;
    expect(notes.flatMap((n) => n.workerIds).sort()).toEqual(rows.map((r) => r.workerId).sort());
    for (const row of rows) {
      const note = notes.find((n) => n.workerIds.includes(row.workerId))!;
      expect(note.subject).toBe('Your bonus');
      expect(note.messageText).toBe(
        `You received a bonus of $${row.amount} for assignment ${row.assignmentId}: ${row.reason}`,
      );
    }
    expect(readReport(file).map((r) => r.notification)).toEqual(rows.map(() => 'sent'));

    const again = await pay(file, '--yes', '--notify', 'Your bonus');
    expect(again.code).toBe(0);
    expect(bed.emu.ledger().notifications).toHaveLength(rows.length);
  });

  it('a failing NotifyWorkers never fails or repeats the payment: reported per row', async () => {
    bed.emu.setFaults({ operations: { NotifyWorkers: { serviceFaultRate: 1 } } });
    const rows = seedRows(2);
    const file = writeCsv(rows);
    const run = await pay(file, '--yes', '--notify', 'Your bonus', '--notify-message', 'Thanks!');
    expect(run.code).toBe(0);
    expect(bed.emu.ledger().bonuses).toHaveLength(2);
    expect(bed.emu.ledger().requests.NotifyWorkers).toBe(2); // one attempt each: at most once
    for (const line of readReport(file)) {
      expect(line.status).toBe('paid');
      expect(line.notification).toMatch(/^failed: /);
    }
  });

  it('refuses a bad subject with exit 2 before any request', async () => {
    const rows = seedRows(1);
    const before = { ...bed.emu.ledger().requests };
    const run = await pay(writeCsv(rows), '--yes', '--notify', 'x'.repeat(201));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--notify: subject must be at most 200 characters/);
    expect(bed.emu.ledger().requests).toEqual(before);
  });
});

describe('pay --check-ledger and --dry-run', () => {
  it('show that every row of a file paid before is already listed, and pay nothing', async () => {
    const rows = seedRows(4);
    // Paid before, one by one (no batch for this file exists).
    for (const r of rows.slice(0, 3)) {
      await payBonusAndWait(
        bed.env.client,
        {
          assignmentId: r.assignmentId,
          workerId: r.workerId,
          bonusAmount: r.amount,
          reason: r.reason,
        },
        { taskQueue: bed.taskQueue },
      );
    }
    const changed = { ...rows[1]!, reason: 'Another reason' };
    const file = writeCsv([rows[0]!, changed, rows[2]!, rows[3]!]);
    const sends = bed.emu.ledger().requests.SendBonus;

    const dry = await pay(file, '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(
      'on MTurk     2 of 4 payments already listed as paid (not paid again), 1 conflict with a listed bonus (will fail), 1 not listed',
    );
    const checked = await pay(file, '--check-ledger');
    expect(checked.code).toBe(4); // not a terminal, no --yes: nothing confirmed
    expect(checked.stdout).toContain('2 of 4 payments already listed as paid');
    expect(bed.emu.ledger().requests.SendBonus).toBe(sends);
  });
});
