/** How the approveAndBonus workflow reads its activities' failures. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure } from '@temporalio/workflow';
import { FailureType } from '../common/errors';

/**
 * SendBonus refusals that mean nothing was paid under the token: a later run may need the next
 * generation (MTurk may remember a refused token, `consumeTokenOnFailure` in the emulator).
 */
const NOTHING_PAID_REFUSALS: ReadonlySet<string> = new Set([
  FailureType.InsufficientFunds,
  FailureType.MTurkRequestRejected,
  FailureType.WorkerMismatch,
  FailureType.AssignmentNotFound,
]);

/** sendBonus failures raised before any SendBonus was sent. */
const NOTHING_SENT_FAILURES: ReadonlySet<string> = new Set([
  FailureType.PaymentConflict,
  FailureType.TargetMismatch,
  FailureType.InvalidBonusRequest,
]);

function applicationFailureOf(err: unknown): ApplicationFailure | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) return err.cause;
  if (err instanceof ApplicationFailure) return err;
  return undefined;
}

export function failureType(err: unknown): string | undefined {
  return applicationFailureOf(err)?.type ?? undefined;
}

/** True when MTurk answered a SendBonus with a refusal that means nothing was paid. */
export function isSendBonusRefusal(err: unknown): boolean {
  const failure = applicationFailureOf(err);
  const details = failure?.details?.[0] as { operation?: string } | undefined;
  return details?.operation === 'SendBonus' && NOTHING_PAID_REFUSALS.has(failure?.type ?? '');
}

/** True when sendBonus failed before it sent any SendBonus. */
export function isNothingSentFailure(err: unknown): boolean {
  return NOTHING_SENT_FAILURES.has(failureType(err) ?? '');
}

export function isActivityTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
}
