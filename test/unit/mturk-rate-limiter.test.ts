import { describe, expect, it } from 'vitest';
import {
  AdaptiveRateLimiter,
  checkRateLimit,
  describeMTurkCalls,
  isThrottle,
} from '../../src/mturk-rate-limiter';

describe('checkRateLimit', () => {
  it('accepts positive finite numbers, as numbers or strings', () => {
    expect(checkRateLimit(10, '--rate-limit')).toBe(10);
    expect(checkRateLimit('2.5', '--rate-limit')).toBe(2.5);
  });

  it('refuses 0, negatives, non-numbers and Infinity, naming the flag', () => {
    for (const bad of [0, -1, '0', '-3', 'ten', '', 'Infinity', Infinity, NaN, null]) {
      expect(() => checkRateLimit(bad, '--rate-limit')).toThrow(/--rate-limit must be/);
    }
  });
});

describe('isThrottle', () => {
  it('is true for ThrottlingException and HTTP 429 only', () => {
    expect(isThrottle({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } })).toBe(
      true,
    );
    expect(isThrottle({ name: 'Whatever', $metadata: { httpStatusCode: 429 } })).toBe(true);
    for (const other of [
      { name: 'ServiceFault', $metadata: { httpStatusCode: 500 } },
      { name: 'RequestError', $metadata: { httpStatusCode: 400 } },
      { name: 'TimeoutError' },
      Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
      undefined,
    ]) {
      expect(isThrottle(other)).toBe(false);
    }
  });
});

describe('AdaptiveRateLimiter', () => {
  it('cuts the rate on a throttle once per episode, not again for calls sent before the cut', async () => {
    let t = 10_000;
    const limiter = new AdaptiveRateLimiter({ now: () => t });
    // Time moves in steps long enough that every call finds a token (a fake clock: no waiting).
    const sends: number[] = [];
    for (let i = 0; i < 20; i++) {
      t += 2_000;
      sends.push(await limiter.acquire());
      limiter.onAnswer();
    }
    const before = limiter.stats().rate!;
    t += 10;
    limiter.onThrottle(sends[19]!);
    const cut = limiter.stats().rate!;
    expect(cut).toBeLessThanOrEqual(before);
    limiter.onThrottle(sends[18]!);
    expect(limiter.stats().rate).toBe(cut);
    expect(limiter.stats()).toMatchObject({ sent: 20, throttled: 2 });
  });

  it('never exceeds its ceiling', async () => {
    let t = 0;
    const limiter = new AdaptiveRateLimiter({ now: () => t, maxRate: 3 });
    for (let i = 0; i < 3; i++) {
      await limiter.acquire(); // the ceiling's burst: one second's worth
      limiter.onAnswer();
    }
    t += 60_000;
    limiter.onAnswer();
    expect(limiter.stats().rate).toBeLessThanOrEqual(3);
    limiter.setMaxRate(1);
    expect(limiter.stats().rate).toBeLessThanOrEqual(1);
    expect(limiter.ceiling).toBe(1);
  });

  it('describes its counts in one line', () => {
    const line = describeMTurkCalls({ sent: 200, throttled: 10, retried: 9, gaveUp: 1, rate: 4.5 });
    expect(line).toBe(
      "MTurk calls: 200 sent, 10 throttled (5.0 %), 9 retried in-process, 1 left to Temporal's retry; pacing at 4.5/s",
    );
  });
});
