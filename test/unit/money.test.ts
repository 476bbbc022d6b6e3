import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_SAFE_CENTS,
  MoneyFormatError,
  bonusCostCents,
  formatCents,
  mturkFeeCents,
  parseDollarsToCents,
  tryParseDollarsToCents,
} from '../../src/common/money';

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Reference parser on strings and BigInt only: what parseDollarsToCents must agree with. */
function referenceCents(s: string): bigint | undefined {
  const m = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(s);
  if (!m) return undefined;
  const cents = BigInt(m[1]!) * 100n + BigInt((m[2] ?? '').padEnd(2, '0'));
  return cents <= MAX ? cents : undefined;
}

/** Reference formatter on BigInt and strings. */
function referenceFormat(cents: bigint): string {
  const digits = cents.toString().padStart(3, '0');
  return `${digits.slice(0, -2)}.${digits.slice(-2)}`;
}

describe('parseDollarsToCents', () => {
  it.each([
    ['0', 0],
    ['5', 500],
    ['5.0', 500],
    ['5.00', 500],
    ['1.2', 120],
    ['1.20', 120],
    ['0.01', 1],
    ['007.50', 750],
    ['101.42', 10142],
    ['90071992547409.91', Number.MAX_SAFE_INTEGER],
  ])('parses %j as %i cents', (input, cents) => {
    expect(parseDollarsToCents(input)).toBe(cents);
  });

  it.each([
    '$5',
    '5$',
    '1.234',
    '-1',
    '+5',
    '1e3',
    ' 5',
    '5 ',
    '5,00',
    '',
    '5.',
    '.5',
    '1.2.3',
    '1_000',
    '0x10',
    'Infinity',
    'NaN',
    '5\n',
    '\u0665', // ARABIC-INDIC DIGIT FIVE
    '\uFF15', // FULLWIDTH DIGIT FIVE
    'USD 5',
    '90071992547409.92', // one cent beyond Number.MAX_SAFE_INTEGER
    '1' + '0'.repeat(30),
  ])('rejects %j with a MoneyFormatError', (input) => {
    expect(() => parseDollarsToCents(input)).toThrow(MoneyFormatError);
    const result = tryParseDollarsToCents(input);
    expect(result.ok).toBe(false);
  });

  it('says what is wrong and quotes the input', () => {
    expect(() => parseDollarsToCents('$5')).toThrow(/no "\$".*got "\$5"/);
    expect(() => parseDollarsToCents('90071992547409.92')).toThrow(/too large/);
  });

  it('agrees with a BigInt/string reference on arbitrary strings', () => {
    const alphabet = fc.constantFrom(...'0123456789.,$-+e '.split(''), '\u0665');
    const arbitraryText = fc.oneof(
      fc.string({ unit: alphabet, maxLength: 20 }),
      fc.stringMatching(/^[0-9]{1,18}(\.[0-9]{0,3})?$/),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(arbitraryText, (s) => {
        const expected = referenceCents(s);
        const actual = tryParseDollarsToCents(s);
        if (expected === undefined) {
          expect(actual.ok).toBe(false);
        } else {
          expect(actual).toEqual({ ok: true, cents: Number(expected) });
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips every safe cent amount through formatCents', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX }), (cents) => {
        const text = formatCents(Number(cents));
        expect(text).toBe(referenceFormat(cents));
        expect(parseDollarsToCents(text)).toBe(Number(cents));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('formatCents', () => {
  it.each([
    [0, '0.00'],
    [1, '0.01'],
    [10, '0.10'],
    [120, '1.20'],
    [10000, '100.00'],
    [-5, '-0.05'],
    [-120, '-1.20'],
    [MAX_SAFE_CENTS, '90071992547409.91'],
  ])('formats %i as %j', (cents, text) => {
    expect(formatCents(cents)).toBe(text);
  });

  it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53])('refuses %d', (cents) => {
    expect(() => formatCents(cents)).toThrow(RangeError);
  });
});

describe('mturkFeeCents', () => {
  it.each([
    [1, 1], // 0.2 cent, minimum 1
    [2, 1], // 0.4 → minimum 1
    [4, 1], // 0.8 → 1
    [5, 1],
    [7, 1], // 1.4 → 1
    [8, 2], // 1.6 → 2
    [12, 2], // 2.4 → 2
    [13, 3], // 2.6 → 3
    [100, 20], // $1.00 → $0.20 (nodegame#133)
    [150, 30],
    [10000, 2000],
  ])('bonus %i cents → fee %i cents', (bonus, fee) => {
    expect(mturkFeeCents(bonus)).toBe(fee);
  });

  it('is 20 % rounded half up, at least 1 cent (BigInt reference)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: MAX / 2n }), (bonus) => {
        const reference = (bonus * 2n + 5n) / 10n; // floor(bonus/5 + 1/2)
        const expected = reference < 1n ? 1n : reference;
        expect(mturkFeeCents(Number(bonus))).toBe(Number(expected));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses bonus %d', (bonus) => {
    expect(() => mturkFeeCents(bonus)).toThrow(RangeError);
  });

  it('bonusCostCents adds the fee', () => {
    expect(bonusCostCents(100)).toBe(120);
    expect(bonusCostCents(1)).toBe(2);
    expect(() => bonusCostCents(MAX_SAFE_CENTS)).toThrow(RangeError);
  });
});
