/**
 * One approveAndBonus payment: its state (token generation, approval, what MTurk was sent, what
 * may have been paid) and its steps (approve, pay, wait for funds, confirm a used token,
 * notify). The workflow function in approve-and-bonus.ts runs the steps in order.
 *
 * Every step keeps the order of its awaits, timers, activity calls, search-attribute upserts
 * and patched() calls: recorded histories (test/histories) replay against this code.
 */
import {
  ApplicationFailure,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { createMTurkActivities, createNotifyActivities } from '../activities';
import { reasonSentToMTurk } from '../common/bonus-reason';
import { durationMs } from '../common/durations';
import { describeFailure } from '../common/failures';
import { FailureType, invalidBonusRequest } from '../common/errors';
import { bonusRequestToken } from '../common/token';
import type {
  ApproveAndBonusCarriedState,
  ApproveAndBonusResult,
  ApproveAndBonusWorkflowInput,
  ApproveAssignmentResult,
  BonusNotification,
  ConfirmingState,
  PayUnderNewTokenRequest,
  PaymentNotification,
  PaymentState,
  PaymentStatus,
  SendBonusResult,
} from '../common/types';
import {
  REASON_MAX_LENGTH,
  validateApproveAndBonusInput,
  type ValidatedApproveAndBonusInput,
} from '../common/validation';
import {
  checkApproveAndBonusOptions,
  type ApproveAndBonusOptions,
} from '../common/workflow-options';
import { mturkCallOptions, notifyCallOptions } from './activity-options';
import { BonusStateSearchAttribute } from './bonus-state-search';
import {
  failureType,
  isActivityTimeout,
  isNothingSentFailure,
  isSendBonusRefusal,
} from './payment-failures';

/** Only for histories of runs before CONFIRM_USED_TOKEN_PATCH (see below). */
const LEGACY_MAX_TOKEN_GENERATIONS = 5;
/** patched() ID: a keyed bonus carries its key in the reason (see bonus-reason.ts). */
const KEYED_REASON_PATCH = 'bonus-key-in-reason';
/**
 * patched() ID: a duplicate-token answer whose bonus is not listed is confirmed on the ledger
 * (and waits as `unconfirmed`), where earlier runs moved to a new token and paid again.
 */
const CONFIRM_USED_TOKEN_PATCH = 'confirm-used-token-on-ledger';
/** Waiting adds a few events per re-check; start a fresh history well before it matters. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 2_000;
/** Re-checks of a lagging listing: 5 s, doubling, at most 2 minutes apart. */
const CONFIRM_FIRST_DELAY_MS = 5_000;
const CONFIRM_MAX_DELAY_MS = 120_000;

/** The workflow's signature, for continue-as-new into the same workflow. */
type ApproveAndBonusWorkflow = (
  input: ApproveAndBonusWorkflowInput,
) => Promise<ApproveAndBonusResult>;

/** "You received a bonus of $1.20 for assignment 3AMY...: Thanks for the careful work". */
export function defaultNotificationMessage(amount: string, assignmentId: string, reason: string) {
  return `You received a bonus of $${amount} for assignment ${assignmentId}: ${reason}`;
}

/** The workflow input, checked. */
export interface PaymentInput {
  /** As the workflow received it, for continue-as-new. */
  input: ApproveAndBonusWorkflowInput;
  options: ApproveAndBonusOptions;
  carried?: ApproveAndBonusCarriedState;
  request: ValidatedApproveAndBonusInput;
}

/** Bad input fails here, before any MTurk call, as a non-retryable InvalidBonusRequest. */
export function checkPaymentInput(input: ApproveAndBonusWorkflowInput): PaymentInput {
  // A plain Error here would fail the workflow task, and Temporal would retry it forever: bad
  // input, the options included, must fail the workflow as InvalidBonusRequest instead.
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidBonusRequest([{ field: 'input', message: 'must be an object' }]);
  }
  const { options = {}, carried, ...payment } = input;
  const { maxBonusCents } = checkApproveAndBonusOptions(options);
  const request = validateApproveAndBonusInput(payment, { maxBonusCents });
  return { input, options, carried, request };
}

/**
 * The reason a lookup must find: the one this payment was sent with, carried across
 * continue-as-new. Payments started before keys were carried in reasons keep theirs.
 */
function reasonForMTurk(
  request: ValidatedApproveAndBonusInput,
  carried: ApproveAndBonusCarriedState | undefined,
): string {
  const mturkReason =
    carried?.mturkReason ??
    (patched(KEYED_REASON_PATCH)
      ? reasonSentToMTurk(request.reason, request.bonusKey)
      : request.reason);
  if (mturkReason.length > REASON_MAX_LENGTH) {
    throw invalidBonusRequest([
      {
        field: 'reason',
        message: `with the bonus key appended it is ${mturkReason.length} characters, at most ${REASON_MAX_LENGTH}`,
      },
    ]);
  }
  return mturkReason;
}

export class Payment {
  private readonly input: ApproveAndBonusWorkflowInput;
  private readonly options: ApproveAndBonusOptions;
  private readonly request: ValidatedApproveAndBonusInput;
  private readonly mturk: ReturnType<typeof createMTurkActivities>;
  private readonly workflowId: string;
  private tokenGeneration: number;
  /** MTurk refused the current token's call in a way that means nothing was paid. */
  private tokenRefused: boolean;
  private approval: ApproveAssignmentResult | undefined;
  /** True once any SendBonus may have reached MTurk. */
  private bonusAttempted: boolean;
  /** A used token whose bonus the listing has not shown yet. */
  private confirming: ConfirmingState | undefined;
  private bonus: SendBonusResult | undefined;
  private state: PaymentState;
  private lastError: PaymentStatus['lastError'];
  private fundsAdded = false;
  private newTokenAsked: PayUnderNewTokenRequest | undefined;
  private readonly mturkReason: string;
  /** Reasons an earlier version may have sent instead (matched too, kept across runs). */
  private readonly otherReasons: string[];
  private readonly search: BonusStateSearchAttribute;

  constructor({ input, options, carried, request }: PaymentInput) {
    this.input = input;
    this.options = options;
    this.request = request;
    this.mturk = proxyActivities<ReturnType<typeof createMTurkActivities>>(
      mturkCallOptions(options),
    );
    this.workflowId = workflowInfo().workflowId;
    this.tokenGeneration = carried?.tokenGeneration ?? options.firstTokenGeneration ?? 0;
    this.tokenRefused = carried?.tokenRefused ?? false;
    this.approval = carried?.approval;
    this.bonusAttempted = carried?.bonusAttempted ?? false;
    this.confirming = carried?.confirming;
    this.state = this.approval || request.skipApproval ? 'paying' : 'approving';
    // The order of the patched() calls here and in BonusStateSearchAttribute is recorded.
    this.mturkReason = reasonForMTurk(request, carried);
    // Carried by a version that did not record the reason: it may have sent either.
    this.otherReasons =
      carried?.otherReasons ??
      (carried && carried.mturkReason === undefined && request.bonusKey ? [request.reason] : []);
    this.search = new BonusStateSearchAttribute();
  }

  /** For the `status` query. */
  status(): PaymentStatus {
    return {
      state: this.state,
      assignmentId: this.request.assignmentId,
      workerId: this.request.workerId,
      amount: this.request.bonusAmount,
      token: this.token(),
      tokenGeneration: this.tokenGeneration,
      nextRunTokenGeneration: this.tokenGeneration + (this.tokenRefused ? 1 : 0),
      reason: this.mturkReason,
      ...(this.confirming?.originalRequestId !== undefined && {
        originalRequestId: this.confirming.originalRequestId,
      }),
      approval: this.approval,
      bonus: this.bonus,
      lastError: this.lastError,
    };
  }

  /** The `fundsAdded` signal: re-check now rather than at the next interval. */
  fundsWereAdded(): void {
    this.fundsAdded = true;
  }

  /** The `payUnderNewToken` signal: an operator's decision, heeded only while `unconfirmed`. */
  askToPayUnderNewToken(asked?: PayUnderNewTokenRequest): void {
    if (this.state !== 'unconfirmed') {
      log.warn('payUnderNewToken ignored: the payment is not unconfirmed', { state: this.state });
      return;
    }
    this.newTokenAsked = asked ?? {};
  }

  /** Approves the assignment, unless a run before continue-as-new did or none is wanted. */
  async approve(): Promise<void> {
    if (this.approval || this.request.skipApproval) return;
    this.enter('approving');
    this.approval = await this.mturk.approveAssignment({
      assignmentId: this.request.assignmentId,
      requesterFeedback: this.request.requesterFeedback,
      overrideRejection: this.request.overrideRejection,
      ...(this.request.target !== undefined && { target: this.request.target }),
    });
  }

  /**
   * Pays the bonus, or finds it paid: through funds waits and MTurk outages, and through
   * confirming a used token on the ledger. Throws what cannot be waited out.
   */
  async pay(): Promise<SendBonusResult> {
    this.enter(this.confirming?.unconfirmed ? 'unconfirmed' : 'paying');
    for (;;) {
      if (this.confirming) {
        const confirmed = await this.confirmUsedToken(this.confirming);
        this.confirming = undefined;
        if (confirmed) return (this.bonus = confirmed);
        // The operator's decision: a new token (the lookup before SendBonus still runs).
        this.tokenGeneration += 1;
        this.tokenRefused = false;
        this.enter('paying');
      }
      try {
        const paid = await this.sendBonus();
        if (paid) return (this.bonus = paid);
      } catch (err) {
        await this.waitOutFailedSend(err);
      }
    }
  }

  /** The payment is made: tells the worker when asked to, and returns the workflow's result. */
  async finish(bonus: SendBonusResult): Promise<ApproveAndBonusResult> {
    const { request } = this;
    this.lastError = undefined;
    this.enter('paid');
    const notification = request.notify ? await this.notify(request.notify, bonus) : undefined;
    return {
      assignmentId: request.assignmentId,
      workerId: request.workerId,
      approval: this.approval,
      bonus,
      reason: this.mturkReason,
      ...(request.target !== undefined && { target: request.target }),
      ...(notification && { notification }),
    };
  }

  /** The workflow fails with `err` (continue-as-new is no failure: not for it). */
  fail(err: unknown): void {
    this.lastError = describeFailure(err);
    this.enter('failed');
  }

  private token(): string {
    return bonusRequestToken(this.workflowId, this.request.bonusKey, this.tokenGeneration);
  }

  private enter(next: PaymentState): void {
    this.state = next;
    this.search.enter(next);
  }

  private sendInput() {
    const { request } = this;
    return {
      workerId: request.workerId,
      assignmentId: request.assignmentId,
      bonusAmount: request.bonusAmount,
      reason: this.mturkReason,
      uniqueRequestToken: this.token(),
      priorPaymentPossible: this.bonusAttempted,
      ...(request.bonusKey !== undefined && { bonusKey: request.bonusKey }),
      ...(request.target !== undefined && { target: request.target }),
    };
  }

  private async continueAsNewIfLong(): Promise<void> {
    if (workflowInfo().historyLength <= CONTINUE_AS_NEW_AFTER_EVENTS) return;
    await continueAsNew<ApproveAndBonusWorkflow>({
      ...this.input,
      carried: {
        tokenGeneration: this.tokenGeneration,
        approval: this.approval,
        bonusAttempted: this.bonusAttempted,
        mturkReason: this.mturkReason,
        ...(this.otherReasons.length > 0 && { otherReasons: this.otherReasons }),
        tokenRefused: this.tokenRefused,
        ...(this.confirming && { confirming: this.confirming }),
      },
    });
  }

  /**
   * One sendBonus call. Returns the bonus when paid or found paid, undefined when the payment
   * goes round again: to confirm a used token, or (before the patch) under the next token.
   */
  private async sendBonus(): Promise<SendBonusResult | undefined> {
    const { otherReasons } = this;
    const result = await this.mturk.sendBonus({
      ...this.sendInput(),
      ...(otherReasons.length > 0 && { otherReasons }),
    });
    const ownAttemptBefore = this.bonusAttempted;
    this.bonusAttempted = true;
    if (result.status !== 'token-used-unconfirmed') return result;
    if (patched(CONFIRM_USED_TOKEN_PATCH)) {
      this.confirming = {
        since: Date.now(),
        afterOwnAttempt: ownAttemptBefore || result.foundAfterOwnAttempt === true,
        unconfirmed: false,
        ...(result.originalRequestId !== undefined && {
          originalRequestId: result.originalRequestId,
        }),
      };
      return undefined;
    }
    // Runs before the patch moved to the next token here; their histories replay so.
    if (this.tokenGeneration + 1 >= LEGACY_MAX_TOKEN_GENERATIONS) {
      throw ApplicationFailure.nonRetryable(
        `MTurk refuses ${LEGACY_MAX_TOKEN_GENERATIONS} tokens for assignment ${this.request.assignmentId} but lists no payment`,
        FailureType.MTurkRequestRejected,
      );
    }
    this.tokenGeneration += 1;
    return undefined;
  }

  /** Waits for funds or for MTurk after a failed sendBonus; rethrows any other failure. */
  private async waitOutFailedSend(err: unknown): Promise<void> {
    this.lastError = describeFailure(err);
    // A definitive refusal paid nothing; anything else may have (a lost answer, a timeout).
    if (isSendBonusRefusal(err)) this.tokenRefused = true;
    else if (!isNothingSentFailure(err)) this.bonusAttempted = true;
    if (failureType(err) === FailureType.InsufficientFunds) {
      await this.waitForFunds();
    } else if (isActivityTimeout(err)) {
      // MTurk unreachable for the whole retry window: pause; the next call looks up first.
      await sleep(this.options.outagePause ?? '10m');
    } else {
      throw err;
    }
    await this.continueAsNewIfLong();
    this.enter('paying');
  }

  private async waitForFunds(): Promise<void> {
    // Nothing was paid under this token, and MTurk may remember it as used: the next
    // attempt takes the next generation, however many top-ups it takes.
    this.tokenGeneration += 1;
    this.tokenRefused = false;
    this.enter('waiting-for-funds');
    log.info('waiting for funds', {
      assignmentId: this.request.assignmentId,
      amount: this.request.bonusAmount,
    });
    this.fundsAdded = false;
    await condition(() => this.fundsAdded, this.options.fundsRecheckInterval ?? '1h');
  }

  /**
   * MTurk said the token was used. The bonus exists unless a refused call used the token up, and
   * the listing may lag: keep looking, back off, and after the confirmation window wait as
   * `unconfirmed` for the listing or an operator. Returns the bonus when listed, or undefined
   * when the operator asked for a new token. Never pays by itself.
   */
  private async confirmUsedToken(pending: ConfirmingState): Promise<SendBonusResult | undefined> {
    this.lastError = {
      type: 'TokenUsedNotListed',
      message:
        `MTurk says token ${this.token()} was used` +
        (pending.originalRequestId ? ` (request ${pending.originalRequestId})` : '') +
        ' but ListBonusPayments does not show the bonus yet',
    };
    const listed =
      (await this.lookWithinConfirmationWindow(pending)) ?? (await this.waitAsUnconfirmed(pending));
    return listed && this.foundByToken(pending, listed.grantTime);
  }

  /** Looks, backing off, until the window ends; the listing when it shows the bonus. */
  private async lookWithinConfirmationWindow(
    pending: ConfirmingState,
  ): Promise<{ grantTime?: string } | undefined> {
    const windowMs = durationMs(this.options.confirmationWindow ?? '15m');
    let delay = CONFIRM_FIRST_DELAY_MS;
    while (!pending.unconfirmed && Date.now() < pending.since + windowMs) {
      await sleep(Math.min(delay, Math.max(1, pending.since + windowMs - Date.now())));
      delay = Math.min(delay * 2, CONFIRM_MAX_DELAY_MS);
      const look = await this.lookUpBonus();
      if (look.listed) return look;
      await this.continueAsNewIfLong();
    }
    return undefined;
  }

  /**
   * Waits as `unconfirmed`, looking again at every re-check interval: the listing when it shows
   * the bonus, undefined when an operator asks to pay under a new token.
   */
  private async waitAsUnconfirmed(
    pending: ConfirmingState,
  ): Promise<{ grantTime?: string } | undefined> {
    pending.unconfirmed = true;
    this.enter('unconfirmed');
    log.warn('payment unconfirmed: token used, bonus not listed', {
      assignmentId: this.request.assignmentId,
      token: this.token(),
      originalRequestId: pending.originalRequestId,
    });
    for (;;) {
      const asked = await condition(
        () => this.newTokenAsked !== undefined,
        this.options.unconfirmedRecheckInterval ?? '1h',
      );
      if (asked) {
        log.warn('operator asked to pay under a new token', {
          assignmentId: this.request.assignmentId,
          token: this.token(),
          note: this.newTokenAsked?.note,
        });
        this.newTokenAsked = undefined;
        return undefined;
      }
      const look = await this.lookUpBonus();
      if (look.listed) return look;
      await this.continueAsNewIfLong();
    }
  }

  /** One look at the ledger while confirming; an unreachable MTurk counts as "not yet". */
  private async lookUpBonus(): Promise<{ listed: boolean; grantTime?: string }> {
    try {
      return await this.mturk.lookUpBonus({ ...this.sendInput(), otherReasons: this.otherReasons });
    } catch (err) {
      if (!isActivityTimeout(err)) throw err;
      this.lastError = describeFailure(err);
      return { listed: false };
    }
  }

  private foundByToken(pending: ConfirmingState, grantTime?: string): SendBonusResult {
    return {
      status: 'already-paid',
      amount: this.request.bonusAmount,
      token: this.token(),
      foundBy: 'token',
      foundAfterOwnAttempt: pending.afterOwnAttempt,
      ...(grantTime !== undefined && { grantTime }),
    };
  }

  /**
   * Tells the worker, at most once and only when this run paid: a bonus found paid before was an
   * earlier run's (or another tool's) to announce. Never fails or delays the payment.
   */
  private async notify(
    asked: BonusNotification,
    paid: SendBonusResult,
  ): Promise<PaymentNotification> {
    const { request } = this;
    const paidByThisRun = paid.status === 'paid' || paid.foundAfterOwnAttempt === true;
    if (!paidByThisRun) return { status: 'skipped' };
    try {
      const notifier = proxyActivities<ReturnType<typeof createNotifyActivities>>(
        notifyCallOptions(this.options),
      );
      const result = await notifier.notifyWorkers({
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
        error: describeFailure(err).message,
      });
      return { status: 'failed', failure: describeFailure(err).message };
    }
  }
}
