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
import type { Duration } from '@temporalio/common';
import { msToNumber } from '@temporalio/common/lib/time';
import type { createMTurkActivities } from '../activities';
import { FailureType, invalidBonusRequest, type ValidationIssue } from '../errors';
import { tryParseDollarsToCents } from '../money';
import { MTurkAssignmentId, MTurkBonusState } from '../search-attributes';
import { bonusRequestToken } from '../token';
import { reasonSentToMTurk } from '../bonus-reason';
import type {
  ApproveAndBonusInput,
  ApproveAndBonusResult,
  ApproveAssignmentResult,
  PaymentState,
  PaymentStatus,
  SendBonusResult,
} from '../types';
import { REASON_MAX_LENGTH, validateApproveAndBonusInput } from '../validation';

/** Tuning of one payment; every field has a safe default. */
export interface ApproveAndBonusOptions {
  /** Largest bonus this workflow will pay, dollars (default "100.00"). The activity has its own cap too. */
  maxBonusAmount?: string;
  /** How often to re-check the balance while waiting for funds (default 1 hour). */
  fundsRecheckInterval?: Duration;
  /** Pause after MTurk stayed unreachable for a whole activity schedule-to-close window (default 10 minutes). */
  outagePause?: Duration;
  /**
   * Look the payment up in ListBonusPayments before the first SendBonus: set when an earlier run
   * of this workflow ID may have paid (payBonus sets it when it restarts a failed run).
   */
  lookUpFirst?: boolean;
  /** Limit of one MTurk activity attempt (default 30 s). */
  activityStartToCloseTimeout?: Duration;
  /** First retry delay of an MTurk activity (default 1 s, doubling). */
  retryInitialInterval?: Duration;
  /** Longest retry delay of an MTurk activity (default 1 minute). */
  retryMaximumInterval?: Duration;
}

/** State carried across continue-as-new; not for callers. */
export interface ApproveAndBonusCarriedState {
  tokenGeneration: number;
  approval?: ApproveAssignmentResult;
  /** True once any SendBonus may have reached MTurk. */
  bonusAttempted: boolean;
}

export type ApproveAndBonusWorkflowInput = ApproveAndBonusInput & {
  options?: ApproveAndBonusOptions;
  /** @internal carried across continue-as-new */
  carried?: ApproveAndBonusCarriedState;
};

export const statusQuery = defineQuery<PaymentStatus>('status');
/** Tell a payment waiting for funds that the balance was topped up. */
export const fundsAddedSignal = defineSignal('fundsAdded');

function mturkActivities(options: ApproveAndBonusOptions) {
  return proxyActivities<ReturnType<typeof createMTurkActivities>>({
    // MTurk calls take seconds; a short limit means an activity lost with a killed worker is
    // retried on another worker within about a minute.
    startToCloseTimeout: options.activityStartToCloseTimeout ?? '30s',
    // Well below MTurk's 24-hour token memory, so automatic retries stay inside it. Past this the
    // workflow pauses and tries again with a ledger lookup first.
    scheduleToCloseTimeout: '6h',
    retry: {
      initialInterval: options.retryInitialInterval ?? '1s',
      backoffCoefficient: 2,
      maximumInterval: options.retryMaximumInterval ?? '1m',
      nonRetryableErrorTypes: Object.values(FailureType),
    },
  });
}

const DURATION_OPTIONS = [
  'fundsRecheckInterval',
  'outagePause',
  'activityStartToCloseTimeout',
  'retryInitialInterval',
  'retryMaximumInterval',
] as const;

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
    const value = o[key];
    if (value === undefined) continue;
    let ms: number;
    try {
      ms =
        typeof value === 'string' || typeof value === 'number'
          ? msToNumber(value as Duration)
          : NaN;
    } catch {
      ms = NaN;
    }
    if (!Number.isFinite(ms) || ms <= 0) {
      issues.push({
        field: `options.${key}`,
        message: `must be a positive duration such as "30s" or 30000 (ms), got ${JSON.stringify(value)}`,
      });
    }
  }
  if (o.lookUpFirst !== undefined && typeof o.lookUpFirst !== 'boolean') {
    issues.push({ field: 'options.lookUpFirst', message: 'must be true or false' });
  }
  if (issues.length > 0) throw invalidBonusRequest(issues);
  return { maxBonusCents };
}

const MAX_TOKEN_GENERATIONS = 5;
/** patched() ID: a keyed bonus carries its key in the reason (see bonus-reason.ts). */
const KEYED_REASON_PATCH = 'bonus-key-in-reason';
/**
 * patched() ID: MTurkBonusState is upserted only for the states someone searches for
 * (waiting-for-funds, and paying again after it, paid, failed). The starter sets "started";
 * each upsert is a visibility write, and the two of every happy path (approving, paying) cost
 * about a quarter of the dev server's CPU per payment in the benchmark.
 */
const SEARCHED_STATES_PATCH = 'bonus-state-upserts-searched-only';
/** In progress and short: the `status` query reports them, search keeps showing "started". */
const UNSEARCHED_STATES: ReadonlySet<PaymentState> = new Set(['approving', 'paying']);
/** Waiting for funds adds a few events per re-check; start a fresh history well before it matters. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 2_000;

function failureType(err: unknown): string | undefined {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? undefined;
  if (err instanceof ApplicationFailure) return err.type ?? undefined;
  return undefined;
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
 * `bonusWorkflowId()` so a payment can only ever be started once.
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
  let tokenGeneration = carried?.tokenGeneration ?? 0;
  let approval = carried?.approval;
  let bonusAttempted = carried?.bonusAttempted ?? false;
  let bonus: SendBonusResult | undefined;
  let state: PaymentState = approval || request.skipApproval ? 'paying' : 'approving';
  let lastError: PaymentStatus['lastError'];
  let fundsAdded = false;

  const token = () => bonusRequestToken(workflowId, request.bonusKey, tokenGeneration);
  // Payments started before this change keep the reason they may already have been paid with,
  // so their ledger lookups still find them.
  const mturkReason = patched(KEYED_REASON_PATCH)
    ? reasonSentToMTurk(request.reason, request.bonusKey)
    : request.reason;
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
      // "paying" is written only to replace "waiting-for-funds", so search stops showing a wait.
      if (UNSEARCHED_STATES.has(next) && searchedState !== 'waiting-for-funds') return;
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
    approval,
    bonus,
    lastError,
  }));
  setHandler(fundsAddedSignal, () => {
    fundsAdded = true;
  });

  try {
    if (!approval && !request.skipApproval) {
      enter('approving');
      approval = await mturk.approveAssignment({
        assignmentId: request.assignmentId,
        requesterFeedback: request.requesterFeedback,
        overrideRejection: request.overrideRejection,
      });
    }

    enter('paying');
    for (;;) {
      try {
        const result = await mturk.sendBonus({
          workerId: request.workerId,
          assignmentId: request.assignmentId,
          bonusAmount: request.bonusAmount,
          reason: mturkReason,
          uniqueRequestToken: token(),
          priorPaymentPossible: bonusAttempted || options.lookUpFirst === true,
        });
        bonusAttempted = true;
        if (result.status !== 'token-used-unconfirmed') {
          bonus = result;
          break;
        }
        // MTurk remembers the token but lists no payment: a failed call consumed it. The ledger
        // lookup in the next call still guards against paying twice.
        if (tokenGeneration + 1 >= MAX_TOKEN_GENERATIONS) {
          throw ApplicationFailure.nonRetryable(
            `MTurk refuses ${MAX_TOKEN_GENERATIONS} tokens for assignment ${request.assignmentId} but lists no payment`,
            FailureType.MTurkRequestRejected,
          );
        }
        tokenGeneration += 1;
        log.warn('token used but no payment listed; moving to the next token generation', {
          assignmentId: request.assignmentId,
          tokenGeneration,
        });
      } catch (err) {
        bonusAttempted = true;
        lastError = describe(err);
        if (failureType(err) === FailureType.InsufficientFunds) {
          enter('waiting-for-funds');
          log.info('waiting for funds', {
            assignmentId: request.assignmentId,
            amount: request.bonusAmount,
          });
          fundsAdded = false;
          await condition(() => fundsAdded, options.fundsRecheckInterval ?? '1h');
        } else if (isActivityTimeout(err)) {
          // MTurk unreachable for the whole retry window: pause, then look up before paying again.
          await sleep(options.outagePause ?? '10m');
        } else {
          throw err;
        }
        if (workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS) {
          await continueAsNew<typeof approveAndBonus>({
            ...input,
            carried: { tokenGeneration, approval, bonusAttempted },
          });
        }
        enter('paying');
      }
    }
    lastError = undefined;
    enter('paid');
    return { assignmentId: request.assignmentId, workerId: request.workerId, approval, bonus };
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    lastError = describe(err);
    enter('failed');
    throw err;
  }
}
