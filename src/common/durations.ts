/**
 * Durations as Temporal reads them: a number of milliseconds or a string such as "30s" or
 * "15 minutes", parsed by the same `ms` package (and version) as @temporalio/common, so what
 * our checks accept is exactly what Temporal's timers and timeouts accept.
 */
import ms from 'ms';
import type { Duration } from '@temporalio/common';

/** Milliseconds of a valid Duration; throws TypeError on anything else. */
export function durationMs(value: Duration): number {
  const millis = typeof value === 'number' ? value : ms(value);
  if (typeof millis !== 'number' || Number.isNaN(millis)) {
    throw new TypeError(`Invalid duration: ${JSON.stringify(value)}`);
  }
  return millis;
}

/** True for a Duration of more than zero milliseconds (JSON from any caller may be anything). */
export function isPositiveDuration(value: unknown): boolean {
  if (typeof value !== 'string' && typeof value !== 'number') return false;
  try {
    const millis = durationMs(value as Duration);
    return Number.isFinite(millis) && millis > 0;
  } catch {
    return false;
  }
}
