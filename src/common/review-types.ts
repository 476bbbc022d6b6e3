/**
 * The JSON contract of the `reviewHit` workflow: what the decision activity receives and
 * returns, and what a review reports. Pure types, like types.ts.
 */
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { ApproveAssignmentResult, SendBonusResult } from './types';
import type { ApproveAndBonusOptions } from './workflow-options';

export type AssignmentStatus = 'Submitted' | 'Approved' | 'Rejected';

/** One assignment as listed by `listSubmittedAssignments` and handed to the decision activity. */
export interface ReviewAssignment {
  assignmentId: string;
  workerId: string;
  hitId: string;
  status: AssignmentStatus;
  /** ISO 8601 times, when MTurk gives them. */
  acceptTime?: string;
  submitTime?: string;
  autoApprovalTime?: string;
  /** MTurk's QuestionFormAnswers XML, as given. */
  answer?: string;
}

export interface ListAssignmentsInput {
  hitId: string;
  nextToken?: string;
  /** Statuses to list; default `["Submitted"]` (what the activity's name says). */
  statuses?: AssignmentStatus[];
  /** 1-100 (MTurk's maximum); default 25, so pages with long answers stay small payloads. */
  pageSize?: number;
}

export interface ListAssignmentsResult {
  assignments: ReviewAssignment[];
  /** Absent on the last page. */
  nextToken?: string;
}

export interface RejectAssignmentInput {
  assignmentId: string;
  /** Required by MTurk for a rejection; shown to the worker. */
  requesterFeedback: string;
}

export interface RejectAssignmentResult {
  status: 'rejected' | 'already-rejected';
  assignmentId: string;
  requestId?: string;
}

/**
 * What the user's decision activity returns for one assignment.
 * - `approve`: approve only.
 * - `reject`: reject, with feedback the worker sees (MTurk requires it).
 * - `approve-and-bonus`: approve, then pay `bonusAmount` dollars exactly once (approveAndBonus).
 * - `skip`: leave the assignment as it is (a later review asks again).
 */
export type ReviewDecision =
  | { action: 'approve'; requesterFeedback?: string; overrideRejection?: boolean }
  | { action: 'reject'; requesterFeedback: string }
  | {
      action: 'approve-and-bonus';
      bonusAmount: string;
      reason: string;
      requesterFeedback?: string;
      overrideRejection?: boolean;
      bonusKey?: string;
    }
  | { action: 'skip' };

export type ReviewAction = ReviewDecision['action'];

/**
 * How one assignment ended in a review.
 * `done`: the decision was carried out (or had been, see `earlier`). `skipped`: decision `skip`.
 * `failed`: the decision activity failed, its answer was invalid, or carrying it out failed.
 */
export interface ReviewOutcome {
  assignmentId: string;
  workerId: string;
  /** Absent when no valid decision was obtained. */
  action?: ReviewAction;
  status: 'done' | 'skipped' | 'failed';
  /** The child workflow that carried the decision out. */
  workflowId?: string;
  /**
   * True when that workflow had been started before (an earlier review, payBonus, a batch):
   * its result is reported and nothing was done again.
   */
  earlier?: boolean;
  approval?: ApproveAssignmentResult;
  rejection?: RejectAssignmentResult;
  bonus?: SendBonusResult;
  error?: { type?: string; message: string };
}

export interface ReviewCounts {
  /** Assignments listed and not seen before in this review. */
  listed: number;
  /** Outcomes so far. */
  finished: number;
  approved: number;
  rejected: number;
  bonused: number;
  skipped: number;
  failed: number;
  /** Outcomes that came from a workflow started before this review. */
  earlier: number;
}

export interface ReviewHitResult {
  hitId: string;
  counts: ReviewCounts;
  /** Sum of the bonuses in `outcomes`, dollars (paid by this review or found paid earlier). */
  bonusTotal: string;
  outcomes: ReviewOutcome[];
}

export interface ReviewProgress {
  hitId: string;
  state: 'listing' | 'reviewing' | 'completed';
  /** Decisions being made or carried out right now. */
  inFlight: number;
  pagesListed: number;
  counts: ReviewCounts;
}

export interface ReviewHitInput {
  hitId: string;
  /** Name of the user's activity `(assignment: ReviewAssignment) => Promise<ReviewDecision>`. */
  decisionActivity: string;
  /** Task queue of the user's worker that runs the decision activity. */
  decisionTaskQueue: string;
  /** Statuses to review; default `["Submitted"]`. Add "Approved" to bonus approved work. */
  statuses?: AssignmentStatus[];
  /** Assignments per listing page, 1-100; default 25. */
  pageSize?: number;
  /** Assignments being decided or carried out at once, 1-100; default 10. */
  concurrency?: number;
  /** Limit of one decision attempt; default 1 minute. */
  decisionStartToCloseTimeout?: Duration;
  /** Retry policy of the decision activity; default 5 attempts, 1 s doubling to 1 minute. */
  decisionRetry?: RetryPolicy;
  /** Passed to every approveAndBonus child (retry tuning, maximum bonus, funds re-check). */
  paymentOptions?: ApproveAndBonusOptions;
  /** Task queue of the children (a temporal-mturk worker); default this workflow's. */
  taskQueue?: string;
  /** Give payments the MTurk* search attributes; only when registered on the namespace. */
  searchAttributes?: boolean;
  /** Continue-as-new between assignments once a run's history has this many events (default 8000). */
  continueAsNewAfterEvents?: number;
  /** @internal carried across continue-as-new */
  carried?: ReviewHitCarriedState;
}

/** State carried across continue-as-new; not for callers. */
export interface ReviewHitCarriedState {
  seen: string[];
  outcomes: ReviewOutcome[];
  omitted: ReviewCounts;
  bonusCents: number;
  pagesListed: number;
}
