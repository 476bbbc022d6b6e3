/**
 * Money for the emulator: integer cents only, never floats.
 * Independent of any other money code in the project on purpose.
 */

/** The model's CurrencyAmount pattern (botocore mturk 2017-01-17). */
export const CURRENCY_PATTERN = /^[0-9]+(\.)?[0-9]{0,2}$/;

/** Amounts above this many whole dollars are clamped (they can never be covered anyway). */
const MAX_WHOLE_DIGITS = 12;
const HUGE_CENTS = 10 ** (MAX_WHOLE_DIGITS + 2);

export type FeeRounding = 'half-up' | 'up' | 'down';

/**
 * Parse a dollar string matching CURRENCY_PATTERN ("5", "5.", "5.1", "101.42") into cents.
 * Returns null when the string does not match the pattern.
 */
export function parseDollars(s: string): number | null {
  if (typeof s !== 'string' || !CURRENCY_PATTERN.test(s)) return null;
  const dot = s.indexOf('.');
  const whole = dot < 0 ? s : s.slice(0, dot);
  const frac = dot < 0 ? '' : s.slice(dot + 1);
  const trimmed = whole.replace(/^0+(?=\d)/, '');
  if (trimmed.length > MAX_WHOLE_DIGITS) return HUGE_CENTS;
  return Number(trimmed) * 100 + Number((frac + '00').slice(0, 2));
}

/** Format cents as a dollar string with two decimals: 120 -> "1.20". */
export function formatCents(cents: number): string {
  const neg = cents < 0;
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100);
  const frac = abs % 100;
  return `${neg ? '-' : ''}${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

/** MTurk's bonus fee: 20 % of the bonus, at least one cent, rounded as configured. */
export function bonusFeeCents(bonusCents: number, rounding: FeeRounding): number {
  const q = Math.floor(bonusCents / 5);
  const r = bonusCents % 5; // remainder in fifths of a cent
  let fee = q;
  if (r > 0) {
    if (rounding === 'up') fee = q + 1;
    else if (rounding === 'half-up' && r * 2 >= 5) fee = q + 1;
  }
  return Math.max(1, fee);
}
