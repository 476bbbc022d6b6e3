/**
 * What a payment workflow's result means for its batch row. Pure: the batch's window calls it
 * with results it awaited, and nothing here issues commands.
 */
import { parseDollarsToCents } from '../common/money';
import { reasonSentToMTurk } from '../common/bonus-reason';
import { normaliseText } from '../common/ledger-match';
import type { ApproveAndBonusInput, ApproveAndBonusResult } from '../common/types';
import { tokenGenerationOf, type BatchRowOutcome } from '../common/batch';

/** Error text kept per row, so a batch of failures still fits in a payload. */
export const MAX_ERROR_CHARS = 300;

/**
 * A row is `paid` only when its payment workflow, started by this batch, paid it: its own
 * SendBonus succeeded, or a SendBonus of its own whose answer was lost and that it then found
 * on the ledger. Anything found paid otherwise is `already-paid`, with how it was found.
 */
export function paidOutcome(result: ApproveAndBonusResult, startedByUs: boolean): BatchRowOutcome {
  const { bonus } = result;
  const paidByItsRun =
    bonus.status === 'paid' ||
    // Results of versions before foundAfterOwnAttempt: the batch's own payment paid it.
    (bonus.status === 'already-paid' && bonus.foundAfterOwnAttempt !== false);
  const paidNow = startedByUs && paidByItsRun;
  const outcome: BatchRowOutcome = { status: paidNow ? 'paid' : 'already-paid' };
  if (!paidNow) outcome.foundBy = startedByUs ? (bonus.foundBy ?? 'listing') : 'workflow';
  if (result.bonus.requestId !== undefined) outcome.requestId = result.bonus.requestId;
  if (result.notification?.status === 'failed') {
    outcome.notificationFailure = (result.notification.failure ?? 'failed').slice(
      0,
      MAX_ERROR_CHARS,
    );
  }
  const generation = tokenGenerationOf(result.bonus.token);
  if (generation !== 0) outcome.tokenGeneration = generation;
  return outcome;
}

/**
 * Why the payment made under the row's workflow ID is not the payment the row asks for, or
 * undefined when it is.
 */
export function paymentConflict(
  request: ApproveAndBonusInput,
  workflowId: string,
  result: ApproveAndBonusResult,
): string | undefined {
  const asked = parseDollarsToCents(request.bonusAmount);
  const made = parseDollarsToCents(result.bonus.amount);
  const askedReason = reasonSentToMTurk(request.reason, request.bonusKey);
  const otherReason =
    result.reason !== undefined && normaliseText(result.reason) !== normaliseText(askedReason);
  if (result.workerId !== request.workerId || made !== asked || otherReason) {
    return (
      `${workflowId} already paid ${result.bonus.amount} to ${result.workerId}` +
      (otherReason ? ` with reason ${JSON.stringify(result.reason)}` : '') +
      `, but this row asks ${request.bonusAmount} for ${request.workerId}` +
      (otherReason ? ` with reason ${JSON.stringify(askedReason)}` : '') +
      '; nothing more was paid (to pay another bonus for the same assignment, give the row a bonusKey)'
    );
  }
  return undefined;
}
