/**
 * How a review handles one assignment: asks the user's decision activity, checks the answer and
 * carries it out as a child workflow with a deterministic ID, or reports what the workflow that
 * already had that ID did.
 *
 * Replay compares the order of commands, and several assignments' decisions can arrive in one
 * workflow task. So `review` awaits the decision itself and the per-action steps are not async:
 * a child starts in the microtask its decision arrives in, and an extra async layer would move
 * it past other assignments' commands.
 */
import {
  type ChildWorkflowOptions,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { ReviewActivities, WorkflowOutcome } from '../activities';
import { FailureType } from '../common/errors';
import { describeFailure } from '../common/failures';
import { parseDollarsToCents } from '../common/money';
import type {
  RejectAssignmentResult,
  ReviewAssignment,
  ReviewDecision,
  ReviewHitInput,
  ReviewOutcome,
} from '../common/review-types';
import type { ApproveAndBonusResult, ApproveAssignmentResult } from '../common/types';
import type { ApproveAndBonusOptions } from '../common/workflow-options';
import { approvalWorkflowId, bonusWorkflowId, rejectionWorkflowId } from '../common/workflow-ids';
import { awaitingCallOptions, retryPolicy } from './activity-options';
import { approveAndBonus } from './approve-and-bonus';
import { approveAssignment, rejectAssignment } from './assignment-actions';
import { paymentSearchAttributes } from './payment-child';
import { checkDecision } from './review-decision';

const EXISTING_WAIT_SECONDS = 300;

type ChildOptions = Pick<
  ChildWorkflowOptions,
  'workflowId' | 'taskQueue' | 'parentClosePolicy' | 'workflowIdReusePolicy'
>;

type Decision<A extends ReviewDecision['action']> = Extract<ReviewDecision, { action: A }>;

/**
 * Outcome fields from a child's result, or a conflict message when an existing workflow did
 * something other than this decision asks.
 */
type ReadResult = (result: unknown, earlier: boolean) => Partial<ReviewOutcome> | string;

/** The review's own activities: MTurk listing and lookups of earlier workflows. */
export function reviewActivities(paymentOptions: ApproveAndBonusOptions = {}): ReviewActivities {
  return proxyActivities<ReviewActivities>(
    awaitingCallOptions(EXISTING_WAIT_SECONDS, {
      ...retryPolicy(paymentOptions),
      nonRetryableErrorTypes: Object.values(FailureType),
    }),
  );
}

/** The user's activity, looked up by name on the user's task queue. */
function decisionActivity(input: ReviewHitInput): (a: ReviewAssignment) => Promise<unknown> {
  return proxyActivities<Record<string, (assignment: ReviewAssignment) => Promise<unknown>>>({
    taskQueue: input.decisionTaskQueue,
    startToCloseTimeout: input.decisionStartToCloseTimeout ?? '1m',
    retry: input.decisionRetry ?? {
      ...retryPolicy(input.paymentOptions ?? {}),
      maximumAttempts: 5,
    },
  })[input.decisionActivity]!;
}

function withResult(
  base: ReviewOutcome,
  read: ReadResult,
  result: unknown,
  earlier: boolean,
): ReviewOutcome {
  const fields = read(result, earlier);
  if (typeof fields === 'string') {
    return { ...base, earlier, status: 'failed', error: { type: 'Conflict', message: fields } };
  }
  return { ...base, ...(earlier && { earlier }), status: 'done', ...fields };
}

function earlierFailure(
  base: ReviewOutcome,
  workflowId: string,
  found: Extract<WorkflowOutcome, { kind: 'failed' }>,
): ReviewOutcome {
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

/**
 * An existing payment with this workflow ID that paid another amount or worker (e.g. an earlier
 * review decided differently) is a conflict: reported, nothing more paid.
 */
function readPayment(a: ReviewAssignment, workflowId: string, bonusAmount: string): ReadResult {
  return (value, earlier) => {
    const result = value as ApproveAndBonusResult;
    if (
      earlier &&
      (result.workerId !== a.workerId ||
        parseDollarsToCents(result.bonus.amount) !== parseDollarsToCents(bonusAmount))
    ) {
      return (
        `${workflowId} already paid ${result.bonus.amount} to ${result.workerId}; this ` +
        `decision asks ${bonusAmount}. Nothing more was paid (give the decision ` +
        'a bonusKey to pay another bonus for the same assignment)'
      );
    }
    return {
      ...(result.approval && { approval: result.approval }),
      bonus: result.bonus,
    };
  };
}

export class AssignmentReviewer {
  private readonly decide: (a: ReviewAssignment) => Promise<unknown>;
  private readonly paymentOptions: ApproveAndBonusOptions;
  private readonly maxBonusCents: number | undefined;
  private readonly childTaskQueue: string;
  private readonly searchAttributes: boolean;

  constructor(
    input: ReviewHitInput,
    private readonly activities: ReviewActivities,
  ) {
    this.paymentOptions = input.paymentOptions ?? {};
    this.maxBonusCents =
      this.paymentOptions.maxBonusAmount === undefined
        ? undefined
        : parseDollarsToCents(this.paymentOptions.maxBonusAmount);
    this.childTaskQueue = input.taskQueue ?? workflowInfo().taskQueue;
    this.decide = decisionActivity(input);
    this.searchAttributes = input.searchAttributes ?? false;
  }

  /** Decides one assignment and carries the decision out; a failed decision is an outcome. */
  async review(a: ReviewAssignment): Promise<ReviewOutcome> {
    const base: ReviewOutcome = {
      assignmentId: a.assignmentId,
      workerId: a.workerId,
      status: 'failed',
    };
    let raw: unknown;
    try {
      raw = await this.decide(a);
    } catch (err) {
      return { ...base, error: describeFailure(err) };
    }
    const checked = checkDecision(raw, a, this.maxBonusCents);
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
      case 'approve':
        return this.approve(a, decision, decided);
      case 'reject':
        return this.reject(a, decision, decided);
      case 'approve-and-bonus':
        return this.approveAndBonus(a, decision, decided);
    }
  }

  private approve(
    a: ReviewAssignment,
    decision: Decision<'approve'>,
    decided: ReviewOutcome,
  ): Promise<ReviewOutcome> {
    const { action: _a, ...request } = decision;
    return this.startOrFind(
      decided,
      approvalWorkflowId(a.assignmentId),
      (options) =>
        startChild(approveAssignment, {
          ...options,
          args: [{ ...request, assignmentId: a.assignmentId, options: this.paymentOptions }],
        }),
      (result) => ({ approval: result as ApproveAssignmentResult }),
    );
  }

  private reject(
    a: ReviewAssignment,
    decision: Decision<'reject'>,
    decided: ReviewOutcome,
  ): Promise<ReviewOutcome> {
    return this.startOrFind(
      decided,
      rejectionWorkflowId(a.assignmentId),
      (options) =>
        startChild(rejectAssignment, {
          ...options,
          args: [
            {
              assignmentId: a.assignmentId,
              requesterFeedback: decision.requesterFeedback,
              options: this.paymentOptions,
            },
          ],
        }),
      (result) => ({ rejection: result as RejectAssignmentResult }),
    );
  }

  private approveAndBonus(
    a: ReviewAssignment,
    decision: Decision<'approve-and-bonus'>,
    decided: ReviewOutcome,
  ): Promise<ReviewOutcome> {
    const workflowId = bonusWorkflowId(a.assignmentId, decision.bonusKey);
    const { action: _a, ...payment } = decision;
    return this.startOrFind(
      decided,
      workflowId,
      (options) =>
        startChild(approveAndBonus, {
          ...options,
          args: [
            {
              ...payment,
              assignmentId: a.assignmentId,
              workerId: a.workerId,
              options: this.paymentOptions,
            },
          ],
          ...paymentSearchAttributes(this.searchAttributes, a),
        }),
      readPayment(a, workflowId, payment.bonusAmount),
    );
  }

  /**
   * REJECT_DUPLICATE: an ID used before (an earlier review, payBonus, a batch) starts nothing
   * again. ABANDON: a payment in flight finishes whatever happens to the review.
   */
  private childOptions(workflowId: string): ChildOptions {
    return {
      workflowId,
      taskQueue: this.childTaskQueue,
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    };
  }

  /** Starts the child, or, when its ID was used before, reports what that workflow did. */
  private async startOrFind(
    decided: ReviewOutcome,
    workflowId: string,
    start: (options: ChildOptions) => Promise<{ result(): Promise<unknown> }>,
    read: ReadResult,
  ): Promise<ReviewOutcome> {
    const base = { ...decided, workflowId };
    for (let attempt = 0; ; attempt++) {
      let child;
      try {
        child = await start(this.childOptions(workflowId));
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        const found = await this.awaitExisting(workflowId);
        if (found.kind === 'completed') return withResult(base, read, found.result, true);
        if (found.kind === 'failed') return earlierFailure(base, workflowId, found);
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
        return withResult(base, read, await child.result(), false);
      } catch (err) {
        return { ...base, status: 'failed', error: describeFailure(err) };
      }
    }
  }

  private async awaitExisting(workflowId: string) {
    for (;;) {
      const found = await this.activities.workflowOutcome({
        workflowId,
        waitSeconds: EXISTING_WAIT_SECONDS,
      });
      if (found.kind !== 'running') return found;
    }
  }
}
