import { describe, expect, it } from 'vitest';
import { auditLedger, normaliseReason, type AskedBonus } from '../../src/cli/audit-check';
import type { ListedBonus } from '../../src/cli/audit-ledger';

const bonus = (assignmentId: string, amountCents: number, reason: string, workerId = 'AW1') =>
  ({ assignmentId, workerId, amountCents, reason }) satisfies ListedBonus;
const row = (line: number, assignmentId: string, amountCents: number, reason: string) =>
  ({ line, assignmentId, workerId: 'AW1', amountCents, reason }) satisfies AskedBonus;

describe('auditing a ledger', () => {
  it('normalises reasons: NFC, whitespace collapsed, trimmed', () => {
    expect(normaliseReason('  Caf\u0065\u0301\t\n good\u00a0 work ')).toBe('Caf\u00e9 good work');
  });

  it('counts every copy after the first as a duplicate, reasons compared normalised', () => {
    const result = auditLedger({
      listed: [
        bonus('A1', 100, 'Thanks'),
        bonus('A1', 100, ' Thanks '),
        bonus('A1', 100, 'Thanks\n'),
        bonus('A1', 100, 'Thanks, again'), // another reason: not a copy
        bonus('A1', 100, 'Thanks', 'AW2'), // another worker: not a copy
      ],
    });
    expect(result.rows.map((r) => r.status)).toEqual([
      'duplicate',
      'duplicate',
      'listed',
      'listed',
      'listed',
    ]);
    expect(result.summary.duplicates).toEqual({ count: 2, bonusCents: 200, feeCents: 40 });
    expect(result.summary.listed).toEqual({ count: 5, bonusCents: 500, feeCents: 100 });
    expect(result.summary.discrepancies).toBe(2);
  });

  it('matches rows one to one: as asked, other amount, other reason, missing, not in the file', () => {
    const result = auditLedger({
      listed: [
        bonus('A1', 100, 'Thanks (bonus k1)'),
        bonus('A2', 250, 'Thanks'),
        bonus('A3', 100, 'Thanks from another tool'),
        bonus('A5', 1, 'Extra'),
      ],
      asked: [
        row(2, 'A1', 100, 'Thanks (bonus k1)'),
        row(3, 'A1', 100, 'Thanks (bonus k2)'),
        row(4, 'A2', 200, 'Thanks'),
        row(5, 'A3', 100, 'Thanks'),
      ],
    });
    expect(result.rows.map((r) => [r.assignmentId, r.line ?? '-', r.status])).toEqual([
      ['A1', 2, 'paid'],
      ['A1', 3, 'missing'],
      ['A2', 4, 'wrong-amount'],
      ['A2', '-', 'overpaid'],
      ['A3', 5, 'reason-differs'],
      ['A5', '-', 'not-in-file'],
      ['A5', '-', 'overpaid'],
    ]);
    expect(result.summary).toMatchObject({
      paidAsAsked: 1,
      wrongAmount: 1,
      reasonDiffers: 1,
      missing: { count: 1, bonusCents: 100, feeCents: 20 },
      notInFile: { count: 1, bonusCents: 1, feeCents: 1 },
      // A2 paid 0.50 more; A5 paid 0.01 not asked for.
      overpaid: { count: 2, cents: 51 },
    });
  });
});
