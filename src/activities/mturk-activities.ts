/**
 * The MTurk activities: approve an assignment and pay a bonus, each safe to run again.
 *
 * Temporal retries an activity whenever it cannot tell whether the last attempt finished (a
 * crash, a timeout, a dropped response). Each activity therefore first finds out whether its
 * work is already done on MTurk and only then acts:
 * - approveAssignment reads the assignment's status before approving;
 * - sendBonus looks the payment up in ListBonusPayments before every SendBonus, and always
 *   sends the workflow's UniqueRequestToken (MTurk refuses a second payment with the same token
 *   for 24 hours); a duplicate-token answer is confirmed on the ledger, never paid past.
 *
 * Built as a factory over an injected MTurkClient (the samples-typescript pattern), so the
 * worker builds one client and tests point a real client at the emulator.
 */
import {
  ApproveAssignmentCommand,
  GetAccountBalanceCommand,
  ListBonusPaymentsCommand,
  SendBonusCommand,
  type BonusPayment,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { Context, log as activityLog } from '@temporalio/activity';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { FailureType } from '../common/errors';
import { readAssignment } from './read-assignment';
import {
  describeLedgerEntry,
  listedAmountCents,
  matchLedger,
  type LedgerEntry,
} from '../common/ledger-match';
import { formatCents } from '../common/money';
import { sameTarget, targetOfClient } from '../mturk/client';
import { classifyMTurkError, isDuplicateTokenError, rethrowMTurkError } from '../mturk/errors';
import type {
  ApproveAssignmentInput,
  ApproveAssignmentResult,
  FoundBy,
  MTurkTargetBinding,
  SendBonusInput,
  SendBonusResult,
} from '../common/types';
import {
  validateApproveAssignmentInput,
  validateSendBonusInput,
  type ValidatedSendBonusInput,
} from '../common/validation';

export interface MTurkActivityDeps {
  /** The process's one MTurkClient (see createMTurkClient). */
  client: MTurkClient;
  /** Defaults to the activity logger of @temporalio/activity. */
  logger?: Logger;
  /** Largest bonus sendBonus pays, in cents; default DEFAULT_MAX_BONUS_CENTS ($100.00). */
  maxBonusCents?: number;
  /** Clock for log timings; default `() => new Date()`. */
  now?: () => Date;
  /**
   * The MTurk this worker pays into, for refusing payments confirmed for another one. Default:
   * read from the client's endpoint (production and sandbox hosts by name, anything else local).
   */
  target?: MTurkTargetBinding;
}

/** sendBonus's heartbeat details: the token of a SendBonus this attempt sent. */
interface SendBonusHeartbeat {
  sent?: string;
}

/** A sendBonus input, plus reasons an older run of the payment may have sent (matched too). */
export type LookUpBonusInput = SendBonusInput & { otherReasons?: string[] };

export interface LookUpBonusResult {
  /** The bonus is on MTurk's ledger. */
  listed: boolean;
  grantTime?: string;
}

/**
 * `otherReasons` apart from the sendBonus fields, which validation checks (a caller's input
 * that is not even an object is left whole for validation to refuse as such).
 */
function splitOtherReasons(input: LookUpBonusInput): {
  otherReasons?: readonly string[];
  send: unknown;
} {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { send: input };
  const { otherReasons, ...send } = input;
  const reasons = Array.isArray(otherReasons)
    ? otherReasons.filter((r): r is string => typeof r === 'string')
    : undefined;
  return { otherReasons: reasons, send };
}

/** The request ID in MTurk's duplicate-token message ("... (request ID abc-123)"). */
function requestIdIn(message: string): string | undefined {
  return /request ?id[:\s]+([A-Za-z0-9-]{8,})/i.exec(message)?.[1];
}

export interface AccountBalance {
  /** Dollars, e.g. "10000.00". */
  availableBalance: string;
  onHoldBalance?: string;
}

/** ListBonusPayments page size: MTurk's maximum. */
const BONUS_PAGE_SIZE = 100;
/** 100 pages of 100 bonuses for one assignment is far beyond real use: stop rather than loop. */
const MAX_BONUS_PAGES = 100;

/** ApproveAssignment refused for the assignment's current state; `failure` says which. */
class NotApprovableNow extends Error {
  constructor(readonly failure: ApplicationFailure) {
    super(failure.message);
  }
}

export function createMTurkActivities(deps: MTurkActivityDeps) {
  const { client } = deps;
  const now = deps.now ?? (() => new Date());
  // Resolved per call: the activity logger is only usable inside an activity's context.
  const logger = (): Logger => deps.logger ?? activityLog;

  /**
   * Approves a submitted assignment, or a rejected one when `overrideRejection` is set.
   * Already approved (by an earlier attempt, another process or auto-approval) is success.
   */
  async function approveAssignment(
    input: ApproveAssignmentInput,
  ): Promise<ApproveAssignmentResult> {
    const request = validateApproveAssignmentInput(input);
    const { assignmentId } = request;
    await checkTarget(request.target);
    const started = now().getTime();

    // Nearly every assignment is still Submitted: approve straight away, and read its status
    // only when MTurk refuses (already approved, rejected, ...). One MTurk call instead of two
    // on the common path. With overrideRejection the status decides the flag, so read first.
    if (!request.overrideRejection) {
      try {
        return await approve(request, false, started);
      } catch (err) {
        if (!(err instanceof NotApprovableNow)) throw err;
      }
    }

    const assignment = await readAssignment(client, assignmentId);
    const status = assignment.AssignmentStatus;
    if (status === 'Approved') {
      logger().info('MTurk assignment already approved', { assignmentId, status });
      return { status: 'already-approved', assignmentId };
    }
    if (status === 'Rejected' && !request.overrideRejection) {
      throw ApplicationFailure.create({
        type: FailureType.AssignmentNotApprovable,
        message:
          `Assignment ${assignmentId} was rejected; approve it only with overrideRejection: true ` +
          '(MTurk allows that within 30 days of submission, while the HIT exists)',
        nonRetryable: true,
        details: [{ assignmentId, assignmentStatus: status }],
      });
    }
    if (status !== 'Submitted' && status !== 'Rejected') {
      throw ApplicationFailure.create({
        type: FailureType.AssignmentNotApprovable,
        message: `Assignment ${assignmentId} has status ${String(status)}, which cannot be approved`,
        nonRetryable: true,
        details: [{ assignmentId, assignmentStatus: status ?? null }],
      });
    }

    try {
      return await approve(request, status === 'Rejected', started);
    } catch (err) {
      if (!(err instanceof NotApprovableNow)) throw err;
      // InvalidAssignmentState after we saw Submitted: someone (a concurrent attempt, an
      // earlier attempt whose answer was lost, auto-approval) may have approved it meanwhile.
      const current = await readAssignment(client, assignmentId);
      if (current.AssignmentStatus === 'Approved') {
        logger().info('MTurk assignment approved concurrently', { assignmentId });
        return { status: 'already-approved', assignmentId };
      }
      throw err.failure;
    }
  }

  /**
   * One ApproveAssignment call. Throws NotApprovableNow when MTurk refuses it for the
   * assignment's state (the caller reads the state), retryable errors as they are, and any
   * other refusal as its classified non-retryable failure.
   */
  async function approve(
    request: ApproveAssignmentInput,
    overrideRejection: boolean,
    started: number,
  ): Promise<ApproveAssignmentResult> {
    const { assignmentId } = request;
    try {
      const output = await client.send(
        new ApproveAssignmentCommand({
          AssignmentId: assignmentId,
          RequesterFeedback: request.requesterFeedback,
          OverrideRejection: overrideRejection ? true : undefined,
        }),
      );
      const requestId = output.$metadata.requestId;
      logger().info('MTurk assignment approved', {
        assignmentId,
        overrideRejection,
        requestId,
        durationMs: now().getTime() - started,
      });
      return { status: 'approved', assignmentId, ...(requestId !== undefined && { requestId }) };
    } catch (err) {
      const classification = classifyMTurkError(err, {
        operation: 'ApproveAssignment',
        assignmentId,
      });
      if (classification.retryable) throw err;
      if (classification.failure.type === FailureType.AssignmentNotApprovable) {
        throw new NotApprovableNow(classification.failure);
      }
      throw classification.failure;
    }
  }

  /**
   * Every bonus ListBonusPayments lists for the assignment (all pages). A partial listing could
   * make "not paid" look true, so one that does not end fails the attempt instead.
   */
  async function listBonuses(assignmentId: string): Promise<BonusPayment[]> {
    const listed: BonusPayment[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_BONUS_PAGES; page++) {
      let output;
      try {
        output = await client.send(
          new ListBonusPaymentsCommand({
            AssignmentId: assignmentId,
            MaxResults: BONUS_PAGE_SIZE,
            NextToken: nextToken,
          }),
        );
      } catch (err) {
        rethrowMTurkError(err, { operation: 'ListBonusPayments', assignmentId });
      }
      listed.push(...(output.BonusPayments ?? []));
      if (!output.NextToken || output.NextToken === nextToken) return listed;
      nextToken = output.NextToken;
    }
    // Retryable, so it shows up in the workflow's history rather than paying blind.
    throw new Error(
      `ListBonusPayments for assignment ${assignmentId} did not end after ${MAX_BONUS_PAGES} pages`,
    );
  }

  /** What MTurk's ledger lists for this payment (see ledger-match.ts for the rules). */
  async function lookUp(request: ValidatedSendBonusInput, otherReasons?: readonly string[]) {
    return matchLedger(await listBonuses(request.assignmentId), {
      assignmentId: request.assignmentId,
      workerId: request.workerId,
      bonusCents: request.bonusCents,
      reason: request.reason,
      bonusKey: request.bonusKey,
      otherReasons,
    });
  }

  function paymentConflict(
    request: ValidatedSendBonusInput,
    entries: LedgerEntry[],
  ): ApplicationFailure {
    const place = request.bonusKey
      ? `bonus key ${request.bonusKey}`
      : 'its one unkeyed bonus (give a deliberate second bonus a bonusKey)';
    return ApplicationFailure.create({
      type: FailureType.PaymentConflict,
      message:
        `MTurk already lists a bonus for assignment ${request.assignmentId} and worker ` +
        `${request.workerId} in the place of ${place}: ${entries.map(describeLedgerEntry).join('; ')}. ` +
        `This payment (${request.bonusAmount} ${JSON.stringify(request.reason)}) was not sent.`,
      nonRetryable: true,
      details: [
        { assignmentId: request.assignmentId, workerId: request.workerId, listed: entries },
      ],
    });
  }

  /** Refuses a payment confirmed for another MTurk than this worker's, before any call. */
  async function checkTarget(binding: MTurkTargetBinding | undefined): Promise<void> {
    if (binding === undefined) return;
    const own = await ownTarget();
    if (sameTarget(binding, own)) return;
    throw ApplicationFailure.create({
      type: FailureType.TargetMismatch,
      message:
        `This payment was confirmed for MTurk ${binding.name} at ${binding.endpoint}, but this ` +
        `worker pays into MTurk ${own.name} at ${own.endpoint}; nothing was sent`,
      nonRetryable: true,
      details: [{ confirmedFor: binding, worker: own }],
    });
  }

  /**
   * Pays a bonus at most once. First, always, the ledger: whatever started this run (a retry, a
   * reset, a restart of the workflow ID, a rerun after Temporal forgot the workflow, another
   * tool) only MTurk's ledger knows what was paid. Then SendBonus with the workflow's token.
   * Returns `paid`, `already-paid` or `token-used-unconfirmed` (see SendBonusResult); throws
   * PaymentConflict when the ledger holds another bonus in this payment's place.
   */
  async function sendBonus(input: LookUpBonusInput): Promise<SendBonusResult> {
    const { otherReasons, send } = splitOtherReasons(input);
    const request = validateSendBonusInput(send, { maxBonusCents: deps.maxBonusCents });
    const { assignmentId, workerId, uniqueRequestToken: token, bonusAmount: amount } = request;
    await checkTarget(request.target);
    const context = Context.current();
    const attempt = context.info.attempt;
    const started = now().getTime();
    const logFields = { assignmentId, workerId, amount, token, attempt };
    // This run may already have paid: an earlier attempt of this activity that got as far as
    // sending (it said so in a heartbeat), or an earlier call (the workflow says).
    const sentBefore = (context.info.heartbeatDetails as SendBonusHeartbeat | undefined)?.sent;
    const ownAttemptBefore = sentBefore === token || request.priorPaymentPossible === true;

    const before = await lookUp(request, otherReasons);
    if (before.kind === 'conflict') throw paymentConflict(request, before.entries);
    if (before.kind === 'paid') {
      logger().info('MTurk bonus already paid (found in ListBonusPayments)', {
        ...logFields,
        status: 'already-paid',
      });
      return alreadyPaid(request, 'listing', ownAttemptBefore, before.entry);
    }

    // Recorded before the call: a retry that then finds the bonus knows this run may have paid it.
    context.heartbeat({ sent: token } satisfies SendBonusHeartbeat);
    try {
      const output = await client.send(
        new SendBonusCommand({
          WorkerId: workerId,
          AssignmentId: assignmentId,
          BonusAmount: amount,
          Reason: request.reason,
          UniqueRequestToken: token,
        }),
      );
      const requestId = output.$metadata.requestId;
      logger().info('MTurk bonus paid', {
        ...logFields,
        status: 'paid',
        requestId,
        durationMs: now().getTime() - started,
      });
      return { status: 'paid', amount, token, ...(requestId !== undefined && { requestId }) };
    } catch (err) {
      if (!isDuplicateTokenError(err)) {
        const classification = classifyMTurkError(err, { operation: 'SendBonus', assignmentId });
        logger().warn('MTurk SendBonus failed', {
          ...logFields,
          retryable: classification.retryable,
          error: classification.retryable ? classification.reason : classification.failure.message,
        });
        if (classification.retryable) throw err;
        throw classification.failure;
      }
      // MTurk says a call with this token exists: the bonus was paid, by this run or an earlier
      // one. Confirm it on the ledger; if the listing does not show it yet, say so and let the
      // workflow keep checking. Never a reason to pay under another token.
      const after = await lookUp(request, otherReasons);
      if (after.kind === 'conflict') throw paymentConflict(request, after.entries);
      if (after.kind === 'paid') {
        logger().info('MTurk bonus already paid (token used, payment listed)', {
          ...logFields,
          status: 'already-paid',
        });
        return alreadyPaid(request, 'token', ownAttemptBefore, after.entry);
      }
      const mturkMessage = err instanceof Error ? err.message : String(err);
      const originalRequestId = requestIdIn(mturkMessage);
      logger().warn('MTurk token used but the payment is not listed yet', {
        ...logFields,
        status: 'token-used-unconfirmed',
        originalRequestId,
      });
      return {
        status: 'token-used-unconfirmed',
        amount,
        token,
        foundAfterOwnAttempt: ownAttemptBefore,
        ...(originalRequestId !== undefined && { originalRequestId }),
      };
    }
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

  /**
   * Only the ledger lookup of {@link sendBonus}, never a payment: the workflow asks it while it
   * waits for a lagging listing to show a bonus whose token MTurk says was used.
   */
  async function lookUpBonus(input: LookUpBonusInput): Promise<LookUpBonusResult> {
    const { otherReasons, send } = splitOtherReasons(input);
    const request = validateSendBonusInput(send, { maxBonusCents: deps.maxBonusCents });
    await checkTarget(request.target);
    const found = await lookUp(request, otherReasons);
    if (found.kind === 'conflict') throw paymentConflict(request, found.entries);
    return found.kind === 'paid'
      ? {
          listed: true,
          ...(found.entry.grantTime !== undefined && { grantTime: found.entry.grantTime }),
        }
      : { listed: false };
  }

  /** The account balance, for checking that bonus plus fee is covered before paying. */
  async function getAccountBalance(): Promise<AccountBalance> {
    let output;
    try {
      output = await client.send(new GetAccountBalanceCommand({}));
    } catch (err) {
      rethrowMTurkError(err, { operation: 'GetAccountBalance' });
    }
    const available = normaliseDollars(output.AvailableBalance);
    if (available === undefined) {
      // A malformed answer is more likely a glitch than a permanent state: let Temporal retry.
      throw new Error(
        `GetAccountBalance returned no usable AvailableBalance (${JSON.stringify(output.AvailableBalance)})`,
      );
    }
    const onHold = normaliseDollars(output.OnHoldBalance);
    return { availableBalance: available, ...(onHold !== undefined && { onHoldBalance: onHold }) };
  }

  /** Resolved once: the MTurk this worker's client talks to. */
  let ownTargetPromise: Promise<MTurkTargetBinding> | undefined;
  function ownTarget(): Promise<MTurkTargetBinding> {
    ownTargetPromise ??= deps.target
      ? Promise.resolve(deps.target)
      : targetOfClient(client).catch((err: unknown) => {
          ownTargetPromise = undefined;
          throw err;
        });
    return ownTargetPromise;
  }

  function normaliseDollars(value: string | undefined): string | undefined {
    const cents = listedAmountCents(value);
    return cents === undefined ? undefined : formatCents(cents);
  }

  return { approveAssignment, sendBonus, lookUpBonus, getAccountBalance };
}

export type MTurkActivities = ReturnType<typeof createMTurkActivities>;
