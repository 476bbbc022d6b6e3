/**
 * `pay` on MTurk's own results file, end to end on the real dev server and the emulator; and
 * `pay --dry-run` when Temporal is down.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/devserver/dev-server';
import { useWorkerTestBed } from '../harness/mturk';
import { readReport, runCli, writeCsv, writeText } from './helpers';

const bed = useWorkerTestBed('cli-results');
beforeEach(() => bed.emu.reset());

/** A results file as MTurk's requester site exports it, plus the requester's bonus column. */
function resultsFile(bonuses: string[]) {
  const { hits } = bed.emu.seed({
    balance: '50.00',
    hits: [
      {
        assignments: bonuses.map((_, i) => ({ workerId: `ARESULTSWORKER${i}` })),
      },
    ],
  });
  const { hitId, assignments } = hits[0]!;
  const header =
    '"HITId","HITTypeId","Title","Reward","CreationTime","AssignmentId","WorkerId",' +
    '"AssignmentStatus","AcceptTime","SubmitTime","WorkTimeInSeconds","Input.image_url",' +
    '"Answer.transcript","Approve","Reject","Bonus"';
  const lines = assignments.map(
    (a, i) =>
      `"${hitId}","3TYPE","Transcribe a receipt","$0.50","Sun Nov 29 10:00:00 UTC 2026",` +
      `"${a.assignmentId}","${a.workerId}","Submitted","Sun Nov 29 10:01:00 UTC 2026",` +
      `"Sun Nov 29 10:03:00 UTC 2026","120","https://example.com/${i}.png",` +
      `"Total: 12.50, ""cash""","","","${bonuses[i]}"`,
  );
  return { path: writeText([header, ...lines].join('\r\n') + '\r\n'), assignments };
}

describe("pay with MTurk's results file", () => {
  it('pays the rows with an amount, once each, and says how many it skipped', async () => {
    const { path, assignments } = resultsFile(['1.25', '', '0.40', '']);
    const run = await runCli([
      'pay',
      path,
      '--amount-column',
      'Bonus',
      '--reason',
      'Thanks for the careful transcription',
      '--endpoint',
      bed.emu.url,
      '--task-queue',
      bed.taskQueue,
      '--yes',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(
      'MTurk results file: bonus from column "Bonus", reason from --reason',
    );
    expect(run.stdout).toMatch(/payments +2 \(from 2 rows/);
    expect(run.stdout).toContain(
      'no bonus     2 rows of the results file with an empty amount cell, skipped',
    );
    expect(run.stdout).toContain('bonuses      $1.65');
    const ledger = bed.emu.ledger();
    expect(
      ledger.bonuses.map((b) => [b.assignmentId, b.workerId, b.amount, b.reason]).sort(),
    ).toEqual(
      [
        [
          assignments[0]!.assignmentId,
          assignments[0]!.workerId,
          '1.25',
          'Thanks for the careful transcription',
        ],
        [
          assignments[2]!.assignmentId,
          assignments[2]!.workerId,
          '0.40',
          'Thanks for the careful transcription',
        ],
      ].sort(),
    );
    expect(ledger.approvals.map((a) => a.assignmentId).sort()).toEqual(
      [assignments[0]!.assignmentId, assignments[2]!.assignmentId].sort(),
    );
    expect(readReport(path).map((r) => [r.line, r.status])).toEqual([
      ['2', 'paid'],
      ['4', 'paid'],
    ]);
  });

  it('pays nothing when a row is bad, naming its line and column', async () => {
    const { path } = resultsFile(['1.25', '$2', '']);
    const run = await runCli([
      'pay',
      path,
      '--amount-column',
      'Bonus',
      '--reason',
      'Thanks',
      '--endpoint',
      bed.emu.url,
      '--task-queue',
      bed.taskQueue,
      '--yes',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${path}:3: amount must be US dollars`);
    expect(run.stderr).toContain('nothing was paid');
    expect(Object.values(bed.emu.ledger().requests).reduce((a, b) => a + b, 0)).toBe(0);
  });
});

describe('pay --dry-run without Temporal', () => {
  it('previews cost, fees and balance, says what it could not check, and exits 0', async () => {
    const { hits } = bed.emu.seed({
      balance: '20.00',
      hits: [{ assignments: [{ workerId: 'ADRYRUN1' }, { workerId: 'ADRYRUN2' }] }],
    });
    const rows = hits[0]!.assignments.map((a) => ({
      assignmentId: a.assignmentId,
      workerId: a.workerId,
      amount: '2.00',
      reason: 'Thanks',
    }));
    const closed = `127.0.0.1:${await freePort()}`;
    const run = await runCli(['pay', writeCsv(rows), '--dry-run', '--endpoint', bed.emu.url], {
      TEMPORAL_ADDRESS: closed,
    });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('total        $4.80');
    expect(run.stdout).toContain('balance      $20.00 available: enough (leaves $15.20)');
    expect(run.stdout).toContain(`Temporal     ${closed} namespace=`);
    expect(run.stdout).toContain('(NOT reachable)');
    expect(run.stdout).toContain('could not check whether this batch already ran or is running');
    expect(run.stdout).toContain('Dry run: nothing was paid.');
    expect(
      Object.fromEntries(Object.entries(bed.emu.ledger().requests).filter(([, n]) => n > 0)),
    ).toEqual({
      GetAccountBalance: 1,
      // The dry run's look at the ledger (reads only), one per assignment.
      ListBonusPayments: expect.any(Number),
    });
    expect(bed.emu.ledger().bonuses).toHaveLength(0);
  });

  it('still fails a real run when Temporal is down (exit 5), paying nothing', async () => {
    const { hits } = bed.emu.seed({
      balance: '20.00',
      hits: [{ assignments: [{ workerId: 'ADRYRUN3' }] }],
    });
    const a = hits[0]!.assignments[0]!;
    const closed = `127.0.0.1:${await freePort()}`;
    const run = await runCli(
      [
        'pay',
        writeCsv([
          { assignmentId: a.assignmentId, workerId: a.workerId, amount: '1.00', reason: 'x' },
        ]),
        '--yes',
        '--endpoint',
        bed.emu.url,
      ],
      { TEMPORAL_ADDRESS: closed },
    );
    expect(run.code).toBe(5);
    expect(run.stderr).toContain('cannot reach Temporal');
    expect(bed.emu.ledger().bonuses).toEqual([]);
  });
});
