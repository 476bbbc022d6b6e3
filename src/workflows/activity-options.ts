/**
 * How our workflows call activities, in one place: timeouts and retry policies chosen on
 * purpose (Temporal's default retry is unlimited). Each function is one kind of call.
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/common';
import { FailureType } from '../common/errors';
import type { ActivityTuning } from '../common/workflow-options';

/** 1 s doubling to 1 minute unless tuned; no attempt limit (the timeouts bound it). */
export function retryPolicy(tuning: ActivityTuning = {}): RetryPolicy {
  return {
    initialInterval: tuning.retryInitialInterval ?? '1s',
    backoffCoefficient: 2,
    maximumInterval: tuning.retryMaximumInterval ?? '1m',
  };
}

/** A call to MTurk (approve, reject, send a bonus, look one up, read the balance). */
export function mturkCallOptions(tuning: ActivityTuning = {}): ActivityOptions {
  return {
    // MTurk calls take seconds; a short limit means an activity lost with a killed worker is
    // retried on another worker within about a minute.
    startToCloseTimeout: tuning.activityStartToCloseTimeout ?? '30s',
    // Well below MTurk's 24-hour token memory, so automatic retries stay inside it. Past this the
    // workflow pauses and tries again with a ledger lookup first.
    scheduleToCloseTimeout: '6h',
    retry: { ...retryPolicy(tuning), nonRetryableErrorTypes: Object.values(FailureType) },
  };
}

/**
 * NotifyWorkers: one attempt only. It takes no request token, so a retry after a lost answer
 * would send the message twice; a message that failed is reported, not repeated. (A throttled
 * call is retried inside the attempt by the MTurk client: it did nothing.)
 */
export function notifyCallOptions(tuning: ActivityTuning = {}): ActivityOptions {
  return {
    startToCloseTimeout: tuning.activityStartToCloseTimeout ?? '30s',
    retry: { maximumAttempts: 1 },
  };
}

/**
 * A wait on another workflow's outcome (or a review's MTurk listing beside it): long, but
 * heartbeating, so a lost worker is noticed in 30 s.
 */
export function awaitingCallOptions(waitSeconds: number, retry: RetryPolicy): ActivityOptions {
  return { startToCloseTimeout: `${waitSeconds + 60}s`, heartbeatTimeout: '30s', retry };
}

/** A read that only feeds a progress display: a few quick tries, then the next check. */
export function displayReadOptions(tuning: ActivityTuning = {}): ActivityOptions {
  return { startToCloseTimeout: '30s', retry: { ...retryPolicy(tuning), maximumAttempts: 3 } };
}
