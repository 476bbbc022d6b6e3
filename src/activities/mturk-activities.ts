/**
 * The MTurk activities: approve an assignment and pay a bonus, each safe to run again.
 *
 * Temporal retries an activity whenever it cannot tell whether the last attempt finished (a
 * crash, a timeout, a dropped response). Each activity therefore first finds out whether its
 * work is already done on MTurk and only then acts:
 * - approveAssignment reads the assignment's status before approving;
 * - sendBonus always sends a UniqueRequestToken (MTurk refuses a second payment with the same
 *   token for 24 hours), and on a retry, or when the workflow says an earlier payment may exist,
 *   looks the payment up in ListBonusPayments before paying.
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
import { FailureType } from '../errors';
import { readAssignment } from './read-assignment';
import { formatCents, tryParseDollarsToCents } from '../money';
import { classifyMTurkError, isDuplicateTokenError, rethrowMTurkError } from '../mturk-errors';
import type {
  ApproveAssignmentInput,
  ApproveAssignmentResult,
  SendBonusInput,
  SendBonusResult,
} from '../types';
import {
  validateApproveAssignmentInput,
  validateSendBonusInput,
  type ValidatedSendBonusInput,
} from '../validation';

export interface MTurkActivityDeps {
  /** The process's one MTurkClient (see createMTurkClient). */
  client: MTurkClient;
  /** Defaults to the activity logger of @temporalio/activity. */
  logger?: Logger;
  /** Largest bonus sendBonus pays, in cents; default DEFAULT_MAX_BONUS_CENTS ($100.00). */
  maxBonusCents?: number;
  /** Clock for log timings; default `() => new Date()`. */
  now?: () => Date;
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

  /** Amounts as MTurk lists them; tolerates the "5." its own pattern allows. */
  function listedAmountCents(amount: string | undefined): number | undefined {
    if (amount === undefined) return undefined;
    const parsed = tryParseDollarsToCents(amount.trim().replace(/\.$/, ''));
    return parsed.ok ? parsed.cents : undefined;
  }

  function isOurPayment(payment: BonusPayment, request: ValidatedSendBonusInput): boolean {
    return (
      payment.AssignmentId === request.assignmentId &&
      payment.WorkerId === request.workerId &&
      listedAmountCents(payment.BonusAmount) === request.bonusCents &&
      (payment.Reason ?? '').trim() === request.reason
    );
  }

  /**
   * Looks for a bonus matching this request in ListBonusPayments. MTurk does not list the
   * token, so a match is the same assignment, worker, amount (in cents) and trimmed reason.
   */
  async function findPayment(request: ValidatedSendBonusInput): Promise<BonusPayment | undefined> {
    const { assignmentId } = request;
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
      const match = (output.BonusPayments ?? []).find((p) => isOurPayment(p, request));
      if (match) return match;
      if (!output.NextToken || output.NextToken === nextToken) return undefined;
      nextToken = output.NextToken;
    }
    // Concluding "not paid" from a partial listing could pay twice: fail the attempt instead
    // (retryable, so it shows up in the workflow's history rather than paying blind).
    throw new Error(
      `ListBonusPayments for assignment ${assignmentId} did not end after ${MAX_BONUS_PAGES} pages`,
    );
  }

  /**
   * Pays a bonus at most once per token, and not again when a matching payment is listed.
   * Returns `paid`, `already-paid` or `token-used-unconfirmed` (see SendBonusResult).
   */
  async function sendBonus(input: SendBonusInput): Promise<SendBonusResult> {
    const request = validateSendBonusInput(input, { maxBonusCents: deps.maxBonusCents });
    const { assignmentId, workerId, uniqueRequestToken: token, bonusAmount: amount } = request;
    const attempt = Context.current().info.attempt;
    const started = now().getTime();
    const logFields = { assignmentId, workerId, amount, token, attempt };

    // A retry may follow a call that paid but whose answer was lost; and past MTurk's 24-hour
    // token memory, or with a new token, only the listing can tell us.
    if (attempt > 1 || request.priorPaymentPossible) {
      const prior = await findPayment(request);
      if (prior) {
        logger().info('MTurk bonus already paid (found in ListBonusPayments)', {
          ...logFields,
          status: 'already-paid',
        });
        return { status: 'already-paid', amount, token };
      }
    }

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
      // MTurk says this token was already used: find out whether that call paid this bonus.
      const prior = await findPayment(request);
      if (prior) {
        logger().info('MTurk bonus already paid (token reused, payment listed)', {
          ...logFields,
          status: 'already-paid',
        });
        return { status: 'already-paid', amount, token };
      }
      // Used token, no matching payment: do not guess. The workflow decides (new token).
      logger().warn('MTurk token used but no matching payment listed', {
        ...logFields,
        status: 'token-used-unconfirmed',
        mturkMessage: err instanceof Error ? err.message : String(err),
      });
      return { status: 'token-used-unconfirmed', amount, token };
    }
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

  function normaliseDollars(value: string | undefined): string | undefined {
    const cents = listedAmountCents(value);
    return cents === undefined ? undefined : formatCents(cents);
  }

  return { approveAssignment, sendBonus, getAccountBalance };
}

export type MTurkActivities = ReturnType<typeof createMTurkActivities>;
