/**
 * Activities of the reviewHit workflow: list a HIT's assignments, reject one idempotently, and
 * report what an already started workflow did (workflow code cannot look at other workflows).
 *
 * Same factory pattern as mturk-activities.ts: the worker injects its one MTurkClient.
 */
import {
  ListAssignmentsForHITCommand,
  RejectAssignmentCommand,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { Context, log as activityLog } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { FailureType, invalidBonusRequest, type ValidationIssue } from '../common/errors';
import { classifyMTurkError, rethrowMTurkError } from '../mturk/errors';
import type {
  AssignmentStatus,
  ListAssignmentsInput,
  ListAssignmentsResult,
  RejectAssignmentInput,
  RejectAssignmentResult,
  ReviewAssignment,
} from '../common/review-types';
import { checkAssignmentId, checkHitId, checkRequesterFeedback } from '../common/validation';
import { readAssignment } from './read-assignment';
import {
  awaitWorkflowOutcome,
  type WorkflowOutcome,
  type WorkflowOutcomeInput,
} from './workflow-outcome';

export type { WorkflowOutcome, WorkflowOutcomeInput };

export interface ReviewActivityDeps {
  /** The process's one MTurkClient (see createMTurkClient). */
  client: MTurkClient;
  /**
   * Client for `workflowOutcome`; default the worker's own (`Context.current().client`), so a
   * worker needs no second connection.
   */
  temporal?: Client;
  /** Defaults to the activity logger of @temporalio/activity. */
  logger?: Logger;
}

const STATUSES: readonly AssignmentStatus[] = ['Submitted', 'Approved', 'Rejected'];
const DEFAULT_PAGE_SIZE = 25;

function iso(date: Date | undefined): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

function invalid(issues: ValidationIssue[]): ApplicationFailure {
  return invalidBonusRequest(issues);
}

export function createReviewActivities(deps: ReviewActivityDeps) {
  const { client } = deps;
  const logger = (): Logger => deps.logger ?? activityLog;

  /**
   * One page of a HIT's assignments in the given statuses (default: Submitted). Listing only
   * reads, so retrying it is always safe.
   */
  async function listSubmittedAssignments(
    input: ListAssignmentsInput,
  ): Promise<ListAssignmentsResult> {
    const issues: ValidationIssue[] = [];
    const hitProblem = checkHitId(input.hitId);
    if (hitProblem) issues.push({ field: 'hitId', message: hitProblem });
    const statuses = input.statuses ?? ['Submitted'];
    if (statuses.length === 0 || statuses.some((s) => !STATUSES.includes(s))) {
      issues.push({ field: 'statuses', message: `must be some of ${STATUSES.join(', ')}` });
    }
    const pageSize = input.pageSize ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
      issues.push({ field: 'pageSize', message: 'must be an integer 1-100' });
    }
    if (issues.length > 0) throw invalid(issues);

    let output;
    try {
      output = await client.send(
        new ListAssignmentsForHITCommand({
          HITId: input.hitId,
          AssignmentStatuses: statuses,
          MaxResults: pageSize,
          NextToken: input.nextToken,
        }),
      );
    } catch (err) {
      rethrowMTurkError(err, { operation: 'ListAssignmentsForHIT' });
    }
    const assignments = (output.Assignments ?? []).flatMap((a): ReviewAssignment[] => {
      if (!a.AssignmentId || !a.WorkerId || !a.AssignmentStatus) return [];
      return [
        {
          assignmentId: a.AssignmentId,
          workerId: a.WorkerId,
          hitId: a.HITId ?? input.hitId,
          status: a.AssignmentStatus as AssignmentStatus,
          ...(iso(a.AcceptTime) && { acceptTime: iso(a.AcceptTime) }),
          ...(iso(a.SubmitTime) && { submitTime: iso(a.SubmitTime) }),
          ...(iso(a.AutoApprovalTime) && { autoApprovalTime: iso(a.AutoApprovalTime) }),
          ...(a.Answer !== undefined && { answer: a.Answer }),
        },
      ];
    });
    logger().info('MTurk assignments listed', {
      hitId: input.hitId,
      count: assignments.length,
      more: Boolean(output.NextToken),
    });
    return {
      assignments,
      ...(output.NextToken &&
        output.NextToken !== input.nextToken && { nextToken: output.NextToken }),
    };
  }

  function notRejectable(assignmentId: string, status: string | undefined): ApplicationFailure {
    return ApplicationFailure.create({
      type: FailureType.AssignmentNotRejectable,
      message: `Assignment ${assignmentId} has status ${String(status)}, which cannot be rejected`,
      nonRetryable: true,
      details: [{ assignmentId, assignmentStatus: status ?? null }],
    });
  }

  /**
   * Rejects a submitted assignment. Already rejected (by an earlier attempt whose answer was
   * lost, or by anyone else) is success, as approving twice is in approveAssignment.
   */
  async function rejectAssignment(input: RejectAssignmentInput): Promise<RejectAssignmentResult> {
    const issues: ValidationIssue[] = [];
    const idProblem = checkAssignmentId(input.assignmentId);
    if (idProblem) issues.push({ field: 'assignmentId', message: idProblem });
    const feedback =
      typeof input.requesterFeedback === 'string' ? input.requesterFeedback.trim() : '';
    const feedbackProblem =
      feedback.length === 0
        ? 'is required to reject (the worker sees it)'
        : checkRequesterFeedback(feedback);
    if (feedbackProblem) issues.push({ field: 'requesterFeedback', message: feedbackProblem });
    if (issues.length > 0) throw invalid(issues);
    const { assignmentId } = input;

    const before = await readAssignment(client, assignmentId);
    if (before.AssignmentStatus === 'Rejected') {
      logger().info('MTurk assignment already rejected', { assignmentId });
      return { status: 'already-rejected', assignmentId };
    }
    if (before.AssignmentStatus !== 'Submitted') {
      throw notRejectable(assignmentId, before.AssignmentStatus);
    }
    try {
      const output = await client.send(
        new RejectAssignmentCommand({ AssignmentId: assignmentId, RequesterFeedback: feedback }),
      );
      const requestId = output.$metadata.requestId;
      logger().info('MTurk assignment rejected', { assignmentId, requestId });
      return { status: 'rejected', assignmentId, ...(requestId !== undefined && { requestId }) };
    } catch (err) {
      const classification = classifyMTurkError(err, {
        operation: 'RejectAssignment',
        assignmentId,
      });
      if (classification.retryable) throw err;
      // Wrong state after we saw Submitted: an earlier attempt may have rejected it meanwhile.
      if (classification.failure.type === FailureType.AssignmentNotApprovable) {
        const current = await readAssignment(client, assignmentId);
        if (current.AssignmentStatus === 'Rejected') {
          return { status: 'already-rejected', assignmentId };
        }
        throw notRejectable(assignmentId, current.AssignmentStatus);
      }
      throw classification.failure;
    }
  }

  /** What another workflow did, waiting while it runs (see awaitWorkflowOutcome). */
  async function workflowOutcome(input: WorkflowOutcomeInput): Promise<WorkflowOutcome> {
    return awaitWorkflowOutcome(deps.temporal ?? Context.current().client, input);
  }

  return { listSubmittedAssignments, rejectAssignment, workflowOutcome };
}

export type ReviewActivities = ReturnType<typeof createReviewActivities>;
