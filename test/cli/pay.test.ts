import { beforeEach, describe, expect, it } from 'vitest';
import { payBonusAndWait } from '../../src/client';
import { mturkFeeCents, parseDollarsToCents } from '../../src/common/money';
import { useWorkerTestBed } from '../harness/mturk';
import {
  collect,
  readReport,
  runCli,
  spawnCli,
  waitFor,
  writeCsv,
  writeText,
  type CsvRow,
} from './helpers';

const bed = useWorkerTestBed('cli');
beforeEach(() => {
  bed.emu.reset();
});

const AMOUNTS = ['0.05', '1.00', '10.10', '2.50', '0.01', '7.77', '3.00', '0.99', '4.20', '5.55'];

/** Submitted assignments by distinct workers, and one CSV row for each. */
function seedRows(count: number, balance = '500.00'): CsvRow[] {
  const assignments = Array.from({ length: count }, (_, i) => ({
    workerId: `ACLIWORKER${String(i).padStart(4, '0')}`,
  }));
  const { hits } = bed.emu.seed({ balance, hits: [{ assignments }] });
  return hits[0]!.assignments.map((a, i) => ({
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    amount: AMOUNTS[i % AMOUNTS.length]!,
    reason: i % 2 ? 'Thanks, great work' : 'Bonus for accuracy, well done',
  }));
}

function cliArgs(command: string, file: string, ...extra: string[]): string[] {
  return [command, file, '--endpoint', bed.emu.url, '--task-queue', bed.taskQueue, ...extra];
}

function totalRequests(): number {
  return Object.values(bed.emu.ledger().requests).reduce((a, b) => a + b, 0);
}

/** MTurk requests received, per operation, leaving out the operations never called. */
function requestsMade(): Record<string, number> {
  return Object.fromEntries(Object.entries(bed.emu.ledger().requests).filter(([, n]) => n > 0));
}

function writes() {
  const ledger = bed.emu.ledger();
  return {
    approvals: ledger.approvals.length,
    bonuses: ledger.bonuses.length,
    rejections: ledger.rejections.length,
  };
}

function costCents(rows: CsvRow[]): number {
  return rows.reduce((sum, r) => {
    const cents = parseDollarsToCents(r.amount);
    return sum + cents + mturkFeeCents(cents);
  }, 0);
}

describe('temporal-mturk pay', () => {
  it('pays a clean batch: preview, one payment per row, exact ledger, full report', async () => {
    const rows = seedRows(6);
    const file = writeCsv(rows);
    const run = await runCli(cliArgs('pay', file, '--yes', '--concurrency', '3'));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/payments +6 \(from 6 rows/);
    expect(run.stdout).toContain('bonuses      $21.43'); // 0.05 + 1.00 + 10.10 + 2.50 + 0.01 + 7.77
    expect(run.stdout).toContain('MTurk fees   $4.29');
    expect(run.stdout).toContain('total        $25.72');
    expect(run.stdout).toContain(`MTurk        local at ${bed.emu.url}`);
    expect(run.stdout).toContain('balance      $500.00 available: enough');

    const ledger = bed.emu.ledger();
    expect(ledger.approvals).toHaveLength(6);
    expect(ledger.bonuses).toHaveLength(6);
    expect(Math.round(Number(ledger.balance) * 100)).toBe(50_000 - costCents(rows));
    const report = readReport(file);
    expect(report).toHaveLength(6);
    for (const [i, row] of rows.entries()) {
      const line = report.find((r) => r.assignmentId === row.assignmentId)!;
      const bonus = ledger.bonuses.find((b) => b.assignmentId === row.assignmentId)!;
      expect(line).toMatchObject({
        line: String(i + 2),
        workerId: row.workerId,
        amount: row.amount,
        status: 'paid',
        requestId: bonus.requestId,
        workflowId: `mturk-bonus/${row.assignmentId}`,
        token: bonus.token,
        error: '',
      });
      expect(bonus.amount).toBe(row.amount);
    }
  });

  it('prints plain progress lines, no bar or escape codes, when not a terminal', async () => {
    const rows = seedRows(3);
    const run = await runCli(cliArgs('pay', writeCsv(rows), '--yes'));
    expect(run.code).toBe(0);
    expect(run.stdout).not.toContain('\r');
    expect(run.stdout).not.toContain('\u001b[');
    expect(run.stdout).toMatch(
      /^progress: 3\/3 done \| paid 3 \| already paid 0 \| waiting for funds 0 \| failed 0/m,
    );
    expect(run.stdout).toMatch(/^3 lines, 3 payments: paid 3, already paid 0, failed 0/m);
  });

  it('refuses a file with bad rows, listing each, with exit 2 and zero MTurk requests', async () => {
    const rows = seedRows(4);
    const file = writeCsv([
      rows[0]!,
      { ...rows[1]!, amount: '$5' },
      { ...rows[2]!, reason: '   ' },
      { ...rows[3]!, amount: '1.00' },
      { ...rows[3]!, amount: '2.00' },
      rows[0]!, // an exact repeat: collapsed, not an error
    ]);
    const run = await runCli(cliArgs('pay', file, '--yes'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${file}:3: amount must be US dollars`);
    expect(run.stderr).toContain(`${file}:4: reason must not be empty`);
    expect(run.stderr).toMatch(
      new RegExp(`${file}:5: assignmentId lines 5, 6 are the same payment .*different amount`),
    );
    expect(run.stderr).toContain(`${file}:6: assignmentId lines 5, 6`);
    expect(run.stderr).toContain('nothing was paid');
    expect(run.stdout).toContain('line 7 repeats line 2 exactly');
    expect(totalRequests()).toBe(0);
  });

  it('with --skip-invalid pays the valid rows, reports the others and exits 1', async () => {
    const rows = seedRows(3);
    const file = writeCsv([rows[0]!, { ...rows[1]!, amount: '1.234' }, rows[2]!]);
    const run = await runCli(cliArgs('pay', file, '--yes', '--skip-invalid'));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`skipped: ${file}:3: amount`);
    expect(
      bed.emu
        .ledger()
        .bonuses.map((b) => b.assignmentId)
        .sort(),
    ).toEqual([rows[0]!.assignmentId, rows[2]!.assignmentId].sort());
    expect(readReport(file).map((r) => r.status)).toEqual(['paid', 'invalid', 'paid']);
    // status agrees with pay: the batch finished, but the file is not all paid.
    const status = await runCli(cliArgs('status', file));
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('1 lines of the file are invalid: not paid');
  });

  it('status finds a batch paid with --max-bonus without being given the cap again', async () => {
    const rows = seedRows(2);
    const file = writeCsv([rows[0]!, { ...rows[1]!, amount: '150.00' }]);
    // (The test worker keeps its own $100 cap, so the $150 row fails there: pay exits 1.)
    const run = await runCli(cliArgs('pay', file, '--yes', '--max-bonus', '200'));
    const batchId = /Started batch (mturk-batch\/[0-9a-f]{32})/.exec(run.stdout)?.[1];
    expect(batchId).toBeDefined();
    const status = await runCli(cliArgs('status', file));
    expect(status.stdout).toContain(`batch ${batchId}: completed`);
    expect(status.code).toBe(run.code);
  });

  it('--dry-run previews and writes nothing', async () => {
    const rows = seedRows(3);
    const run = await runCli(cliArgs('pay', writeCsv(rows), '--dry-run'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('total        $13.38');
    expect(run.stdout).toContain('Dry run: nothing was paid.');
    expect(run.stdout).toContain('on MTurk     0 of 3 payments already listed as paid');
    expect(writes()).toEqual({ approvals: 0, bonuses: 0, rejections: 0 });
    // Reads only: the balance, and the ledger of each assignment.
    expect(requestsMade()).toEqual({ GetAccountBalance: 1, ListBonusPayments: 3 });
  });

  it('refuses with exit 3 when the balance does not cover bonuses plus fees, writing nothing', async () => {
    const rows = seedRows(3, '13.37'); // one cent short of 13.38
    const run = await runCli(cliArgs('pay', writeCsv(rows), '--yes'));
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('NOT enough (short by $0.01)');
    expect(run.stderr).toContain('does not cover $13.38');
    expect(writes()).toEqual({ approvals: 0, bonuses: 0, rejections: 0 });
    expect(requestsMade()).toEqual({ GetAccountBalance: 1 });
  });

  it('refuses without --yes when nobody can confirm, writing nothing', async () => {
    const rows = seedRows(2);
    const run = await runCli(cliArgs('pay', writeCsv(rows)));
    expect(run.code).toBe(4);
    expect(run.stderr).toContain('pass --yes');
    expect(writes()).toEqual({ approvals: 0, bonuses: 0, rejections: 0 });
  });

  it('run again on the same file: zero new payments or MTurk requests, every row already-paid', async () => {
    const rows = seedRows(4);
    const file = writeCsv(rows);
    expect((await runCli(cliArgs('pay', file, '--yes'))).code).toBe(0);
    const before = bed.emu.ledger();

    const again = await runCli(cliArgs('pay', file, '--yes'));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already finished');
    expect(again.stdout).toMatch(/paid 0, already paid 4/);
    const after = bed.emu.ledger();
    expect(after.requests).toEqual(before.requests);
    expect(after.bonuses).toHaveLength(4);
    const report = readReport(file);
    expect(report.map((r) => r.status)).toEqual([
      'already-paid',
      'already-paid',
      'already-paid',
      'already-paid',
    ]);
    expect(report.map((r) => r.requestId).sort()).toEqual(
      before.bonuses.map((b) => b.requestId).sort(),
    );
  });

  it('survives the command being killed mid-batch: status shows it, a rerun finishes it, nothing twice', async () => {
    const rows = seedRows(10);
    const file = writeCsv(rows);
    bed.emu.setFaults({ seed: 1, operations: { SendBonus: { latencyMs: 300 } } });
    const child = spawnCli(cliArgs('pay', file, '--yes', '--concurrency', '2'));
    child.stdin?.end();
    const { exited } = collect(child);
    await waitFor(() => bed.emu.ledger().bonuses.length > 0);
    child.kill('SIGKILL');
    await exited;
    expect(bed.emu.ledger().bonuses.length).toBeLessThan(10);

    const status = await runCli(cliArgs('status', file));
    expect(status.stdout).toMatch(/batch mturk-batch\/[0-9a-f]{32}: (running|completed)/);
    expect(status.stdout).toMatch(/\d+\/10 done \| paid \d+/);

    const rerun = await runCli(cliArgs('pay', file, '--yes'));
    expect(rerun.code).toBe(0);
    const ledger = bed.emu.ledger();
    expect(ledger.bonuses).toHaveLength(10);
    expect(new Set(ledger.bonuses.map((b) => b.assignmentId)).size).toBe(10);
    expect(ledger.approvals).toHaveLength(10);
    for (const line of readReport(file)) expect(['paid', 'already-paid']).toContain(line.status);

    const finished = await runCli(cliArgs('status', file));
    expect(finished.code).toBe(0);
    expect(finished.stdout).toContain('completed');
    expect(finished.stdout).toContain('10/10 done | paid 10');
  });

  it('reports a row paid earlier through payBonus as already-paid, paying it once and not counting it against the balance', async () => {
    // 13.38 covers the three rows; after the earlier 1.00 (+0.20 fee) the 12.18 left covers
    // exactly the two rows still to pay, not the whole file again.
    const rows = seedRows(3, '13.38');
    const earlier = await payBonusAndWait(
      bed.env.client,
      {
        assignmentId: rows[1]!.assignmentId,
        workerId: rows[1]!.workerId,
        bonusAmount: rows[1]!.amount,
        reason: rows[1]!.reason,
      },
      { taskQueue: bed.taskQueue },
    );
    const file = writeCsv(rows);
    const run = await runCli(cliArgs('pay', file, '--yes'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'paid before  1 of these payments already completed: $1.20 is not spent again',
    );
    expect(run.stdout).toContain('balance      $12.18 available: enough (leaves $0.00)');
    const report = readReport(file);
    expect(report.map((r) => r.status)).toEqual(['paid', 'already-paid', 'paid']);
    expect(report[1]!.requestId).toBe(earlier.bonus.requestId);
    const ledger = bed.emu.ledger();
    expect(ledger.bonuses).toHaveLength(3);
    expect(ledger.bonuses.filter((b) => b.assignmentId === rows[1]!.assignmentId)).toHaveLength(1);
    expect(ledger.balance).toBe('0.00');
  });

  it('reads a BOM, quoted fields with commas, quotes and line breaks, and writes a JSON report', async () => {
    const rows = seedRows(2);
    const file = writeText(
      '\uFEFFAssignmentId,WorkerId,Amount,Reason,Feedback\n' +
        `${rows[0]!.assignmentId},${rows[0]!.workerId},1.5,"Thanks, ""great"" job\nsee you",\n` +
        `${rows[1]!.assignmentId},${rows[1]!.workerId},2,Thanks,"Nice, thanks"\n`,
    );
    const reportPath = `${file}.json`;
    const run = await runCli(cliArgs('pay', file, '--yes', '--report', reportPath));
    expect(run.code).toBe(0);
    const bonuses = bed.emu.ledger().bonuses;
    expect(bonuses.find((b) => b.assignmentId === rows[0]!.assignmentId)).toMatchObject({
      amount: '1.50',
      reason: 'Thanks, "great" job\nsee you',
    });
    const report = JSON.parse((await import('node:fs')).readFileSync(reportPath, 'utf8'));
    expect(report.summary).toMatchObject({ lines: 2, payments: 2, paid: 2, allPaid: true });
    expect(report.rows.map((r: { line: number; amount: string }) => [r.line, r.amount])).toEqual([
      [2, '1.50'],
      [4, '2.00'],
    ]);
  });
});
