import {
  ActivityFailure,
  ApplicationFailure,
  ContinueAsNew,
  TimeoutFailure,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { createMTurkActivities, createNotifyActivities } from '../activities';
import { durationMs } from '../common/durations';
import { mturkCallOptions, notifyCallOptions } from './activity-options';
import { FailureType, invalidBonusRequest } from '../common/errors';
import { MTurkAssignmentId, MTurkBonusState } from '../common/search-attributes';
import { bonusRequestToken } from '../common/token';
import { reasonSentToMTurk } from '../common/bonus-reason';
import type {
  ApproveAndBonusResult,
  ApproveAndBonusWorkflowInput,
  BonusNotification,
  ConfirmingState,
  PayUnderNewTokenRequest,
  PaymentNotification,
  PaymentState,
  PaymentStatus,
  SendBonusResult,
} from '../common/types';
import { REASON_MAX_LENGTH, validateApproveAndBonusInput } from '../common/validation';
import {
  checkApproveAndBonusOptions,
  type ApproveAndBonusOptions,
} from '../common/workflow-options';

export const statusQuery = defineQuery<PaymentStatus>('status');
/** Tell a payment waiting for funds that the balance was topped up. */
export const fundsAddedSignal = defineSignal('fundsAdded');
/**
 * An operator's decision for an `unconfirmed` payment: pay under a new token. MTurk said the
 * current token was used, so this may pay the worker a second time; ignored in any other state.
 */
export const payUnderNewTokenSignal = defineSignal<[PayUnderNewTokenRequest?]>('payUnderNewToken');

function mturkActivities(options: ApproveAndBonusOptions) {
  return proxyActivities<ReturnType<typeof createMTurkActivities>>(mturkCallOptions(options));
}

function notifyActivities(options: ApproveAndBonusOptions) {
  return proxyActivities<ReturnType<typeof createNotifyActivities>>(notifyCallOptions(options));
}

/** "You received a bonus of $1.20 for assignment 3AMY...: Thanks for the careful work". */
export function defaultNotificationMessage(amount: string, assignmentId: string, reason: string) {
  return `You received a bonus of $${amount} for assignment ${assignmentId}: ${reason}`;
}

/** Only for histories of runs before CONFIRM_USED_TOKEN_PATCH (see below). */
const LEGACY_MAX_TOKEN_GENERATIONS = 5;
/** patched() ID: a keyed bonus carries its key in the reason (see bonus-reason.ts). */
const KEYED_REASON_PATCH = 'bonus-key-in-reason';
/**
 * patched() ID: MTurkBonusState is upserted only for the states someone searches for
 * (waiting-for-funds, and paying again after it, paid, failed). The starter sets "started";
 * each upsert is a visibility write, and the two of every happy path (approving, paying) cost
 * about a quarter of the dev server's CPU per payment in the benchmark.
 */
const SEARCHED_STATES_PATCH = 'bonus-state-upserts-searched-only';
/**
 * patched() ID: a duplicate-token answer whose bonus is not listed is confirmed on the ledger
 * (and waits as `unconfirmed`), where earlier runs moved to a new token and paid again.
 */
const CONFIRM_USED_TOKEN_PATCH = 'confirm-used-token-on-ledger';
/** In progress and short: the `status` query reports them, search keeps showing "started". */
const UNSEARCHED_STATES: ReadonlySet<PaymentState> = new Set(['approving', 'paying']);
/** Searched states that "paying" replaces when the payment goes on. */
const WAITING_STATES: ReadonlySet<PaymentState | undefined> = new Set([
  'waiting-for-funds',
  'unconfirmed',
]);
/** Waiting adds a few events per re-check; start a fresh history well before it matters. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 2_000;
/** Re-checks of a lagging listing: 5 s, doubling, at most 2 minutes apart. */
const CONFIRM_FIRST_DELAY_MS = 5_000;
const CONFIRM_MAX_DELAY_MS = 120_000;
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

function failureType(err: unknown): string | undefined {
  return applicationFailureOf(err)?.type ?? undefined;
}

/** True when MTurk answered a SendBonus with a refusal that means nothing was paid. */
function isSendBonusRefusal(err: unknown): boolean {
  const failure = applicationFailureOf(err);
  const details = failure?.details?.[0] as { operation?: string } | undefined;
  return details?.operation === 'SendBonus' && NOTHING_PAID_REFUSALS.has(failure?.type ?? '');
}

function isActivityTimeout(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure;
}

function describe(err: unknown): { type?: string; message: string } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return {
    type: failureType(err),
    message: cause instanceof Error ? cause.message : String(cause),
  };
}

/**
 * Approves an MTurk assignment, then pays its bonus exactly once.
 *
 * Start it by name (`approveAndBonus`) with one JSON object; the workflow ID should come from
 * `bonusWorkflowId()`. Whatever starts a run (a first start, a reset, a start by name with any
 * ID reuse policy, a rerun after the namespace's retention dropped an earlier run), every
 * SendBonus is preceded by a look at MTurk's ledger, so a run pays only what the ledger does not
 * already show.
 */
export async function approveAndBonus(
  input: ApproveAndBonusWorkflowInput,
): Promise<ApproveAndBonusResult> {
  // A plain Error here would fail the workflow task, and Temporal would retry it forever: bad
  // input, the options included, must fail the workflow as InvalidBonusRequest instead.
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidBonusRequest([{ field: 'input', message: 'must be an object' }]);
  }
  const { options = {}, carried, ...payment } = input;
  const { maxBonusCents } = checkApproveAndBonusOptions(options);
  // Bad input fails here, before any MTurk call, as a non-retryable InvalidBonusRequest.
  const request = validateApproveAndBonusInput(payment, { maxBonusCents });
  const mturk = mturkActivities(options);

  const { workflowId } = workflowInfo();
  let tokenGeneration = carried?.tokenGeneration ?? options.firstTokenGeneration ?? 0;
  let tokenRefused = carried?.tokenRefused ?? false;
  let approval = carried?.approval;
  let bonusAttempted = carried?.bonusAttempted ?? false;
  let confirming = carried?.confirming;
  let bonus: SendBonusResult | undefined;
  let state: PaymentState = approval || request.skipApproval ? 'paying' : 'approving';
  let lastError: PaymentStatus['lastError'];
  let fundsAdded = false;
  let newTokenAsked: PayUnderNewTokenRequest | undefined;

  const token = () => bonusRequestToken(workflowId, request.bonusKey, tokenGeneration);
  // The reason a lookup must find: the one this payment was sent with, carried across
  // continue-as-new. Payments started before keys were carried in reasons keep theirs.
  const mturkReason =
    carried?.mturkReason ??
    (patched(KEYED_REASON_PATCH)
      ? reasonSentToMTurk(request.reason, request.bonusKey)
      : request.reason);
  // Carried by a version that did not record the reason: it may have sent either.
  const otherReasons =
    carried?.otherReasons ??
    (carried && carried.mturkReason === undefined && request.bonusKey ? [request.reason] : []);
  if (mturkReason.length > REASON_MAX_LENGTH) {
    throw invalidBonusRequest([
      {
        field: 'reason',
        message: `with the bonus key appended it is ${mturkReason.length} characters, at most ${REASON_MAX_LENGTH}`,
      },
    ]);
  }
  const searchable = workflowInfo().typedSearchAttributes.get(MTurkAssignmentId) !== undefined;
  // Payments started before this change upsert every state, as their histories say they did.
  const searchedStatesOnly = patched(SEARCHED_STATES_PATCH);
  // "started" from the starter, or the state a run before continue-as-new left.
  let searchedState = workflowInfo().typedSearchAttributes.get(MTurkBonusState);
  const enter = (next: PaymentState) => {
    state = next;
    // Only when the starter registered our search attributes (payBonus checks): upserting an
    // unregistered attribute would fail every workflow task.
    if (!searchable) return;
    if (searchedStatesOnly) {
      if (next === searchedState) return;
      // "paying" is written only to replace a waiting state, so search stops showing a wait.
      if (UNSEARCHED_STATES.has(next) && !WAITING_STATES.has(searchedState as PaymentState)) {
        return;
      }
    }
    searchedState = next;
    upsertSearchAttributes([{ key: MTurkBonusState, value: next }]);
  };

  setHandler(statusQuery, () => ({
    state,
    assignmentId: request.assignmentId,
    workerId: request.workerId,
    amount: request.bonusAmount,
    token: token(),
    tokenGeneration,
    nextRunTokenGeneration: tokenGeneration + (tokenRefused ? 1 : 0),
    reason: mturkReason,
    ...(confirming?.originalRequestId !== undefined && {
      originalRequestId: confirming.originalRequestId,
    }),
    approval,
    bonus,
    lastError,
  }));
  setHandler(fundsAddedSignal, () => {
    fundsAdded = true;
  });
  setHandler(payUnderNewTokenSignal, (asked?: PayUnderNewTokenRequest) => {
    if (state !== 'unconfirmed') {
      log.warn('payUnderNewToken ignored: the payment is not unconfirmed', { state });
      return;
    }
    newTokenAsked = asked ?? {};
  });

  const sendInput = () => ({
    workerId: request.workerId,
    assignmentId: request.assignmentId,
    bonusAmount: request.bonusAmount,
    reason: mturkReason,
    uniqueRequestToken: token(),
    priorPaymentPossible: bonusAttempted,
    ...(request.bonusKey !== undefined && { bonusKey: request.bonusKey }),
    ...(request.target !== undefined && { target: request.target }),
  });

  const continueAsNewIfLong = async () => {
    if (workflowInfo().historyLength <= CONTINUE_AS_NEW_AFTER_EVENTS) return;
    await continueAsNew<typeof approveAndBonus>({
      ...input,
      carried: {
        tokenGeneration,
        approval,
        bonusAttempted,
        mturkReason,
        ...(otherReasons.length > 0 && { otherReasons }),
        tokenRefused,
        ...(confirming && { confirming }),
      },
    });
  };

  /** One look at the ledger while confirming; an unreachable MTurk counts as "not yet". */
  const listed = async (): Promise<{ listed: boolean; grantTime?: string }> => {
    try {
      return await mturk.lookUpBonus({ ...sendInput(), otherReasons });
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      lastError = describe(err);
      return { listed: false };
    }
  };

  /**
   * MTurk said the token was used. The bonus exists unless a refused call used the token up, and
   * the listing may lag: keep looking, back off, and after the confirmation window wait as
   * `unconfirmed` for the listing or an operator. Returns the bonus when listed, or undefined
   * when the operator asked for a new token. Never pays by itself.
   */
  const confirmUsedToken = async (
    pending: ConfirmingState,
  ): Promise<SendBonusResult | undefined> => {
    const found = (grantTime?: string): SendBonusResult => ({
      status: 'already-paid',
      amount: request.bonusAmount,
      token: token(),
      foundBy: 'token',
      foundAfterOwnAttempt: pending.afterOwnAttempt,
      ...(grantTime !== undefined && { grantTime }),
    });
    lastError = {
      type: 'TokenUsedNotListed',
      message:
        `MTurk says token ${token()} was used` +
        (pending.originalRequestId ? ` (request ${pending.originalRequestId})` : '') +
        ' but ListBonusPayments does not show the bonus yet',
    };
    const windowMs = durationMs(options.confirmationWindow ?? '15m');
    let delay = CONFIRM_FIRST_DELAY_MS;
    while (!pending.unconfirmed && Date.now() < pending.since + windowMs) {
      await sleep(Math.min(delay, Math.max(1, pending.since + windowMs - Date.now())));
      delay = Math.min(delay * 2, CONFIRM_MAX_DELAY_MS);
      const look = await listed();
      if (look.listed) return found(look.grantTime);
      await continueAsNewIfLong();
    }
    pending.unconfirmed = true;
    enter('unconfirmed');
    log.warn('payment unconfirmed: token used, bonus not listed', {
      assignmentId: request.assignmentId,
      token: token(),
      originalRequestId: pending.originalRequestId,
    });
    for (;;) {
      const asked = await condition(
        () => newTokenAsked !== undefined,
        options.unconfirmedRecheckInterval ?? '1h',
      );
      if (asked) {
        log.warn('operator asked to pay under a new token', {
          assignmentId: request.assignmentId,
          token: token(),
          note: newTokenAsked?.note,
        });
        newTokenAsked = undefined;
        return undefined;
      }
      const look = await listed();
      if (look.listed) return found(look.grantTime);
      await continueAsNewIfLong();
    }
  };

  /**
   * Tells the worker, at most once and only when this run paid: a bonus found paid before was an
   * earlier run's (or another tool's) to announce. Never fails or delays the payment.
   */
  const notify = async (
    asked: BonusNotification,
    paid: SendBonusResult,
  ): Promise<PaymentNotification> => {
    const paidByThisRun = paid.status === 'paid' || paid.foundAfterOwnAttempt === true;
    if (!paidByThisRun) return { status: 'skipped' };
    try {
      const result = await notifyActivities(options).notifyWorkers({
        subject: asked.subject,
        messageText:
          asked.message ??
          defaultNotificationMessage(request.bonusAmount, request.assignmentId, request.reason),
        workerIds: [request.workerId],
      });
      const failure = result.failures[0];
      return failure
        ? { status: 'failed', failure: `${failure.code}: ${failure.message}` }
        : { status: 'sent' };
    } catch (err) {
      log.warn('notification not sent', {
        assignmentId: request.assignmentId,
        error: describe(err).message,
      });
      return { status: 'failed', failure: describe(err).message };
    }
  };

  try {
    if (!approval && !request.skipApproval) {
      enter('approving');
      approval = await mturk.approveAssignment({
        assignmentId: request.assignmentId,
        requesterFeedback: request.requesterFeedback,
        overrideRejection: request.overrideRejection,
        ...(request.target !== undefined && { target: request.target }),
      });
    }

    if (confirming?.unconfirmed) enter('unconfirmed');
    else enter('paying');
    for (;;) {
      if (confirming) {
        const confirmed = await confirmUsedToken(confirming);
        confirming = undefined;
        if (confirmed) {
          bonus = confirmed;
          break;
        }
        // The operator's decision: a new token (the lookup before SendBonus still runs).
        tokenGeneration += 1;
        tokenRefused = false;
        enter('paying');
      }
      try {
        const result = await mturk.sendBonus({
          ...sendInput(),
          ...(otherReasons.length > 0 && { otherReasons }),
        });
        const ownAttemptBefore = bonusAttempted;
        bonusAttempted = true;
        if (result.status !== 'token-used-unconfirmed') {
          bonus = result;
          break;
        }
        if (patched(CONFIRM_USED_TOKEN_PATCH)) {
          confirming = {
            since: Date.now(),
            afterOwnAttempt: ownAttemptBefore || result.foundAfterOwnAttempt === true,
            unconfirmed: false,
            ...(result.originalRequestId !== undefined && {
              originalRequestId: result.originalRequestId,
            }),
          };
          continue;
        }
        // Runs before the patch moved to the next token here; their histories replay so.
        if (tokenGeneration + 1 >= LEGACY_MAX_TOKEN_GENERATIONS) {
          throw ApplicationFailure.nonRetryable(
            `MTurk refuses ${LEGACY_MAX_TOKEN_GENERATIONS} tokens for assignment ${request.assignmentId} but lists no payment`,
            FailureType.MTurkRequestRejected,
          );
        }
        tokenGeneration += 1;
      } catch (err) {
        lastError = describe(err);
        // A definitive refusal paid nothing; anything else may have (a lost answer, a timeout).
        if (isSendBonusRefusal(err)) tokenRefused = true;
        else if (!NOTHING_SENT_FAILURES.has(failureType(err) ?? '')) bonusAttempted = true;
        if (failureType(err) === FailureType.InsufficientFunds) {
          // Nothing was paid under this token, and MTurk may remember it as used: the next
          // attempt takes the next generation, however many top-ups it takes.
          tokenGeneration += 1;
          tokenRefused = false;
          enter('waiting-for-funds');
          log.info('waiting for funds', {
            assignmentId: request.assignmentId,
            amount: request.bonusAmount,
          });
          fundsAdded = false;
          await condition(() => fundsAdded, options.fundsRecheckInterval ?? '1h');
        } else if (isActivityTimeout(err)) {
          // MTurk unreachable for the whole retry window: pause; the next call looks up first.
          await sleep(options.outagePause ?? '10m');
        } else {
          throw err;
        }
        await continueAsNewIfLong();
        enter('paying');
      }
    }
    lastError = undefined;
    enter('paid');
    const notification = request.notify ? await notify(request.notify, bonus) : undefined;
    return {
      assignmentId: request.assignmentId,
      workerId: request.workerId,
      approval,
      bonus,
      reason: mturkReason,
      ...(request.target !== undefined && { target: request.target }),
      ...(notification && { notification }),
    };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    lastError = describe(err);
    enter('failed');
    throw err;
  }
}
