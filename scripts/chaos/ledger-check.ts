/**
 * Compares what the emulator's ledger says was paid with what the input asked for, cent by
 * cent. Independent of the product's money code: amounts are parsed here from the ledger's
 * "12.34" strings with integer arithmetic.
 */
import type { Ledger, LedgerBonus } from '../../src/emulator';
import { sentReason, type ChaosPayment } from './payments';

export interface LedgerComparison {
  /** Payments in the input. */
  expected: number;
  /** Input payments paid (each matched to one ledger entry). */
  made: number;
  /** Ledger entries beyond the payments asked for an assignment (must be 0). */
  duplicated: number;
  /** Input payments never paid (must be 0). */
  missing: number;
  /** Input payments paid with another amount, worker or reason (must be 0). */
  wrong: number;
  /** Ledger payments for assignments not in the input (must be 0). */
  unexpected: number;
  totals: {
    expectedBonus: string;
    paidBonus: string;
    expectedFees: string;
    paidFees: string;
    /** Balance before the run minus bonuses and fees paid, against the emulator's balance. */
    balanceBefore: string;
    balanceAfter: string;
    balanceConsistent: boolean;
  };
  /** Up to 20 examples of each problem, for the report. */
  examples: {
    duplicated: { assignmentId: string; count: number; requestIds: string[] }[];
    missing: { assignmentId: string; workerId: string; amount: string }[];
    wrong: { assignmentId: string; expected: string; paid: string; why: string }[];
    unexpected: { assignmentId: string; workerId: string; amount: string }[];
  };
}

const EXAMPLES = 20;

/** "12.34" → 1234; throws on anything else (the emulator always writes two decimals). */
export function ledgerCents(text: string): number {
  const match = /^(-?)([0-9]+)\.([0-9]{2})$/.exec(text);
  if (!match) throw new Error(`unexpected ledger amount ${JSON.stringify(text)}`);
  const cents = BigInt(match[2]!) * 100n + BigInt(match[3]!);
  return Number(match[1] === '-' ? -cents : cents);
}

/** MTurk's fee: 20 % of the bonus rounded half up, at least one cent (integer arithmetic). */
export function referenceFeeCents(cents: number): number {
  return Math.max(1, Math.floor((2 * cents + 5) / 10));
}

export function dollars(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

export function compareLedger(
  payments: readonly ChaosPayment[],
  ledger: Ledger,
  balanceBeforeCents: number,
): LedgerComparison {
  const byAssignment = new Map<string, LedgerBonus[]>();
  for (const bonus of ledger.bonuses) {
    const list = byAssignment.get(bonus.assignmentId) ?? [];
    list.push(bonus);
    byAssignment.set(bonus.assignmentId, list);
  }
  const result: LedgerComparison = {
    expected: payments.length,
    made: 0,
    duplicated: 0,
    missing: 0,
    wrong: 0,
    unexpected: 0,
    totals: {
      expectedBonus: '0.00',
      paidBonus: '0.00',
      expectedFees: '0.00',
      paidFees: '0.00',
      balanceBefore: dollars(balanceBeforeCents),
      balanceAfter: ledger.balance,
      balanceConsistent: false,
    },
    examples: { duplicated: [], missing: [], wrong: [], unexpected: [] },
  };
  let expectedBonus = 0;
  let expectedFees = 0;
  const expectedByAssignment = new Map<string, ChaosPayment[]>();
  for (const payment of payments) {
    expectedBonus += payment.cents;
    expectedFees += referenceFeeCents(payment.cents);
    const list = expectedByAssignment.get(payment.assignmentId) ?? [];
    list.push(payment);
    expectedByAssignment.set(payment.assignmentId, list);
  }
  const inInput = new Set(expectedByAssignment.keys());
  const matches = (bonus: LedgerBonus, payment: ChaosPayment) =>
    ledgerCents(bonus.amount) === payment.cents &&
    bonus.workerId === payment.workerId &&
    bonus.reason === sentReason(payment) &&
    ledgerCents(bonus.fee) === referenceFeeCents(payment.cents);
  for (const [assignmentId, expected] of expectedByAssignment) {
    // Each expected payment takes one matching ledger entry; what is left over is wrong or extra.
    const unused = [...(byAssignment.get(assignmentId) ?? [])];
    const unmatched: ChaosPayment[] = [];
    for (const payment of expected) {
      const at = unused.findIndex((bonus) => matches(bonus, payment));
      if (at >= 0) {
        unused.splice(at, 1);
        result.made += 1;
      } else {
        unmatched.push(payment);
      }
    }
    for (const payment of unmatched) {
      const bonus = unused.shift();
      if (!bonus) {
        result.missing += 1;
        if (result.examples.missing.length < EXAMPLES) {
          result.examples.missing.push({
            assignmentId,
            workerId: payment.workerId,
            amount: dollars(payment.cents),
          });
        }
        continue;
      }
      result.made += 1;
      result.wrong += 1;
      const why: string[] = [];
      if (ledgerCents(bonus.amount) !== payment.cents) why.push('amount');
      if (bonus.workerId !== payment.workerId) why.push('worker');
      if (bonus.reason !== sentReason(payment)) why.push('reason');
      if (ledgerCents(bonus.fee) !== referenceFeeCents(ledgerCents(bonus.amount))) why.push('fee');
      if (result.examples.wrong.length < EXAMPLES) {
        result.examples.wrong.push({
          assignmentId,
          expected: dollars(payment.cents),
          paid: bonus.amount,
          why: why.join(', '),
        });
      }
    }
    if (unused.length > 0) {
      result.duplicated += unused.length;
      if (result.examples.duplicated.length < EXAMPLES) {
        result.examples.duplicated.push({
          assignmentId,
          count: unused.length + expected.length - unmatched.length,
          requestIds: (byAssignment.get(assignmentId) ?? []).map((b) => b.requestId),
        });
      }
    }
  }
  let paidBonus = 0;
  let paidFees = 0;
  for (const bonus of ledger.bonuses) {
    paidBonus += ledgerCents(bonus.amount);
    paidFees += ledgerCents(bonus.fee);
    if (!inInput.has(bonus.assignmentId)) {
      result.unexpected += 1;
      if (result.examples.unexpected.length < EXAMPLES) {
        result.examples.unexpected.push({
          assignmentId: bonus.assignmentId,
          workerId: bonus.workerId,
          amount: bonus.amount,
        });
      }
    }
  }
  result.totals.expectedBonus = dollars(expectedBonus);
  result.totals.paidBonus = dollars(paidBonus);
  result.totals.expectedFees = dollars(expectedFees);
  result.totals.paidFees = dollars(paidFees);
  result.totals.balanceConsistent =
    ledgerCents(ledger.balance) === balanceBeforeCents - paidBonus - paidFees;
  return result;
}

/** True when nobody was paid twice, nobody was missed, and every cent is where it belongs. */
export function ledgerIsExact(c: LedgerComparison): boolean {
  return (
    c.duplicated === 0 &&
    c.missing === 0 &&
    c.wrong === 0 &&
    c.unexpected === 0 &&
    c.totals.paidBonus === c.totals.expectedBonus &&
    c.totals.paidFees === c.totals.expectedFees &&
    c.totals.balanceConsistent
  );
}
