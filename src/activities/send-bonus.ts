import { SendBonusCommand } from '@aws-sdk/client-mturk';
import { Context } from '@temporalio/activity';
import type { LedgerEntry } from '../common/ledger-match';
import type { FoundBy, SendBonusResult } from '../common/types';
import type { ValidatedSendBonusInput } from '../common/validation';
import { classifyMTurkError, isDuplicateTokenError } from '../mturk/errors';
import {
  checkLookUpInput,
  lookUpPayment,
  type LookUpBonusInput,
  type LookUpRequest,
} from './ledger-lookup';
import type { MTurkActivityContext } from './mturk-deps';

/** sendBonus's heartbeat details: the token of a SendBonus this attempt sent. */
interface SendBonusHeartbeat {
  sent?: string;
}

/** What one sendBonus attempt knows while it pays, for its steps and their logs. */
interface SendAttempt {
  mturk: MTurkActivityContext;
  lookUp: LookUpRequest;
  /** This run may already have paid the bonus (see sendBonus). */
  ownAttemptBefore: boolean;
  started: number;
  logFields: Record<string, unknown>;
}

/**
 * Pays a bonus at most once. First, always, the ledger: whatever started this run (a retry, a
 * reset, a restart of the workflow ID, a rerun after Temporal forgot the workflow, another
 * tool) only MTurk's ledger knows what was paid. Then SendBonus with the workflow's token.
 * Returns `paid`, `already-paid` or `token-used-unconfirmed` (see SendBonusResult); throws
 * PaymentConflict when the ledger holds another bonus in this payment's place.
 */
export async function sendBonus(
  mturk: MTurkActivityContext,
  input: LookUpBonusInput,
): Promise<SendBonusResult> {
  const lookUp = await checkLookUpInput(mturk, input);
  const { request } = lookUp;
  const { assignmentId, workerId, uniqueRequestToken: token, bonusAmount: amount } = request;
  const context = Context.current();
  const attempt = context.info.attempt;
  const started = mturk.now().getTime();
  const logFields = { assignmentId, workerId, amount, token, attempt };
  // This run may already have paid: an earlier attempt of this activity that got as far as
  // sending (it said so in a heartbeat), or an earlier call (the workflow says).
  const sentBefore = (context.info.heartbeatDetails as SendBonusHeartbeat | undefined)?.sent;
  const ownAttemptBefore = sentBefore === token || request.priorPaymentPossible === true;

  const before = await lookUpPayment(mturk, lookUp);
  if (before.kind === 'paid') {
    mturk.logger().info('MTurk bonus already paid (found in ListBonusPayments)', {
      ...logFields,
      status: 'already-paid',
    });
    return alreadyPaid(request, 'listing', ownAttemptBefore, before.entry);
  }

  // Recorded before the call: a retry that then finds the bonus knows this run may have paid it.
  context.heartbeat({ sent: token } satisfies SendBonusHeartbeat);
  return await send({ mturk, lookUp, ownAttemptBefore, started, logFields });
}

/** The SendBonus call itself, once the ledger showed no such bonus. */
async function send(attempt: SendAttempt): Promise<SendBonusResult> {
  const { mturk, logFields } = attempt;
  const { request } = attempt.lookUp;
  const { assignmentId, uniqueRequestToken: token, bonusAmount: amount } = request;
  try {
    const output = await mturk.client.send(
      new SendBonusCommand({
        WorkerId: request.workerId,
        AssignmentId: assignmentId,
        BonusAmount: amount,
        Reason: request.reason,
        UniqueRequestToken: token,
      }),
    );
    const requestId = output.$metadata.requestId;
    mturk.logger().info('MTurk bonus paid', {
      ...logFields,
      status: 'paid',
      requestId,
      durationMs: mturk.now().getTime() - attempt.started,
    });
    return { status: 'paid', amount, token, ...(requestId !== undefined && { requestId }) };
  } catch (err) {
    if (isDuplicateTokenError(err)) return await confirmDuplicateToken(attempt, err);
    const classification = classifyMTurkError(err, { operation: 'SendBonus', assignmentId });
    mturk.logger().warn('MTurk SendBonus failed', {
      ...logFields,
      retryable: classification.retryable,
      error: classification.retryable ? classification.reason : classification.failure.message,
    });
    if (classification.retryable) throw err;
    throw classification.failure;
  }
}

/**
 * MTurk says a call with this token exists: the bonus was paid, by this run or an earlier one.
 * Confirm it on the ledger; if the listing does not show it yet, say so and let the workflow
 * keep checking. Never a reason to pay under another token.
 */
async function confirmDuplicateToken(
  attempt: SendAttempt,
  duplicateTokenError: unknown,
): Promise<SendBonusResult> {
  const { mturk, ownAttemptBefore, logFields } = attempt;
  const { request } = attempt.lookUp;
  const after = await lookUpPayment(mturk, attempt.lookUp);
  if (after.kind === 'paid') {
    mturk.logger().info('MTurk bonus already paid (token used, payment listed)', {
      ...logFields,
      status: 'already-paid',
    });
    return alreadyPaid(request, 'token', ownAttemptBefore, after.entry);
  }
  const mturkMessage =
    duplicateTokenError instanceof Error
      ? duplicateTokenError.message
      : String(duplicateTokenError);
  const originalRequestId = requestIdIn(mturkMessage);
  mturk.logger().warn('MTurk token used but the payment is not listed yet', {
    ...logFields,
    status: 'token-used-unconfirmed',
    originalRequestId,
  });
  return {
    status: 'token-used-unconfirmed',
    amount: request.bonusAmount,
    token: request.uniqueRequestToken,
    foundAfterOwnAttempt: ownAttemptBefore,
    ...(originalRequestId !== undefined && { originalRequestId }),
  };
}

/** The request ID in MTurk's duplicate-token message ("... (request ID abc-123)"). */
function requestIdIn(message: string): string | undefined {
  return /request ?id[:\s]+([A-Za-z0-9-]{8,})/i.exec(message)?.[1];
}

function alreadyPaid(
  request: ValidatedSendBonusInput,
  foundBy: FoundBy,
  foundAfterOwnAttempt: boolean,
  entry: LedgerEntry,
): SendBonusResult {
  return {
    status: 'already-paid',
    amount: request.bonusAmount,
    token: request.uniqueRequestToken,
    foundBy,
    foundAfterOwnAttempt,
    ...(entry.grantTime !== undefined && { grantTime: entry.grantTime }),
  };
}
