/**
 * The payments of a chaos run: distinct workers and assignments, amounts from $0.01 to $99.99
 * (every awkward one we could think of included), written the ways people write them.
 * Deterministic for a seed.
 */
import type { Rng } from './rng';

export interface ChaosPayment {
  assignmentId: string;
  workerId: string;
  /** As written in the input, e.g. "7.5" or "10.10" (normalised by the product to "7.50"). */
  bonusAmount: string;
  /** What must be paid, in integer cents. */
  cents: number;
  reason: string;
  /** Set on the payments of a bonus-key pair: two bonuses for one assignment. */
  bonusKey?: string;
}

/**
 * Amounts that break float arithmetic (0.1 + 0.2, 1.15 * 100, 4.35 * 100), hit the fee's
 * rounding edges (20 % of 1-7 cents, minimum fee of one cent), the bounds, and inputs that
 * need normalising ("7", "7.5", "010.10").
 */
export const AWKWARD_AMOUNTS: readonly string[] = [
  '0.01',
  '0.02',
  '0.03',
  '0.04',
  '0.05',
  '0.06',
  '0.07',
  '0.1',
  '0.10',
  '0.12',
  '0.13',
  '0.17',
  '0.29',
  '0.3',
  '0.33',
  '0.57',
  '0.99',
  '1',
  '1.00',
  '1.01',
  '1.10',
  '1.15',
  '2.67',
  '4.35',
  '8.20',
  '9.95',
  '10.10',
  '010.10',
  '16.66',
  '19.99',
  '33.33',
  '64.99',
  '66.67',
  '80.01',
  '99',
  '99.9',
  '99.98',
  '99.99',
];

const REASONS: readonly string[] = [
  'Thank you for the careful work',
  'Bonus for accuracy above 95 %',
  'Merci ! Bonus pour la qualité — très bien ✓',
  'Follow-up survey completed: thanks\n(line two of the reason)',
  '  Padded reason is trimmed before sending  ',
];

/** Independent reference: dollars text → cents, by digit arithmetic on strings. */
export function amountTextToCents(text: string): number {
  const match = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(text);
  if (!match) throw new Error(`not an amount: ${JSON.stringify(text)}`);
  const whole = BigInt(match[1]!);
  const fraction = BigInt((match[2] ?? '').padEnd(2, '0'));
  return Number(whole * 100n + fraction);
}

/** One of several ways to write `cents` as dollars that the product must accept. */
function writeAmount(cents: number, rng: Rng): string {
  const dollars = Math.floor(cents / 100);
  const rest = cents % 100;
  const canonical = `${dollars}.${String(rest).padStart(2, '0')}`;
  const roll = rng.next();
  if (rest === 0 && roll < 0.3) return String(dollars); // "7"
  if (rest % 10 === 0 && roll < 0.3) return `${dollars}.${rest / 10}`; // "7.5"
  if (roll > 0.97) return `0${canonical}`; // "07.50"
  return canonical;
}

function randomCents(rng: Rng): number {
  const roll = rng.next();
  if (roll < 0.15) return rng.int(1, 99); // small change, where the fee rounds
  if (roll < 0.25) return rng.int(1, 99) * 100; // whole dollars
  if (roll < 0.3) return 9999 - rng.int(0, 20); // near the top
  return rng.int(1, 9999);
}

function idChars(rng: Rng, length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  let s = '';
  for (let i = 0; i < length; i++) s += alphabet[rng.int(0, alphabet.length - 1)];
  return s;
}

/** `count` payments with distinct worker and assignment IDs shaped like MTurk's. */
export function generatePayments(count: number, seed: number, rng: Rng): ChaosPayment[] {
  if (!Number.isInteger(count) || count < 1)
    throw new RangeError('count must be a positive integer');
  const amounts: string[] = [];
  for (let i = 0; i < count; i++) {
    amounts.push(
      i < AWKWARD_AMOUNTS.length ? AWKWARD_AMOUNTS[i]! : writeAmount(randomCents(rng), rng),
    );
  }
  rng.shuffle(amounts);
  const run = seed.toString(36).toUpperCase().padStart(7, '0').slice(-7);
  return amounts.map((bonusAmount, i) => {
    const index = i.toString(36).toUpperCase().padStart(4, '0');
    return {
      // 30 characters like MTurk's, unique per run and index.
      assignmentId: `3CH${run}${index}${idChars(rng, 16)}`,
      // "A" + 13 characters.
      workerId: `A${index}${idChars(rng, 9)}`,
      bonusAmount,
      cents: amountTextToCents(bonusAmount),
      reason: rng.pick(REASONS),
    };
  });
}

/**
 * Turns the last `pairs` payments into second bonuses for earlier payments' assignments: same
 * assignment, worker, amount and reason, told apart only by a bonusKey, as the docs advise for
 * "a second bonus for the same assignment". Both payments of a pair are expected.
 */
export function withBonusKeyPairs(payments: ChaosPayment[], pairs: number): ChaosPayment[] {
  if (!Number.isInteger(pairs) || pairs < 0 || pairs * 2 > payments.length) {
    throw new RangeError(`bonus-key pairs must be 0-${Math.floor(payments.length / 2)}`);
  }
  const out = payments.map((p) => ({ ...p }));
  for (let i = 0; i < pairs; i++) {
    const first = out[i]!;
    first.bonusKey = 'first';
    out[out.length - 1 - i] = { ...first, bonusKey: 'second' };
  }
  return out;
}

/**
 * The reason as MTurk will receive and list it: trimmed, and a keyed bonus with its key appended
 * as docs/contract.md specifies ("<reason> (bonus <key>)"). Written out here rather than imported,
 * so the check does not share the product's code.
 */
export function sentReason(payment: ChaosPayment): string {
  const reason = payment.reason.trim();
  return payment.bonusKey ? `${reason} (bonus ${payment.bonusKey})` : reason;
}
