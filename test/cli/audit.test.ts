/**
 * `temporal-mturk audit` end to end: the real command in its own process, the real AWS SDK over
 * HTTP to the emulator, faults planted straight into the emulator's ledger with the SDK. No
 * Temporal: the command is pointed at a closed port to prove it does not need one.
 */
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { SendBonusCommand, type MTurkClient } from '@aws-sdk/client-mturk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/cli/audit-command';
import { freePort } from '../../tools/devserver/dev-server';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { client as sdkClient } from '../emulator/helpers';
import { runCli, writeCsv, writeText, type CsvRow } from './helpers';

let emu: RunningEmulator;
let mturk: MTurkClient;
let closedTemporal: string;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  emu = await startEmulator({ port: 0 });
  mturk = sdkClient(emu.url);
  closedTemporal = `127.0.0.1:${await freePort()}`;
});
afterAll(async () => {
  mturk?.destroy();
  await emu?.stop();
});
beforeEach(() => emu.reset());

let tokens = 0;
/** A bonus paid straight through the SDK, as any tool would, each with its own token. */
async function payDirect(assignmentId: string, workerId: string, amount: string, reason: string) {
  await mturk.send(
    new SendBonusCommand({
      AssignmentId: assignmentId,
      WorkerId: workerId,
      BonusAmount: amount,
      Reason: reason,
      UniqueRequestToken: `audit-test-${tokens++}`,
    }),
  );
}

function seed(count: number) {
  const { hits } = emu.seed({
    balance: '100.00',
    hits: [
      {
        assignments: Array.from({ length: count }, (_, i) => ({
          workerId: `AAUDITWORKER${i}`,
          status: 'Approved' as const,
        })),
      },
    ],
  });
  return { hitId: hits[0]!.hitId, assignments: hits[0]!.assignments };
}

/**
 * Four rows, three planted faults: row 0 paid twice (two tokens), row 1 never paid, row 2 paid
 * $2.50 instead of $2.00; row 3 a keyed bonus paid as this project pays it.
 */
async function plantFaults() {
  const { hitId, assignments: a } = seed(4);
  const rows: CsvRow[] = [
    {
      assignmentId: a[0]!.assignmentId,
      workerId: a[0]!.workerId,
      amount: '1.00',
      reason: 'Thanks',
    },
    {
      assignmentId: a[1]!.assignmentId,
      workerId: a[1]!.workerId,
      amount: '1.50',
      reason: 'Thanks',
    },
    {
      assignmentId: a[2]!.assignmentId,
      workerId: a[2]!.workerId,
      amount: '2.00',
      reason: 'Thanks',
    },
    {
      assignmentId: a[3]!.assignmentId,
      workerId: a[3]!.workerId,
      amount: '0.75',
      reason: 'Great accuracy',
      bonusKey: 'week-2',
    },
  ];
  await payDirect(rows[0]!.assignmentId, rows[0]!.workerId, '1.00', 'Thanks');
  await payDirect(rows[0]!.assignmentId, rows[0]!.workerId, '1.00', ' Thanks\n');
  await payDirect(rows[2]!.assignmentId, rows[2]!.workerId, '2.50', 'Thanks');
  await payDirect(
    rows[3]!.assignmentId,
    rows[3]!.workerId,
    '0.75',
    'Great accuracy (bonus week-2)',
  );
  return { hitId, rows };
}

function requests(): Record<string, number> {
  return Object.fromEntries(Object.entries(emu.ledger().requests).filter(([, n]) => n > 0));
}

/** A HIT of `count` assignments, each paid `amount` once (as asked), and its rows. */
async function seedPaidHit(count: number, amount: string) {
  const { hitId, assignments } = seed(count);
  const rows = assignments.map((x) => ({
    assignmentId: x.assignmentId,
    workerId: x.workerId,
    amount,
    reason: 'Thanks',
  }));
  for (const r of rows) await payDirect(r.assignmentId, r.workerId, r.amount, r.reason);
  return { hitId, rows };
}

function audit(args: string[]) {
  return runCli(['audit', ...args, '--endpoint', emu.url], { TEMPORAL_ADDRESS: closedTemporal });
}

interface JsonReport {
  summary: Record<string, string | number>;
  rows: { status: string; line: number | ''; assignmentId: string; asked: string; paid: string }[];
}

describe('temporal-mturk audit', () => {
  it('finds a duplicate, a missing row and a wrong amount, with zero writes and no Temporal', async () => {
    const { rows } = await plantFaults();
    const before = requests();
    const report = writeText('').replace(/\.csv$/, '.json');
    const run = await audit([writeCsv(rows), '--report', report]);

    expect(run.stderr).not.toContain('temporal-mturk audit:'); // progress lines may appear on a slow machine
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('bonuses         4: $5.25 + $1.05 fees = $6.30');
    expect(run.stdout).toContain('duplicates      1: $1.00 + $0.20 fees = $1.20 paid twice');
    expect(run.stdout).toContain('asked           $5.25 + $1.05 fees = $6.30');
    expect(run.stdout).toContain('paid as asked   2');
    expect(run.stdout).toContain('missing         1: $1.50 + $0.30 fees = $1.80 not paid');
    expect(run.stdout).toContain('wrong amount    1');
    expect(run.stdout).toMatch(/overpaid +2 assignments: \$1\.50 more than asked/);
    expect(run.stdout).toMatch(new RegExp(`missing +line 3: assignment ${rows[1]!.assignmentId}`));

    // Reads only: one ListBonusPayments per assignment, nothing else.
    const after = requests();
    expect(after).toEqual({ ...before, ListBonusPayments: 4 });
    expect(after.SendBonus).toBe(before.SendBonus);
    expect(after.ApproveAssignment).toBeUndefined();

    const json = JSON.parse(readFileSync(report, 'utf8')) as JsonReport;
    const statusOf = (assignmentId: string) =>
      json.rows
        .filter((r) => r.assignmentId === assignmentId)
        .map((r) => r.status)
        .sort();
    expect(statusOf(rows[0]!.assignmentId)).toEqual(['duplicate', 'overpaid', 'paid']);
    expect(statusOf(rows[1]!.assignmentId)).toEqual(['missing']);
    expect(statusOf(rows[2]!.assignmentId)).toEqual(['overpaid', 'wrong-amount']);
    expect(statusOf(rows[3]!.assignmentId)).toEqual(['paid']);
    expect(json.rows.find((r) => r.status === 'wrong-amount')).toMatchObject({
      line: 4,
      asked: '2.00',
      paid: '2.50',
    });
    expect(json.summary).toMatchObject({ discrepancies: 5, duplicatesCount: 1, missingCount: 1 });
  });

  it('exits 0 on a clean ledger, and lists by HIT with --hit (one call per 100 bonuses)', async () => {
    const { hitId, rows } = await seedPaidHit(3, '0.40');
    const before = requests();
    const run = await audit([writeCsv(rows), '--hit', hitId]);
    expect(run.stderr).not.toContain('temporal-mturk audit:'); // progress lines may appear on a slow machine
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('No discrepancies.');
    expect(run.stdout).toContain('paid as asked   3');
    expect(requests()).toEqual({
      ...before,
      ListAssignmentsForHIT: 1,
      ListBonusPayments: (before.ListBonusPayments ?? 0) + 1,
    });
  });

  it('counts every page it read: a HIT of 101 assignments takes two of each listing', async () => {
    const { hitId, rows } = await seedPaidHit(101, '0.10');
    const before = requests();
    const run = await audit([writeCsv(rows), '--hit', hitId]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('paid as asked   101');
    const after = requests();
    const made = (op: string) => (after[op] ?? 0) - (before[op] ?? 0);
    expect(made('ListAssignmentsForHIT')).toBe(2);
    expect(made('ListBonusPayments')).toBe(2);
    // The report's figure is what the emulator counted, not one call per HIT.
    expect(run.stdout).toContain('1 HITs, 0 assignments (4 read calls, no writes)');
  });

  it('with --hit alone reports the ledger and its duplicates', async () => {
    const { hitId } = await plantFaults();
    const run = await audit(['--hit', hitId]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('listed          1 HITs, 0 assignments');
    expect(run.stdout).toContain('bonuses         4');
    expect(run.stdout).toMatch(/1 discrepancies:\n +duplicate +assignment/);
  });

  it("reads MTurk's results file, listing by its HITs", async () => {
    const { hitId, rows } = await plantFaults();
    const header = 'HITId,HITTypeId,AssignmentId,WorkerId,AssignmentStatus,Answer.text,bonus';
    const lines = rows.map(
      (r) => `${hitId},3TYPE,${r.assignmentId},${r.workerId},Approved,"some, text",${r.amount}`,
    );
    const before = requests();
    const run = await audit([
      writeText([header, ...lines].join('\n')),
      '--amount-column',
      'bonus',
      '--reason',
      'Thanks',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('listed          1 HITs, 0 assignments');
    // Row 4 asks "Thanks" here, so the keyed payment reads as another reason for that amount.
    expect(run.stdout).toContain('reason differs  1');
    expect(run.stdout).toContain('missing         1');
    expect(run.stdout).toContain('wrong amount    1');
    expect(requests()).toEqual({
      ...before,
      ListBonusPayments: (before.ListBonusPayments ?? 0) + 1,
    });
  });

  it('refuses bad input with exit 2 and no MTurk request', async () => {
    const { rows } = await plantFaults();
    const before = requests();
    expect((await audit([])).code).toBe(2);
    const bad = await audit([writeCsv([rows[0]!, { ...rows[1]!, amount: '1.234' }])]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/:3: amount must be US dollars/);
    expect((await audit(['--hit', 'not a hit'])).code).toBe(2);
    expect(requests()).toEqual(before);
  });

  it('waits out throttling and still reports every bonus', async () => {
    const { rows } = await plantFaults();
    emu.setFaults({ seed: 7, operations: { ListBonusPayments: { throttleRate: 0.5 } } });
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    let retries = 0;
    const code = await runAudit(
      writeCsv(rows),
      { endpoint: emu.url, retry: { baseDelayMs: 5, maxAttempts: 20, onRetry: () => retries++ } },
      { stdout: out, stderr: out, stdin: new PassThrough(), env: {} },
    );
    expect(code).toBe(1);
    // Throttles are retried by the MTurk client itself (it paces every command's calls), and
    // the audit's own retry covers what gets past it: together, every one is waited out.
    expect(emu.ledger().faults.throttle).toBeGreaterThan(0);
    expect(retries).toBeLessThanOrEqual(emu.ledger().faults.throttle);
    expect(text).toContain('paid as asked   2');
    expect(text).toContain('missing         1');
  });
});
