import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AdaptiveRateLimiter,
  checkRateLimit,
  describeMTurkCalls,
  isThrottle,
  ThrottleOnlyRetryStrategy,
} from '../../src/mturk/rate-limiter';

/** A reproducible uniform [0, 1) source. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

/** MTurk's account limit: a token bucket on the (fake) clock. */
class AccountBucket {
  private tokens: number;
  private at = Date.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  admit(): boolean {
    const now = Date.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.at) / 1000) * this.rate);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const THROTTLE = { name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } };

/**
 * `workers` processes, each with its own limiter and retry strategy, keep `lanes` calls each in
 * flight against one account bucket (burst 2 × limit) for `seconds` of fake time.
 */
async function shareAccount(limit: number, workers: number, seconds: number, seed: number) {
  const random = seeded(seed);
  const bucket = new AccountBucket(limit, 2 * limit);
  const counts = { requests: 0, throttled: 0, accepted: 0 };
  const strategies = Array.from({ length: workers }, () => {
    const limiter = new AdaptiveRateLimiter({ now: () => Date.now(), random });
    return new ThrottleOnlyRetryStrategy(limiter, { random });
  });
  const end = Date.now() + seconds * 1000;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  async function lane(strategy: ThrottleOnlyRetryStrategy) {
    while (Date.now() < end) {
      let token = await strategy.acquireInitialRetryToken('mturk');
      for (;;) {
        await sleep(5 + random() * 20); // the request on its way
        counts.requests++;
        if (bucket.admit()) {
          counts.accepted++;
          strategy.recordSuccess(token);
          break;
        }
        counts.throttled++;
        try {
          token = await strategy.refreshRetryTokenForRetry(token, { error: THROTTLE });
        } catch {
          await sleep(1000); // Temporal's retry
          break;
        }
      }
      await sleep(random() * 100);
    }
  }
  const done = Promise.all(strategies.flatMap((s) => Array.from({ length: 15 }, () => lane(s))));
  let finished = false;
  void done.then(() => (finished = true));
  while (!finished) await vi.advanceTimersByTimeAsync(100);
  return {
    throttledShare: counts.throttled / counts.requests,
    used: counts.accepted / (limit * seconds),
  };
}

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

  describe('on a fake clock', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    /** 20 calls in flight through the limiter, every one answered; `throttle()` stands for a
     *  ThrottlingException of a call just sent, and returns the rate just before it. */
    function drive(limiter: AdaptiveRateLimiter) {
      let running = true;
      const lane = async () => {
        while (running) {
          await limiter.acquire();
          await new Promise((r) => setTimeout(r, 5));
          limiter.onAnswer();
        }
      };
      const lanes = Array.from({ length: 20 }, () => lane());
      return {
        /** The limiter's rate every 100 ms for `seconds`. */
        async run(seconds: number): Promise<number[]> {
          const rates: number[] = [];
          for (let i = 0; i < seconds * 10; i++) {
            await vi.advanceTimersByTimeAsync(100);
            rates.push(limiter.stats().rate!);
          }
          return rates;
        },
        throttle(): number {
          const before = limiter.stats().rate!;
          limiter.onThrottle(Date.now() - 5);
          return before;
        },
        async stop() {
          running = false;
          await vi.advanceTimersByTimeAsync(60_000);
          await Promise.all(lanes);
        },
      };
    }

    it('a throttle of a call sent just after a cut is the same episode: no second cut', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
      const limiter = new AdaptiveRateLimiter({ now: () => Date.now() });
      const d = drive(limiter);
      await d.run(5);
      const before = d.throttle();
      const cut = limiter.stats().rate!;
      expect(cut).toBeLessThan(before);
      await d.run(0.3);
      const again = limiter.stats().rate!;
      d.throttle(); // sent 0.3 s after the cut, into MTurk's still empty bucket
      expect(limiter.stats().rate).toBe(again);
      await d.run(2);
      const later = d.throttle(); // a new episode
      expect(limiter.stats().rate).toBeLessThan(later);
      await d.stop();
    });

    it('probes past a rate at once; holds below a rate two throttles agree on', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
      // random() near 1: the longest hold.
      const limiter = new AdaptiveRateLimiter({ now: () => Date.now(), random: () => 0.999 });
      const d = drive(limiter);
      await d.run(4); // slow start
      // The first throttle confirms nothing: back up and well past the cut within 15 s.
      d.throttle();
      const cut = limiter.stats().rate!;
      expect(Math.max(...(await d.run(15)))).toBeGreaterThan(2 * cut);
      // Two throttles at about the same accepted rate: the rate stays at the plateau (a little
      // below it) for the hold.
      d.throttle();
      await d.run(2);
      const confirmed = d.throttle();
      expect(Math.max(...(await d.run(15)))).toBeLessThanOrEqual(1.25 * confirmed);
      await d.stop();
    });

    for (const workers of [1, 3]) {
      it(`${workers} worker(s) sharing an account at 5 calls/s: few calls throttled, most of the limit used`, async () => {
        vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
        const { throttledShare, used } = await shareAccount(5, workers, 300, 7);
        // Before the plateau, hold and relative climb: 15 % with three workers here.
        expect(throttledShare).toBeLessThanOrEqual(0.08);
        expect(used).toBeGreaterThanOrEqual(0.85);
      });
    }
  });

  it('describes its counts in one line', () => {
    const line = describeMTurkCalls({ sent: 200, throttled: 10, retried: 9, gaveUp: 1, rate: 4.5 });
    expect(line).toBe(
      "MTurk calls: 200 sent, 10 throttled (5.0 %), 9 retried in-process, 1 left to Temporal's retry; pacing at 4.5/s",
    );
  });
});
