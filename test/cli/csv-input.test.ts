import { describe, expect, it } from 'vitest';
import { batchIdOf, dollars, planBatch } from '../../src/cli/batch-plan';
import { allIssues, parseBonusCsv, validLines } from '../../src/cli/csv-input';

const A1 = '3AMYWKA6YBLU92KSOGLNT786ESP6O1';
const A2 = '3AMYWKA6YBLU92KSOGLNT786ESP6O2';
const A3 = '3AMYWKA6YBLU92KSOGLNT786ESP6O3';

function parse(text: string | Buffer, maxBonusCents?: number) {
  return parseBonusCsv(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), 'f.csv', {
    maxBonusCents,
  });
}

describe('reading a bonus CSV', () => {
  it('strips a BOM, matches headers loosely, keeps quoted commas, quotes and line breaks', () => {
    const file = parse(
      '\uFEFFAssignment ID,worker_id,AMOUNT,Reason,bonus-key,Feedback,Extra\n' +
        `${A1},AW1,5,"Thanks, ""really"" good\nwork",r2,,x\n` +
        `\n` +
        `${A2},AW2,0.1,Thanks,,"Nice",y\n`,
    );
    expect(file.fileIssues).toEqual([]);
    expect(file.warnings).toEqual([expect.stringContaining('column "Extra" is not used')]);
    expect(file.lines.map((l) => [l.line, l.kind])).toEqual([
      [2, 'valid'],
      [5, 'valid'],
    ]);
    expect(validLines(file).map((l) => l.request)).toEqual([
      {
        assignmentId: A1,
        workerId: 'AW1',
        bonusAmount: '5.00',
        bonusCents: 500,
        reason: 'Thanks, "really" good\nwork',
        bonusKey: 'r2',
      },
      {
        assignmentId: A2,
        workerId: 'AW2',
        bonusAmount: '0.10',
        bonusCents: 10,
        reason: 'Thanks',
        requesterFeedback: 'Nice',
      },
    ]);
  });

  it('names every bad cell by line and column, at once', () => {
    const file = parse(
      'assignmentId,workerId,amount,reason\n' +
        `${A1},AW1,$5,ok\n` +
        `${A2},worker,1.234,\n` +
        `${A3},AW3,250.00,ok\n` +
        `${A3},AW3\n`,
      10_000,
    );
    expect(allIssues(file).map((i) => [i.line, i.column])).toEqual([
      [2, 'amount'],
      [3, 'workerId'],
      [3, 'amount'],
      [3, 'reason'],
      [4, 'amount'],
      [5, undefined],
    ]);
    expect(allIssues(file)[4]!.message).toContain('at most 100.00');
    expect(allIssues(file)[5]!.message).toBe('has 2 fields, the header has 4');
  });

  it('collapses exact repeats and refuses rows that disagree about one payment', () => {
    const file = parse(
      'assignmentId,workerId,amount,reason,bonusKey\n' +
        `${A1},AW1,1,Thanks,\n` +
        `${A1},AW1,1.00,Thanks ,\n` + // the same payment once normalised
        `${A2},AW2,1.00,Thanks,\n` +
        `${A2},AW2,2.00,Thanks,\n` +
        `${A2},AW2,2.00,Thanks,second\n` + // another bonus key: another payment
        `${A3},AW3,1.00,Thanks,a\n` +
        `${A3},AW9,1.00,Thanks,b\n`, // one assignment, two workers
    );
    expect(file.lines.map((l) => l.kind)).toEqual([
      'valid',
      'duplicate',
      'invalid',
      'invalid',
      'valid',
      'invalid',
      'invalid',
    ]);
    expect(file.lines[1]!.sameAs).toBe(2);
    expect(file.warnings).toEqual(['line 3 repeats line 2 exactly; paid once']);
    expect(file.lines[2]!.issues[0]!.message).toContain('different amount (1.00 vs 2.00)');
    expect(file.lines[5]!.issues[0]).toMatchObject({ column: 'workerId' });
  });

  it('reports files it cannot read as bonus CSVs', () => {
    expect(parse('').fileIssues[0]!.message).toContain('is empty');
    expect(parse('assignmentId,amount\nx,1\n').fileIssues[0]!.message).toContain(
      'header lacks workerId, reason',
    );
    expect(parse('assignmentId,workerId,amount,reason\n').fileIssues[0]!.message).toContain(
      'no rows',
    );
    expect(
      parse(`assignmentId,workerId,amount,reason\n${A1},AW1,1,"open\n`).fileIssues[0]!.message,
    ).toContain('not valid CSV');
    const latin1 = Buffer.concat([
      Buffer.from(`assignmentId,workerId,amount,reason\n${A1},AW1,1,Merci `),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    expect(parse(latin1).fileIssues).toEqual([
      { line: 2, message: 'is not valid UTF-8 (save the file as UTF-8 CSV)' },
    ]);
  });
});

describe('planning a batch', () => {
  const text = (rows: string[]) => `assignmentId,workerId,amount,reason\n${rows.join('\n')}\n`;

  it('adds bonuses and fees in cents and derives one batch ID from the payments alone', () => {
    const plan = planBatch(
      parse(text([`${A2},AW2,10.10,Thanks`, `${A1},AW1,0.05,Thanks`, `${A3},AW3,1,Thanks`])),
    );
    expect([plan.bonusCents, plan.feeCents, plan.totalCents]).toEqual([1115, 202 + 1 + 20, 1338]);
    expect(dollars(plan.totalCents)).toBe('$13.38');
    expect(dollars(123_456_78)).toBe('$123,456.78');
    // Batch order is by workflow ID, whatever the file order.
    expect(plan.payments.map((p) => p.line)).toEqual([3, 2, 4]);
    expect(plan.batchId).toMatch(/^mturk-batch\/[0-9a-f]{32}$/);

    const reordered = planBatch(
      parse(text([`${A3},AW3,1.00,Thanks`, `${A1},AW1,0.05,Thanks`, `${A2},AW2,10.1,Thanks`])),
    );
    expect(reordered.batchId).toBe(plan.batchId);
    expect(reordered.rows).toEqual(plan.rows);
    const changed = planBatch(
      parse(text([`${A3},AW3,1.01,Thanks`, `${A1},AW1,0.05,Thanks`, `${A2},AW2,10.1,Thanks`])),
    );
    expect(changed.batchId).not.toBe(plan.batchId);
    expect(batchIdOf([])).not.toBe(plan.batchId);
  });
});

describe("reading MTurk's results file", () => {
  const HEADER =
    '"HITId","HITTypeId","Title","Reward","AssignmentId","WorkerId","AssignmentStatus",' +
    '"WorkTimeInSeconds","Input.image","Answer.text","Answer.bonus","Reason text"';
  const row = (asg: string, worker: string, bonus: string, reason = '', status = 'Submitted') =>
    `"3HIT1","3TYPE","Transcribe","$0.50","${asg}","${worker}","${status}","61",` +
    `"img.png","some text","${bonus}","${reason}"`;

  function results(lines: string[], options: Parameters<typeof parseBonusCsv>[3]) {
    return parseBonusCsv(Buffer.from([HEADER, ...lines].join('\n')), 'r.csv', {}, options);
  }

  it('pays the amount column with one reason, skipping and counting rows with no amount', () => {
    const file = results([row(A1, 'AW1', '1.50'), row(A2, 'AW2', ''), row(A3, 'AW3', '0.25')], {
      amountColumn: 'Answer.bonus',
      reason: 'Thanks for the careful work',
    });
    expect(file.fileIssues).toEqual([]);
    expect(file.format).toBe('mturk-results');
    expect(file.skippedLines).toEqual([3]);
    expect(file.hitOfLine).toEqual(
      new Map([
        [2, '3HIT1'],
        [4, '3HIT1'],
      ]),
    );
    expect(file.warnings).toEqual([
      expect.stringContaining('bonus from column "Answer.bonus", reason from --reason'),
    ]);
    expect(validLines(file).map((l) => [l.line, l.request])).toEqual([
      [
        2,
        {
          assignmentId: A1,
          workerId: 'AW1',
          bonusAmount: '1.50',
          bonusCents: 150,
          reason: 'Thanks for the careful work',
        },
      ],
      [
        4,
        {
          assignmentId: A3,
          workerId: 'AW3',
          bonusAmount: '0.25',
          bonusCents: 25,
          reason: 'Thanks for the careful work',
        },
      ],
    ]);
  });

  it('takes reasons from a column (matched loosely) and lists bad cells by line and column', () => {
    const file = results(
      [row(A1, 'AW1', '$2', 'good'), row(A2, 'AW2', '1.00', ''), row(A3, 'AW3', '1.00', 'ok')],
      { amountColumn: 'answer.bonus', reasonColumn: 'reason_text' },
    );
    expect(file.fileIssues).toEqual([]);
    expect(allIssues(file).map((i) => [i.line, i.column])).toEqual([
      [2, 'amount'],
      [3, 'reason'],
    ]);
    expect(validLines(file).map((l) => l.line)).toEqual([4]);
  });

  it('says which option is missing, and refuses the options on a plain bonus file', () => {
    const none = results([row(A1, 'AW1', '1.00')], {});
    expect(none.fileIssues.map((i) => i.message)).toEqual([
      expect.stringContaining('--amount-column'),
      expect.stringContaining('--reason'),
    ]);
    const both = results([row(A1, 'AW1', '1.00')], {
      amountColumn: 'Answer.nope',
      reason: 'x',
      reasonColumn: 'Reason text',
    });
    expect(both.fileIssues.map((i) => i.message)).toEqual([
      expect.stringContaining('has no column "Answer.nope"'),
      expect.stringContaining('exactly one of them'),
    ]);
    const plain = parseBonusCsv(
      Buffer.from(`assignmentId,workerId,amount,reason\n${A1},AW1,1,ok\n`),
      'p.csv',
      {},
      { amountColumn: 'amount' },
    );
    expect(plain.fileIssues).toEqual([
      expect.objectContaining({ message: expect.stringContaining("MTurk's results file only") }),
    ]);
    const allEmpty = results([row(A1, 'AW1', '')], { amountColumn: 'Answer.bonus', reason: 'x' });
    expect(allEmpty.fileIssues.map((i) => i.message)).toEqual([
      'has no row with an amount (1 rows with an empty amount cell)',
    ]);
  });
});
