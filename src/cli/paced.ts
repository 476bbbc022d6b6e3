/**
 * Paced MTurk reads for commands that make many calls (audit): a few in flight at once, and a
 * throttled or failed-in-transit call tried again after a growing pause. MTurk publishes no rate
 * limit; a throttled call did nothing, so trying it again later is always safe for reads.
 *
 * The MTurk client is built with the SDK's retries off (mturk-client.ts), so this is the only
 * retry loop, and it stops: an unreachable endpoint fails the command instead of hanging it.
 */
import { classifyMTurkError } from '../mturk/errors';

/** At most this many calls in flight: MTurk throttles bursts, and an audit is not urgent. */
export const MAX_IN_FLIGHT = 3;

export interface RetryOptions {
  /** Tries in all, the first included. Default 6 (pauses 0.5 + 1 + 2 + 4 + 8 s at most). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Told about each pause, e.g. to count throttled calls. */
  onRetry?: (reason: string, attempt: number, delayMs: number) => void;
}

/** Raised when a read failed for good: MTurk refused it, or it kept failing in transit. */
export class MTurkReadError extends Error {
  override readonly name = 'MTurkReadError';
  constructor(
    message: string,
    /** MTurk refused the request (a RequestError): not a transient problem. */
    readonly refused: boolean,
    /** For refusals: the failure type classifyMTurkError gave (e.g. AssignmentNotFound). */
    readonly failureType?: string,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `call()`, tried again with exponential backoff (and jitter, so three throttled callers do
 * not come back in step) while the error is one MTurk says to retry: throttling, ServiceFault,
 * timeouts, network errors.
 */
export async function withRetry<T>(
  operation: string,
  call: () => Promise<T>,
  opts: RetryOptions = {},
): Promise<T> {
  const maxAttempts = opts.maxAttempts ?? 6;
  const base = opts.baseDelayMs ?? 500;
  const cap = opts.maxDelayMs ?? 8_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const classified = classifyMTurkError(err, { operation });
      if (!classified.retryable) {
        throw new MTurkReadError(
          classified.failure.message,
          true,
          classified.failure.type ?? undefined,
        );
      }
      if (attempt >= maxAttempts) {
        throw new MTurkReadError(
          `${operation} failed ${attempt} times (${classified.reason}): ${(err as Error).message}`,
          false,
        );
      }
      const delay = Math.min(cap, base * 2 ** (attempt - 1));
      const jittered = Math.round(delay / 2 + (Math.random() * delay) / 2);
      opts.onRetry?.(classified.reason, attempt, jittered);
      await sleep(jittered);
    }
  }
}

/** Runs `work` over `items` with at most `limit` in flight; results in item order. */
export async function mapPaced<I, R>(
  items: readonly I[],
  limit: number,
  work: (item: I, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index]!, index);
      } catch (err) {
        failed = true; // the other lanes stop taking new items
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
