/**
 * UniqueRequestToken memory: MTurk refuses a token it has seen within its TTL (24 h on MTurk,
 * `tokenTtlMs` here) and pays again after it.
 */
import type { Call } from './call';
import { ApiError, requestError } from './errors';
import type { Records, TokenRec } from './records';

/** Forget the tokens older than the TTL, so that the memory does not grow without bound. */
export function pruneTokens(records: Records, ttlMs: number, now: number): void {
  for (const [k, t] of records.tokens) {
    if (now - t.time < ttlMs) break; // insertion order is time order
    records.tokens.delete(k);
    records.touchToken(k);
  }
}

/** A remembered token within its TTL, or undefined. */
function recallToken(
  records: Records,
  key: string,
  ttlMs: number,
  now: number,
): TokenRec | undefined {
  const t = records.tokens.get(key);
  if (!t) return undefined;
  if (now - t.time >= ttlMs) {
    records.tokens.delete(key);
    records.touchToken(key);
    return undefined;
  }
  return t;
}

function rememberToken(call: Call, key: string): void {
  const { records, requestId, now } = call;
  records.tokens.delete(key); // re-inserted at the end, keeping insertion order time order
  records.tokens.set(key, { requestId, time: now });
  records.touchToken(key);
  pruneTokens(records, call.config.tokenTtlMs, now);
}

/**
 * Run `fn` under UniqueRequestToken protection: a token seen within the TTL fails with
 * DuplicateRequest; a success (or, with consumeTokenOnFailure, a RequestError) is remembered.
 */
export function withToken<T>(call: Call, op: string, token: unknown, fn: () => T): T {
  if (typeof token !== 'string') return fn();
  const key = `${op}:${token}`;
  const prev = recallToken(call.records, key, call.config.tokenTtlMs, call.now);
  if (prev) {
    throw requestError(
      `The request with UniqueRequestToken ${token} has already been processed (request ID ${prev.requestId}).`,
      'AWS.MechanicalTurk.DuplicateRequest',
    );
  }
  try {
    const out = fn();
    rememberToken(call, key);
    return out;
  } catch (e) {
    if (call.config.consumeTokenOnFailure && e instanceof ApiError) rememberToken(call, key);
    throw e;
  }
}
