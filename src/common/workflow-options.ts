/**
 * The options callers pass to our workflows (JSON from any language), and their checks. Pure:
 * the workflows check them again inside the sandbox, the client and the CLI before starting.
 */
import type { Duration } from '@temporalio/common';
import { isPositiveDuration } from './durations';
import { invalidBonusRequest, type ValidationIssue } from './errors';
import { tryParseDollarsToCents } from './money';
import { MAX_TOKEN_GENERATION } from './token';

/** How our workflows call MTurk activities; the defaults suit MTurk's latency and limits. */
export interface ActivityTuning {
  /** Limit of one MTurk activity attempt (default 30 s). */
  activityStartToCloseTimeout?: Duration;
  /** First retry delay of an MTurk activity (default 1 s, doubling). */
  retryInitialInterval?: Duration;
  /** Longest retry delay of an MTurk activity (default 1 minute). */
  retryMaximumInterval?: Duration;
}

/** Retry tuning of approveAssignment / rejectAssignment; the defaults are approveAndBonus's. */
export type AssignmentActionOptions = ActivityTuning;

/** Tuning of one payment; every field has a safe default. */
export interface ApproveAndBonusOptions extends ActivityTuning {
  /** Largest bonus this workflow will pay, dollars (default "100.00"). The activity has its own cap too. */
  maxBonusAmount?: string;
  /** How often to re-check the balance while waiting for funds (default 1 hour). */
  fundsRecheckInterval?: Duration;
  /** Pause after MTurk stayed unreachable for a whole activity schedule-to-close window (default 10 minutes). */
  outagePause?: Duration;
  /**
   * Kept for callers of earlier versions: every SendBonus is now preceded by a ledger lookup,
   * whatever started the run.
   */
  lookUpFirst?: boolean;
  /**
   * After MTurk says the token was used, how long to keep re-checking a listing that does not
   * show the bonus yet before the payment waits as `unconfirmed` (default 15 minutes).
   */
  confirmationWindow?: Duration;
  /** How often an `unconfirmed` payment looks at the listing again (default 1 hour). */
  unconfirmedRecheckInterval?: Duration;
  /**
   * Token generation to start from (payBonus sets it when it restarts a payment whose earlier
   * run had a token refused, so the restart does not send a token MTurk may have used up).
   */
  firstTokenGeneration?: number;
}

const DURATION_OPTIONS = [
  'fundsRecheckInterval',
  'outagePause',
  'confirmationWindow',
  'unconfirmedRecheckInterval',
  'activityStartToCloseTimeout',
  'retryInitialInterval',
  'retryMaximumInterval',
] as const;

/** The issue a duration field raises, if any ("must be a positive duration such as …"). */
export function durationIssue(
  field: string,
  value: unknown,
  example = '"30s" or 30000 (ms)',
): ValidationIssue | undefined {
  if (isPositiveDuration(value)) return undefined;
  return {
    field,
    message: `must be a positive duration such as ${example}, got ${JSON.stringify(value)}`,
  };
}

/**
 * Checks the options the way the payment itself is checked (callers in any language send them
 * as JSON), and returns the cap in cents. Throws InvalidBonusRequest naming each bad option.
 */
export function checkApproveAndBonusOptions(options: unknown): { maxBonusCents?: number } {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidBonusRequest([{ field: 'options', message: 'must be an object' }]);
  }
  const o = options as Record<string, unknown>;
  const issues: ValidationIssue[] = [];
  let maxBonusCents: number | undefined;
  if (o.maxBonusAmount !== undefined) {
    const parsed =
      typeof o.maxBonusAmount === 'string'
        ? tryParseDollarsToCents(o.maxBonusAmount)
        : { ok: false as const, message: 'must be a string of dollars such as "100.00"' };
    if (!parsed.ok) issues.push({ field: 'options.maxBonusAmount', message: parsed.message });
    else if (parsed.cents <= 0) {
      issues.push({ field: 'options.maxBonusAmount', message: 'must be more than 0.00' });
    } else maxBonusCents = parsed.cents;
  }
  for (const key of DURATION_OPTIONS) {
    const issue = o[key] === undefined ? undefined : durationIssue(`options.${key}`, o[key]);
    if (issue) issues.push(issue);
  }
  if (o.lookUpFirst !== undefined && typeof o.lookUpFirst !== 'boolean') {
    issues.push({ field: 'options.lookUpFirst', message: 'must be true or false' });
  }
  const first = o.firstTokenGeneration;
  if (
    first !== undefined &&
    (typeof first !== 'number' ||
      !Number.isInteger(first) ||
      first < 0 ||
      first > MAX_TOKEN_GENERATION)
  ) {
    issues.push({
      field: 'options.firstTokenGeneration',
      message: `must be an integer 0-${MAX_TOKEN_GENERATION}`,
    });
  }
  if (issues.length > 0) throw invalidBonusRequest(issues);
  return { maxBonusCents };
}
