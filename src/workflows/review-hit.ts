import {
  ApplicationFailure,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ReviewActivities } from '../activities';
import { FailureType, type ValidationIssue } from '../common/errors';
import { describeFailure } from '../common/failures';
import { parseDollarsToCents } from '../common/money';
import type {
  ReviewAssignment,
  ReviewHitInput,
  ReviewHitResult,
  ReviewOutcome,
  ReviewProgress,
} from '../common/review-types';
import { MTurkAssignmentId, MTurkBonusState, MTurkWorkerId } from '../common/search-attributes';
import type { ApproveAndBonusResult, ApproveAssignmentResult } from '../common/types';
import { checkHitId } from '../common/validation';
import { approvalWorkflowId, bonusWorkflowId, rejectionWorkflowId } from '../common/workflow-ids';
import { awaitingCallOptions, retryPolicy } from './activity-options';
import { approveAndBonus } from './approve-and-bonus';
import { approveAssignment, rejectAssignment } from './assignment-actions';
import { checkDecision } from './review-decision';
import { ReviewState } from './review-state';

/** Counts and state of a running (or finished) review. */
export const reviewProgressQuery = defineQuery<ReviewProgress>('progress');

const DEFAULT_CONCURRENCY = 10;
const MAX_CONCURRENCY = 100;
/** Continue-as-new between assignments once a run's history is this long. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 8_000;
const EXISTING_WAIT_SECONDS = 300;

function invalidReview(issues: ValidationIssue[]): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.InvalidReviewRequest,
    message: `Invalid review request: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`,
    nonRetryable: true,
    details: [{ issues }],
  });
}

function validateInput(input: ReviewHitInput): void {
  const issues: ValidationIssue[] = [];
  const hitProblem = typeof input.hitId === 'string' ? checkHitId(input.hitId) : 'is required';
  if (hitProblem) issues.push({ field: 'hitId', message: hitProblem });
  for (const field of ['decisionActivity', 'decisionTaskQueue'] as const) {
    if (typeof input[field] !== 'string' || input[field].trim() === '') {
      issues.push({ field, message: 'must be a non-empty string' });
    }
  }
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    issues.push({ field: 'concurrency', message: `must be an integer 1-${MAX_CONCURRENCY}` });
  }
  const every = input.continueAsNewAfterEvents;
  if (every !== undefined && (!Number.isInteger(every) || every < 1)) {
    issues.push({ field: 'continueAsNewAfterEvents', message: 'must be a positive integer' });
  }
  if (issues.length > 0) throw invalidReview(issues);
}

/**
 * Reviews the assignments of one HIT: lists them page by page, asks the user's decision
 * activity (by name, on the user's task queue) what to do with each, and carries each decision
 * out as a child workflow, at most `concurrency` assignments at a time:
 * - `approve` → `approveAssignment` with ID approvalWorkflowId(assignmentId);
 * - `reject` → `rejectAssignment` with ID rejectionWorkflowId(assignmentId);
 * - `approve-and-bonus` → `approveAndBonus` with ID bonusWorkflowId(assignmentId, bonusKey).
 *
 * Children are started with REJECT_DUPLICATE: when the ID was ever used (an earlier review,
 * payBonus, a batch), nothing is started again and the review reports what that workflow did,
 * waiting for it if it still runs. So re-running a review never pays anyone twice. Children
 * are ABANDONed when the review closes: a payment in flight finishes regardless.
 *
 * Listing again after changing statuses may shift MTurk's pages, so the review remembers the
 * assignments it has seen and, when the listing had several pages, lists once more until a
 * pass finds nothing new.
 */
export async function reviewHit(input: ReviewHitInput): Promise<ReviewHitResult> {
  validateInput(input);
  const concurrency = input.concurrency ?? DEFAULT_CONCURRENCY;
  const paymentOptions = input.paymentOptions ?? {};
  const maxBonusCents =
    paymentOptions.maxBonusAmount === undefined
      ? undefined
      : parseDollarsToCents(paymentOptions.maxBonusAmount);
  const childTaskQueue = input.taskQueue ?? workflowInfo().taskQueue;
  const continueAsNewAfter = input.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
  const retry = retryPolicy(paymentOptions);
  const activities = proxyActivities<ReviewActivities>(
    awaitingCallOptions(EXISTING_WAIT_SECONDS, {
      ...retry,
      nonRetryableErrorTypes: Object.values(FailureType),
    }),
  );
  // The user's activity, looked up by name on the user's task queue.
  const decide = proxyActivities<
    Record<string, (assignment: ReviewAssignment) => Promise<unknown>>
  >({
    taskQueue: input.decisionTaskQueue,
    startToCloseTimeout: input.decisionStartToCloseTimeout ?? '1m',
    retry: input.decisionRetry ?? { ...retry, maximumAttempts: 5 },
  })[input.decisionActivity]!;

  const review = new ReviewState(input.hitId, input.carried);
  setHandler(reviewProgressQuery, () => review.progress());

  /**
   * Starts the child, or, when its ID was used before, reports what that workflow did.
   * `read` turns a result into outcome fields, or a conflict message when the existing
   * workflow did something other than this decision asks.
   */
  async function carryOut(
    base: ReviewOutcome,
    workflowId: string,
    start: () => Promise<{ result(): Promise<unknown> }>,
    read: (result: unknown, earlier: boolean) => Partial<ReviewOutcome> | string,
  ): Promise<ReviewOutcome> {
    const withResult = (result: unknown, earlier: boolean): ReviewOutcome => {
      const fields = read(result, earlier);
      if (typeof fields === 'string') {
        return { ...base, earlier, status: 'failed', error: { type: 'Conflict', message: fields } };
      }
      return { ...base, ...(earlier && { earlier }), status: 'done', ...fields };
    };
    for (let attempt = 0; ; attempt++) {
      let child;
      try {
        child = await start();
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const found = await awaitExisting(workflowId);
        if (found.kind === 'completed') return withResult(found.result, true);
        if (found.kind === 'failed') {
          return {
            ...base,
            earlier: true,
            status: 'failed',
            error: {
              ...(found.type && { type: found.type }),
              message: `an earlier workflow ${workflowId} ended ${found.status}: ${found.message}`,
            },
          };
        }
        // Gone between our start and the lookup (e.g. past retention): start again.
        if (attempt >= 2) {
          return {
            ...base,
            status: 'failed',
            error: { message: `${workflowId} could not be started or found` },
          };
        }
        continue;
      }
      try {
        return withResult(await child.result(), false);
      } catch (err) {
        return { ...base, status: 'failed', error: describeFailure(err) };
      }
    }
  }

  async function awaitExisting(workflowId: string) {
    for (;;) {
      const found = await activities.workflowOutcome({
        workflowId,
        waitSeconds: EXISTING_WAIT_SECONDS,
      });
      if (found.kind !== 'running') return found;
    }
  }

  const childOptions = (workflowId: string) => ({
    workflowId,
    taskQueue: childTaskQueue,
    parentClosePolicy: ParentClosePolicy.ABANDON,
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  });

  async function reviewOne(a: ReviewAssignment): Promise<ReviewOutcome> {
    const base: ReviewOutcome = {
      assignmentId: a.assignmentId,
      workerId: a.workerId,
      status: 'failed',
    };
    let raw: unknown;
    try {
      raw = await decide(a);
    } catch (err) {
      return { ...base, error: describeFailure(err) };
    }
    const checked = checkDecision(raw, a, maxBonusCents);
    if (!checked.ok) {
      return {
        ...base,
        error: { type: FailureType.InvalidReviewDecision, message: checked.message },
      };
    }
    const decision = checked.decision;
    const decided = { ...base, action: decision.action };
    switch (decision.action) {
      case 'skip':
        return { ...decided, status: 'skipped' };
      case 'approve': {
        const workflowId = approvalWorkflowId(a.assignmentId);
        const { action: _a, ...request } = decision;
        return carryOut(
          { ...decided, workflowId },
          workflowId,
          () =>
            startChild(approveAssignment, {
              ...childOptions(workflowId),
              args: [{ ...request, assignmentId: a.assignmentId, options: paymentOptions }],
            }),
          (result) => ({ approval: result as ApproveAssignmentResult }),
        );
      }
      case 'reject': {
        const workflowId = rejectionWorkflowId(a.assignmentId);
        return carryOut(
          { ...decided, workflowId },
          workflowId,
          () =>
            startChild(rejectAssignment, {
              ...childOptions(workflowId),
              args: [
                {
                  assignmentId: a.assignmentId,
                  requesterFeedback: decision.requesterFeedback,
                  options: paymentOptions,
                },
              ],
            }),
          (result) => ({ rejection: result as Awaited<ReturnType<typeof rejectAssignment>> }),
        );
      }
      case 'approve-and-bonus': {
        const workflowId = bonusWorkflowId(a.assignmentId, decision.bonusKey);
        const { action: _a, ...payment } = decision;
        return carryOut(
          { ...decided, workflowId },
          workflowId,
          () =>
            startChild(approveAndBonus, {
              ...childOptions(workflowId),
              args: [
                {
                  ...payment,
                  assignmentId: a.assignmentId,
                  workerId: a.workerId,
                  options: paymentOptions,
                },
              ],
              ...(input.searchAttributes && {
                typedSearchAttributes: [
                  { key: MTurkAssignmentId, value: a.assignmentId },
                  { key: MTurkWorkerId, value: a.workerId },
                  { key: MTurkBonusState, value: 'started' },
                ],
              }),
            }),
          (value, earlier) => {
            const result = value as ApproveAndBonusResult;
            // The same workflow ID paid another amount or worker (e.g. an earlier review
            // decided differently): report it, pay nothing more.
            if (
              earlier &&
              (result.workerId !== a.workerId ||
                parseDollarsToCents(result.bonus.amount) !==
                  parseDollarsToCents(payment.bonusAmount))
            ) {
              return (
                `${workflowId} already paid ${result.bonus.amount} to ${result.workerId}; this ` +
                `decision asks ${payment.bonusAmount}. Nothing more was paid (give the decision ` +
                'a bonusKey to pay another bonus for the same assignment)'
              );
            }
            return {
              ...(result.approval && { approval: result.approval }),
              bonus: result.bonus,
            };
          },
        );
      }
    }
  }

  do {
    review.startPass();
    let nextToken: string | undefined;
    do {
      review.listing();
      const page = await activities.listSubmittedAssignments({
        hitId: input.hitId,
        ...(nextToken !== undefined && { nextToken }),
        ...(input.statuses && { statuses: input.statuses }),
        ...(input.pageSize !== undefined && { pageSize: input.pageSize }),
      });
      review.pageListed();
      nextToken = page.nextToken;
      for (const a of page.assignments) {
        if (!review.isNew(a)) continue;
        await condition(() => review.inFlight < concurrency);
        if (workflowInfo().historyLength > continueAsNewAfter) {
          // Let the window empty so nothing is lost, then start over with what we know; the
          // next run lists again and skips what it has seen.
          await condition(() => review.inFlight === 0);
          await continueAsNew<typeof reviewHit>({ ...input, carried: review.carried() });
        }
        review.admit(a);
        void review.track(a, reviewOne);
      }
    } while (nextToken !== undefined);
    await condition(() => review.inFlight === 0);
  } while (review.needsAnotherPass());
  return review.complete();
}
