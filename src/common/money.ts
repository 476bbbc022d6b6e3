/**
 * Money as integer cents. MTurk speaks decimal dollar strings ("1.20"); we convert them to
 * integer cents once, at the boundary, and never let a float touch an amount.
 *
 * Pure and free of Node APIs: workflow code imports this module inside Temporal's sandbox.
 */

/** Largest amount we represent: beyond it integer arithmetic on `number` stops being exact. */
export const MAX_SAFE_CENTS = Number.MAX_SAFE_INTEGER;

/**
 * The accepted dollar syntax: ASCII digits, optionally a point and one or two decimals.
 * Stricter than MTurk's own pattern `^[0-9]+(\.)?[0-9]{0,2}$`, which also lets "5." through;
 * we refuse "5." and ".5" so that every amount we send reads unambiguously.
 */
const DOLLARS_PATTERN = /^([0-9]+)(?:\.([0-9]{1,2}))?$/;

export type ParseCentsResult = { ok: true; cents: number } | { ok: false; message: string };

/** Thrown by {@link parseDollarsToCents}; `message` says what is wrong with the amount. */
export class MoneyFormatError extends Error {
  override readonly name = 'MoneyFormatError';
}

/** Shows a user's input in an error message without letting a huge string flood the log. */
function quote(input: string): string {
  const shown = input.length > 40 ? `${input.slice(0, 40)}…` : input;
  return JSON.stringify(shown);
}

/** Non-throwing form of {@link parseDollarsToCents}, for validators that collect issues. */
export function tryParseDollarsToCents(input: string): ParseCentsResult {
  if (typeof input !== 'string') {
    return { ok: false, message: `must be a string of dollars such as "1.20"` };
  }
  const match = DOLLARS_PATTERN.exec(input);
  if (!match) {
    return {
      ok: false,
      message:
        `must be US dollars written like "5" or "1.20" (ASCII digits, optionally a point and ` +
        `one or two decimals; no "$", sign, comma, exponent or spaces), got ${quote(input)}`,
    };
  }
  const whole = (match[1] ?? '').replace(/^0+(?=[0-9])/, '');
  const fraction = (match[2] ?? '').padEnd(2, '0');
  // BigInt keeps the arithmetic exact however many digits were typed; the range check then
  // guarantees the result fits a `number` exactly.
  const cents = BigInt(whole) * 100n + BigInt(fraction);
  if (cents > BigInt(MAX_SAFE_CENTS)) {
    return { ok: false, message: `is too large to handle exactly, got ${quote(input)}` };
  }
  return { ok: true, cents: Number(cents) };
}

/**
 * "1.20" → 120. Accepts exactly `^[0-9]+(\.[0-9]{1,2})?$`; throws {@link MoneyFormatError}
 * for anything else ("$5", "1.234", "-1", "1e3", " 5", "5,00", "5.", ".5", "") and for
 * amounts beyond Number.MAX_SAFE_INTEGER cents.
 */
export function parseDollarsToCents(input: string): number {
  const result = tryParseDollarsToCents(input);
  if (!result.ok) {
    throw new MoneyFormatError(`Amount ${result.message}`);
  }
  return result.cents;
}

function assertSafeInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be a safe integer number of cents, got ${String(value)}`);
  }
}

/** 120 → "1.20"; -5 → "-0.05". The format MTurk expects for BonusAmount. */
export function formatCents(cents: number): string {
  assertSafeInteger(cents, 'formatCents: amount');
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100);
  const rest = abs % 100;
  return `${sign}${dollars}.${rest < 10 ? '0' : ''}${rest}`;
}

/**
 * MTurk's fee on a bonus: 20 % of the bonus, at least one cent (MTurk pricing page; a $1.00
 * bonus reduced the balance by $1.20 in nodegame#133).
 *
 * MTurk does not document how it rounds a fractional-cent fee. We round to the nearest cent,
 * half up (20 % of whole cents is a multiple of 0.2 cent, so an exact half never occurs).
 * Treat the result as an estimate of what MTurk will charge: a balance check built on it
 * may be off by a cent per bonus if MTurk rounds differently.
 */
export function mturkFeeCents(bonusCents: number): number {
  assertSafeInteger(bonusCents, 'mturkFeeCents: bonus');
  if (bonusCents <= 0) {
    throw new RangeError(`mturkFeeCents: bonus must be positive, got ${bonusCents}`);
  }
  // 20 % = 1/5. Split into quotient and remainder so nothing leaves integer arithmetic:
  // the remainder r/5 is a fraction of a cent, and it is ≥ 0.5 exactly when r ≥ 3.
  const remainder = bonusCents % 5;
  const fee = (bonusCents - remainder) / 5 + (remainder >= 3 ? 1 : 0);
  return Math.max(fee, 1);
}

/** Bonus plus fee: what the account balance must cover for MTurk to accept the bonus. */
export function bonusCostCents(bonusCents: number): number {
  const total = bonusCents + mturkFeeCents(bonusCents);
  assertSafeInteger(total, 'bonusCostCents: total');
  return total;
}
