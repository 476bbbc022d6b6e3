/**
 * An account-wide request rate limit, as MTurk enforces one (it publishes no number): token
 * buckets refilled on real (monotonic) time. A refused request is answered ThrottlingException
 * before anything happens, so it changes no state and costs nothing.
 *
 * The buckets use performance.now(), not the emulator's MTurk clock: that clock can be advanced
 * by days through the admin API (token expiry, auto-approval), which must not refill a bucket.
 */
import { performance } from 'node:perf_hooks';

export interface BucketLimit {
  /** Sustained requests per second (> 0). */
  rate: number;
  /** Largest burst (tokens in a full bucket, >= 1). Default: 2 × rate, at least 1. */
  burst?: number;
}

export interface RateLimitConfig extends BucketLimit {
  /** Further limits of single operations (e.g. "SendBonus"), applied on top of the account's. */
  operations?: Record<string, BucketLimit>;
}

export function defaultBurst(rate: number): number {
  return Math.max(1, 2 * rate);
}

function checkLimit(where: string, v: unknown): Required<BucketLimit> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new Error(`${where} must be an object like {"rate":10,"burst":20}`);
  }
  const { rate, burst } = v as BucketLimit;
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate <= 0) {
    throw new Error(`${where}.rate must be a finite number > 0 (requests per second)`);
  }
  if (burst !== undefined && (typeof burst !== 'number' || !Number.isFinite(burst) || burst < 1)) {
    throw new Error(`${where}.burst must be a finite number >= 1`);
  }
  return { rate, burst: burst ?? defaultBurst(rate) };
}

/** Validates and fills in the defaults; null (no limit) stays null. Throws a readable Error. */
export function validateRateLimit(cfg: unknown): RateLimitConfig | null {
  if (cfg === null) return null;
  const account = checkLimit('rateLimit', cfg);
  const ops = (cfg as RateLimitConfig).operations;
  if (ops === undefined) return account;
  if (ops === null || typeof ops !== 'object' || Array.isArray(ops)) {
    throw new Error('rateLimit.operations must be an object keyed by operation name');
  }
  const operations: Record<string, Required<BucketLimit>> = {};
  for (const [op, limit] of Object.entries(ops)) {
    operations[op] = checkLimit(`rateLimit.operations.${op}`, limit);
  }
  return { ...account, operations };
}

class Bucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly limit: Required<BucketLimit>,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.at = now;
  }

  /** Refills up to `now`; true when a whole token is there. */
  ready(now: number): boolean {
    this.tokens = Math.min(
      this.limit.burst,
      this.tokens + ((now - this.at) / 1000) * this.limit.rate,
    );
    this.at = now;
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

/** The emulator's limiter: one account bucket, optional per-operation buckets. */
export class RateLimiter {
  private config: RateLimitConfig | null = null;
  private account?: Bucket;
  private ops = new Map<string, Bucket>();

  constructor(private readonly clock: () => number = () => performance.now()) {}

  configure(cfg: RateLimitConfig | null): void {
    this.config = validateRateLimit(cfg);
    this.refill();
  }

  current(): RateLimitConfig | null {
    return this.config === null
      ? null
      : (JSON.parse(JSON.stringify(this.config)) as RateLimitConfig);
  }

  /** Full buckets again (admin reset: a fresh account). */
  refill(): void {
    const now = this.clock();
    const cfg = this.config;
    this.account = cfg
      ? new Bucket({ rate: cfg.rate, burst: cfg.burst ?? defaultBurst(cfg.rate) }, now)
      : undefined;
    this.ops.clear();
    for (const [op, l] of Object.entries(cfg?.operations ?? {})) {
      this.ops.set(op, new Bucket({ rate: l.rate, burst: l.burst ?? defaultBurst(l.rate) }, now));
    }
  }

  /**
   * True when `op` may run now, and takes its tokens; false when it is to be throttled. A
   * request refused by one bucket takes no token from the other.
   */
  admit(op: string): boolean {
    if (!this.account) return true;
    const now = this.clock();
    const opBucket = this.ops.get(op);
    if (!this.account.ready(now) || (opBucket && !opBucket.ready(now))) return false;
    this.account.take();
    opBucket?.take();
    return true;
  }
}
