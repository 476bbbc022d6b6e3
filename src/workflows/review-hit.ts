import {
  ApplicationFailure,
  condition,
  continueAsNew,
  defineQuery,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ReviewActivities } from '../activities';
import { FailureType, type ValidationIssue } from '../common/errors';
import type {
  ListAssignmentsResult,
  ReviewHitInput,
  ReviewHitResult,
  ReviewProgress,
} from '../common/review-types';
import { checkHitId } from '../common/validation';
import { checkApproveAndBonusOptions } from '../common/workflow-options';
import { AssignmentReviewer, reviewActivities } from './review-assignment';
import { ReviewState } from './review-state';

/** Counts and state of a running (or finished) review. */
export const reviewProgressQuery = defineQuery<ReviewProgress>('progress');

const DEFAULT_CONCURRENCY = 10;
const MAX_CONCURRENCY = 100;
/** Continue-as-new between assignments once a run's history is this long. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 8_000;

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
  if (input.paymentOptions !== undefined) issues.push(...paymentOptionIssues(input.paymentOptions));
  if (issues.length > 0) throw invalidReview(issues);
}

/**
 * The payments' own option checks, named as the review's fields. Checked up front: a bad
 * maxBonusAmount would otherwise throw later inside the workflow task (a plain Error, which
 * Temporal retries forever) instead of failing the review with InvalidReviewRequest.
 */
function paymentOptionIssues(options: unknown): ValidationIssue[] {
  try {
    checkApproveAndBonusOptions(options);
    return [];
  } catch (err) {
    const details = err instanceof ApplicationFailure ? err.details?.[0] : undefined;
    const issues = (details as { issues?: ValidationIssue[] } | undefined)?.issues ?? [
      { field: 'options', message: String(err) },
    ];
    return issues.map((i) => ({ ...i, field: i.field.replace(/^options/, 'paymentOptions') }));
  }
}

/** Not async: the listing is scheduled in the caller's own step (see reviewHit). */
function listPage(
  activities: ReviewActivities,
  input: ReviewHitInput,
  nextToken: string | undefined,
): Promise<ListAssignmentsResult> {
  return activities.listSubmittedAssignments({
    hitId: input.hitId,
    ...(nextToken !== undefined && { nextToken }),
    ...(input.statuses && { statuses: input.statuses }),
    ...(input.pageSize !== undefined && { pageSize: input.pageSize }),
  });
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
  const continueAsNewAfter = input.continueAsNewAfterEvents ?? CONTINUE_AS_NEW_AFTER_EVENTS;
  const activities = reviewActivities(input.paymentOptions);
  const reviewer = new AssignmentReviewer(input, activities);
  const review = new ReviewState(input.hitId, input.carried);
  setHandler(reviewProgressQuery, () => review.progress());

  // Every await of the loop is in this one function: replay compares the order of commands, and
  // an async helper between an await and the next command could move that command past those
  // of assignments in flight in the same workflow task.
  do {
    review.startPass();
    let nextToken: string | undefined;
    do {
      review.listing();
      const page = await listPage(activities, input, nextToken);
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
        void review.track(a, (assignment) => reviewer.review(assignment));
      }
    } while (nextToken !== undefined);
    await condition(() => review.inFlight === 0);
  } while (review.needsAnotherPass());
  return review.complete();
}
