/**
 * Checks of what the admin API is given. A bad admin request is refused with an AdminError
 * (HTTP 400 `{"error"}`) before anything is applied, so it changes nothing.
 */
import { parseDollars } from './money';
import type { StoreConfig } from './types';

export class AdminError extends Error {}

export function parseAdminDollars(what: string, v: unknown): number {
  const cents = typeof v === 'string' ? parseDollars(v) : null;
  if (cents === null) {
    throw new AdminError(
      `${what} must be a dollar string like "100.00" (got ${JSON.stringify(v)})`,
    );
  }
  return cents;
}

export function checkClockAdvance(ms: number): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new AdminError('advanceMs must be a finite number >= 0');
  }
}

function checkStoreConfig(partial: Partial<StoreConfig>): void {
  if (partial === null || typeof partial !== 'object') {
    throw new AdminError('config must be an object');
  }
  const { tokenTtlMs, consumeTokenOnFailure, feeRounding, listingLagMs, normaliseReasons } =
    partial;
  if (
    listingLagMs !== undefined &&
    (typeof listingLagMs !== 'number' || !Number.isFinite(listingLagMs) || listingLagMs < 0)
  ) {
    throw new AdminError('listingLagMs must be a finite number >= 0');
  }
  if (normaliseReasons !== undefined && typeof normaliseReasons !== 'boolean') {
    throw new AdminError('normaliseReasons must be a boolean');
  }
  if (tokenTtlMs !== undefined && (typeof tokenTtlMs !== 'number' || !(tokenTtlMs >= 0))) {
    throw new AdminError('tokenTtlMs must be a number >= 0');
  }
  if (consumeTokenOnFailure !== undefined && typeof consumeTokenOnFailure !== 'boolean') {
    throw new AdminError('consumeTokenOnFailure must be a boolean');
  }
  if (feeRounding !== undefined && !['half-up', 'up', 'down'].includes(feeRounding)) {
    throw new AdminError("feeRounding must be 'half-up', 'up' or 'down'");
  }
}

/** Apply the given settings to `config`: all of them, or none if any is invalid. */
export function updateStoreConfig(config: StoreConfig, partial: Partial<StoreConfig>): void {
  checkStoreConfig(partial);
  const { tokenTtlMs, consumeTokenOnFailure, feeRounding, listingLagMs, normaliseReasons } =
    partial;
  if (tokenTtlMs !== undefined) config.tokenTtlMs = tokenTtlMs;
  if (consumeTokenOnFailure !== undefined) config.consumeTokenOnFailure = consumeTokenOnFailure;
  if (feeRounding !== undefined) config.feeRounding = feeRounding;
  if (listingLagMs !== undefined) config.listingLagMs = listingLagMs;
  if (normaliseReasons !== undefined) config.normaliseReasons = normaliseReasons;
}
