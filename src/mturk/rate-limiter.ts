/**
 * Pacing MTurk calls at MTurk's rate limit instead of into it. MTurk throttles
 * (`ThrottlingException: Rate exceeded`) at a limit it does not publish, so the pace is found,
 * not configured: the AWS SDKs' "adaptive" retry mode (a client-side token bucket whose rate
 * falls multiplicatively on throttling and climbs back along a CUBIC curve), one limiter per
 * MTurkClient, so per worker process. Workers sharing an account converge because each backs
 * off on its own throttles.
 *
 * Several workers sharing one account (issue 12): each sees only its own throttles, and three
 * clients re-probing the limit in lockstep every few seconds threw 12-15 % of all calls against
 * it. So, past the CUBIC recovery: a plateau just below the rate MTurk accepted, a climb scaled
 * to the worker's own rate (its share), and, once a throttle confirms the rate of the one before,
 * a randomized hold at that plateau before probing above it again (see onThrottle).
 *
 * A throttled call did nothing, so it is retried here, inside the same activity attempt (paced
 * by the limiter, bounded in count and time): throttling neither becomes a Temporal retry nor
 * makes the next attempt look the payment up. No other failure is retried here: a timeout, a
 * dropped connection or a ServiceFault may have done the work, and those stay Temporal's, with
 * its durable attempt count (see createMTurkClient).
 */

/**
 * The AWS SDKs' adaptive mode (smithy DefaultRateLimiter) uses BETA 0.7 and SCALE_CONSTANT 0.4
 * (calls/s per s³, whatever the rate). A gentler cut and a slower climb here: MTurk's limits are
 * low (a few calls/s), where the SDK's curve comes back over the limit every 2-3 s, and each
 * return costs a throttled call.
 */
const BETA = 0.8;
/**
 * The climb, relative to the rate MTurk accepted (its share, with several workers): the curve
 * rises by SCALE × rate × t³. A constant in calls/s per s³ would make a worker with a third of
 * the limit climb three times as fast, relatively, and come back over it three times as often.
 * 0.002: back to the plateau ~4.5 s after a cut, +10 % about 4 s past it, doubled in 8 s.
 */
const SCALE = 0.002;
/** The plateau, as a fraction of the rate MTurk accepted: a little below, so that MTurk's own
 *  bucket refills while the workers sit there instead of hovering at empty. */
const PLATEAU = 0.95;
/**
 * A throttle whose accepted rate is within this fraction of the previous throttle's confirms
 * where the limit is: the limiter then holds at the plateau for HOLD_MIN_S..HOLD_MAX_S
 * (uniformly random, so workers sharing the account do not re-probe in lockstep) before probing
 * above it. An unconfirmed rate (the first throttle, or the share changed) is probed at once.
 */
const CONFIRM_TOLERANCE = 0.2;
const HOLD_MIN_S = 5;
const HOLD_MAX_S = 20;
/** A hold ends early when the calls waiting here grew to this multiple of those waiting at the
 *  throttle (at least HOLD_BACKLOG_MIN of them): see backlogGrew. */
const HOLD_BACKLOG_GROWTH = 1.3;
const HOLD_BACKLOG_MIN = 4;
/** A throttle of a call sent within this long after a cut belongs to the same episode: MTurk's
 *  bucket is still empty then, and cutting again for it would collapse the rate. */
const EPISODE_S = 1;
/** Slow start: the rate grows to this multiple of the measured send rate on each answer. */
const SLOW_START_GROWTH = 1.5;
const SMOOTH = 0.8;
const MIN_FILL_RATE = 0.5;
const MIN_CAPACITY = 1;
/**
 * Where the rate falls from on a throttle: the SDKs take the send rate at that moment, which
 * overshoots the limit by definition (that is why MTurk throttled), so the curve's plateau sits
 * above the limit and every plateau ends in a throttle. The rate of calls MTurk accepted over the
 * last few seconds is the limit itself when saturated (the worker's share of it, with several).
 */
const ACCEPTED_WINDOW_MS = 8_000;
/** Shortest history the accepted rate is computed over (at start). */
const ACCEPTED_MIN_MS = 1_000;

/** Throttle retries of one call, and the time after which none is started. A call may also
 *  wait for its turn in the limiter; both stay well inside the activities' 30 s start-to-close. */
export const MAX_THROTTLE_RETRIES = 8;
export const THROTTLE_RETRY_BUDGET_MS = 12_000;
/** Jitter before a throttle retry joins the queue again: full jitter, base 50 ms, cap 1 s. */
const RETRY_BASE_MS = 50;
const RETRY_CAP_MS = 1_000;

export interface MTurkCallStats {
  /** Requests sent to MTurk (every attempt, throttled ones included). */
  sent: number;
  /** Of these, answered ThrottlingException. */
  throttled: number;
  /** Throttled calls sent again in-process. */
  retried: number;
  /** Throttled calls given back to the caller (retries or time budget spent). */
  gaveUp: number;
  /** Calls/s the limiter lets through now; null while unlimited (no throttle yet, no ceiling). */
  rate: number | null;
}

export interface RateLimiterOptions {
  /** Explicit ceiling on calls/s (e.g. `--rate-limit`); the adaptive rate never exceeds it. */
  maxRate?: number;
  /** Monotonic clock, ms. */
  now?: () => number;
  /** Uniform in [0, 1): the hold's length. For tests. */
  random?: () => number;
}

/** Checks a calls/s ceiling; the message names what was given (a flag, an option). */
export function checkRateLimit(value: unknown, name: string): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0) {
    throw new Error(
      `${name} must be a finite number of MTurk calls per second > 0, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/** True for MTurk's answer that it refused the request for rate: nothing was done. */
export function isThrottle(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return e.name === 'ThrottlingException' || e.$metadata?.httpStatusCode === 429;
}

/** An answer from MTurk (a modelled error such as RequestError), as opposed to no answer. */
function isServiceAnswer(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata
    ?.httpStatusCode;
  return typeof status === 'number' && status < 500;
}

/**
 * The token bucket and its adaptive rate. Waiters are served in order (FIFO), by one timer that
 * follows the current rate, so a decrease applies at once to calls already waiting.
 */
export class AdaptiveRateLimiter {
  private readonly now: () => number;
  private readonly random: () => number;
  private maxRate: number | undefined;
  /**
   * Adaptive part. The AWS SDKs leave it off until the first throttle, which lets a worker's
   * first burst (up to its activity slots, all at once) into the limit; here it starts on, at
   * MIN_FILL_RATE, and grows about every half second (onAnswer: at most SLOW_START_GROWTH times
   * the measured send rate) until the first throttle: a slow start.
   */
  private enabled = true;
  /** Until the first throttle. */
  private slowStart = true;
  private fillRate = MIN_FILL_RATE;
  private capacity = MIN_CAPACITY;
  private tokens = MIN_CAPACITY;
  private lastRefill: number;
  /** The plateau of the current curve (calls/s). */
  private lastMaxRate = 0;
  private lastThrottleTime = 0;
  private timeWindow = 0;
  /** The curve's climb (calls/s per s³): SCALE × the accepted rate of the last throttle. */
  private scale = 0;
  /** Seconds the curve stays at its plateau before probing above it. */
  private hold = 0;
  /** The accepted rate at the last throttle, the one the next confirms or not. */
  private lastThrottleRate = 0;
  /** Calls waiting in this limiter when it was last throttled. */
  private backlogAtThrottle = 0;
  private measuredTxRate = 0;
  private lastTxRateBucket: number;
  private requestCount = 0;
  /** When MTurk answered (not throttled), within the last ACCEPTED_WINDOW_MS. */
  private readonly answers: number[] = [];
  private firstAnswerAt: number | undefined;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly counts = { sent: 0, throttled: 0, retried: 0, gaveUp: 0 };

  constructor(options: RateLimiterOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.random = options.random ?? Math.random;
    if (options.maxRate !== undefined) {
      this.maxRate = checkRateLimit(options.maxRate, 'maxRate');
      this.capacity = Math.max(this.maxRate, MIN_CAPACITY);
      this.tokens = this.capacity;
    }
    this.lastRefill = this.now();
    this.lastThrottleTime = this.lastRefill / 1000;
    this.lastTxRateBucket = Math.floor((this.lastRefill / 1000) * 2) / 2;
  }

  /** Sets (or removes, with undefined) the ceiling on calls/s. */
  setMaxRate(maxRate: number | undefined): void {
    this.refill();
    this.maxRate = maxRate === undefined ? undefined : checkRateLimit(maxRate, 'maxRate');
    this.capacity = Math.max(Math.min(this.fillRate, this.maxRate ?? Infinity), MIN_CAPACITY);
    this.tokens = Math.min(this.tokens, this.capacity);
    this.pump();
  }

  /** The ceiling on calls/s, if any. */
  get ceiling(): number | undefined {
    return this.maxRate;
  }

  /** The limiter's clock, ms. */
  clockMs(): number {
    return this.now();
  }

  /** Calls/s the bucket lets through now, or null when it lets everything through. */
  private rate(): number | null {
    if (!this.enabled) return this.maxRate ?? null;
    return this.maxRate === undefined ? this.fillRate : Math.min(this.fillRate, this.maxRate);
  }

  private refill(): void {
    const t = this.now();
    const rate = this.rate();
    if (rate !== null) {
      this.tokens = Math.min(this.capacity, this.tokens + ((t - this.lastRefill) / 1000) * rate);
    }
    this.lastRefill = t;
  }

  /**
   * Waits for this call's turn; resolves with its send time (ms), for onThrottle. A retry
   * (`first`) goes to the head of the queue: it waited its turn once already, and at the back of
   * a long queue it would run out of its time budget and become a Temporal retry after all.
   */
  acquire(first = false): Promise<number> {
    return new Promise((resolve) => {
      this.waiters[first ? 'unshift' : 'push'](() => {
        this.counts.sent++;
        this.measure();
        resolve(this.now());
      });
      this.pump();
    });
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.refill();
    const rate = this.rate();
    while (this.waiters.length > 0 && (rate === null || this.tokens >= 1)) {
      if (rate !== null) this.tokens -= 1;
      this.waiters.shift()!();
    }
    if (this.waiters.length > 0 && rate !== null) {
      const waitMs = Math.max(1, ((1 - this.tokens) / rate) * 1000);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, waitMs);
    }
  }

  /** Smoothed send rate over half-second buckets (as the AWS SDKs measure it). */
  private measure(): void {
    const t = this.now() / 1000;
    const bucket = Math.floor(t * 2) / 2;
    this.requestCount++;
    if (bucket > this.lastTxRateBucket) {
      const current = this.requestCount / (bucket - this.lastTxRateBucket);
      this.measuredTxRate = current * SMOOTH + this.measuredTxRate * (1 - SMOOTH);
      this.requestCount = 0;
      this.lastTxRateBucket = bucket;
    }
  }

  /** Calls/s MTurk accepted recently; undefined before ACCEPTED_MIN_MS of answers. */
  private acceptedRate(): number | undefined {
    const t = this.now();
    while (this.answers.length > 0 && this.answers[0]! < t - ACCEPTED_WINDOW_MS) {
      this.answers.shift();
    }
    if (this.firstAnswerAt === undefined || t - this.firstAnswerAt < ACCEPTED_MIN_MS) {
      return undefined;
    }
    return this.answers.length / (Math.min(ACCEPTED_WINDOW_MS, t - this.firstAnswerAt) / 1000);
  }

  /** The send rate, or a first estimate from the current bucket before one is measured. */
  private sendRate(): number {
    return Math.max(this.measuredTxRate, this.requestCount * 2, MIN_FILL_RATE);
  }

  private setRate(newRate: number): void {
    this.refill();
    this.fillRate = Math.max(newRate, MIN_FILL_RATE);
    this.capacity = Math.max(Math.min(newRate, this.maxRate ?? Infinity), MIN_CAPACITY);
    this.tokens = Math.min(this.tokens, this.capacity);
    this.pump();
  }

  /**
   * MTurk throttled a call sent at `sentAt`. Multiplicative decrease, once per throttling
   * episode: a throttle of a call sent before the last decrease, or within EPISODE_S after it,
   * is old news (it was sent at the old rate, or into MTurk's still empty bucket), and cutting
   * again for it would collapse the rate (as TCP cuts once per window).
   *
   * The new curve: a cut to BETA × the plateau, a climb back to the plateau (PLATEAU × the rate
   * MTurk accepted), a hold there when this throttle confirms the last one's rate, then a probe
   * above it. The climb and the probe are scaled to the accepted rate (SCALE).
   */
  onThrottle(sentAt: number): void {
    this.counts.throttled++;
    const t = this.now() / 1000;
    if (this.enabled && sentAt / 1000 < this.lastThrottleTime + EPISODE_S) return;
    // The rate MTurk accepted over the last few seconds, not the instantaneous send rate: that
    // one is measured over half-second buckets, and at a few calls/s a bucket holds one or two
    // calls, so its low outliers would set a worker's plateau far below its share.
    const sent = this.enabled ? Math.min(this.sendRate(), this.fillRate) : this.sendRate();
    const accepted = Math.max(this.acceptedRate() ?? sent, MIN_FILL_RATE);
    const confirmed =
      this.lastThrottleRate > 0 &&
      Math.abs(accepted - this.lastThrottleRate) <= CONFIRM_TOLERANCE * this.lastThrottleRate;
    this.lastThrottleRate = accepted;
    this.lastMaxRate = accepted * PLATEAU;
    this.scale = SCALE * accepted;
    this.timeWindow = Math.cbrt((this.lastMaxRate * (1 - BETA)) / this.scale);
    this.hold = confirmed ? HOLD_MIN_S + (HOLD_MAX_S - HOLD_MIN_S) * this.random() : 0;
    this.backlogAtThrottle = this.waiters.length;
    this.lastThrottleTime = t;
    this.enabled = true;
    this.slowStart = false;
    this.refill();
    // The calls queued behind it wait their turn at the new rate, not in a burst of what was
    // left in the bucket: MTurk's own bucket is empty right now.
    this.tokens = 0;
    this.setRate(this.lastMaxRate * BETA);
  }

  /** MTurk answered a call (not a throttle): climb back along the curve (see onThrottle). */
  onAnswer(): void {
    const at = this.now();
    this.firstAnswerAt ??= at;
    this.answers.push(at);
    if (!this.enabled) return;
    if (this.slowStart) return this.setRate(SLOW_START_GROWTH * this.sendRate());
    const t = this.now() / 1000;
    // Seconds from the plateau: negative while climbing back to it, zero during the hold.
    let x = t - this.lastThrottleTime - this.timeWindow;
    if (x > 0 && x < this.hold && this.backlogGrew()) this.hold = x;
    if (x > 0) x = Math.max(0, x - this.hold);
    const cubic = this.scale * x ** 3 + this.lastMaxRate;
    // Never far above what is actually sent: an idle worker must not bank a high rate.
    this.setRate(Math.min(cubic, 2 * this.sendRate()));
  }

  /**
   * Workers share one task queue, and a payment's activities stay on the worker that started
   * it: a worker holding below its share collects the backlog while the others run dry, and
   * the account's limit goes unused. So a backlog grown by a third (HOLD_BACKLOG_GROWTH) since
   * the throttle ends the hold. MTurk's silence is the rest of the evidence: any throttle would
   * have started a new curve.
   */
  private backlogGrew(): boolean {
    return (
      this.waiters.length >=
      HOLD_BACKLOG_GROWTH * Math.max(this.backlogAtThrottle, HOLD_BACKLOG_MIN)
    );
  }

  countRetry(): void {
    this.counts.retried++;
  }

  countGaveUp(): void {
    this.counts.gaveUp++;
  }

  stats(): MTurkCallStats {
    const rate = this.rate();
    return { ...this.counts, rate: rate === null ? null : Math.round(rate * 100) / 100 };
  }
}

/** The parts of the SDK's RetryToken / RetryErrorInfo used here (structural, @smithy/types). */
interface PacedToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}
interface ErrorInfo {
  error?: unknown;
}

class Token implements PacedToken {
  constructor(
    readonly retries: number,
    readonly sentAt: number,
    readonly startedAt: number,
  ) {}
  getRetryCount(): number {
    return this.retries;
  }
  /** The wait happened in refreshRetryTokenForRetry already (jitter + the limiter). */
  getRetryDelay(): number {
    return 0;
  }
}

export interface ThrottleRetryOptions {
  maxThrottleRetries?: number;
  budgetMs?: number;
  /** For tests. */
  random?: () => number;
}

/**
 * The SDK's retry strategy (RetryStrategyV2): every attempt waits for the limiter; only a
 * throttle is retried, everything else is handed back at once (the SDK's retry middleware then
 * rethrows the original error), as with `maxAttempts: 1`.
 */
export class ThrottleOnlyRetryStrategy {
  readonly mode = 'adaptive-throttle-only';
  private readonly maxRetries: number;
  private readonly budgetMs: number;
  private readonly random: () => number;

  constructor(
    readonly limiter: AdaptiveRateLimiter,
    options: ThrottleRetryOptions = {},
  ) {
    this.maxRetries = options.maxThrottleRetries ?? MAX_THROTTLE_RETRIES;
    this.budgetMs = options.budgetMs ?? THROTTLE_RETRY_BUDGET_MS;
    this.random = options.random ?? Math.random;
  }

  async acquireInitialRetryToken(_scope: string): Promise<PacedToken> {
    const sentAt = await this.limiter.acquire();
    return new Token(0, sentAt, sentAt);
  }

  async refreshRetryTokenForRetry(token: PacedToken, errorInfo: ErrorInfo): Promise<PacedToken> {
    const t = token as Token;
    const err = errorInfo.error;
    if (!isThrottle(err)) {
      if (isServiceAnswer(err)) this.limiter.onAnswer();
      throw err;
    }
    this.limiter.onThrottle(t.sentAt);
    if (t.retries >= this.maxRetries || this.limiter.clockMs() - t.startedAt >= this.budgetMs) {
      this.limiter.countGaveUp();
      throw err;
    }
    const jitter = this.random() * Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** t.retries);
    await new Promise((resolve) => setTimeout(resolve, jitter));
    this.limiter.countRetry();
    const sentAt = await this.limiter.acquire(true);
    return new Token(t.retries + 1, sentAt, t.startedAt);
  }

  recordSuccess(_token: PacedToken): void {
    this.limiter.onAnswer();
  }
}

/** One line for logs: what the worker's MTurk calls met. */
export function describeMTurkCalls(s: MTurkCallStats): string {
  const share = s.sent > 0 ? ((s.throttled / s.sent) * 100).toFixed(1) : '0.0';
  return (
    `MTurk calls: ${s.sent} sent, ${s.throttled} throttled (${share} %), ` +
    `${s.retried} retried in-process, ${s.gaveUp} left to Temporal's retry; ` +
    `pacing at ${s.rate === null ? 'no limit' : `${s.rate}/s`}`
  );
}
