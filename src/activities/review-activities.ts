/**
 * Activities of the reviewHit workflow: list a HIT's assignments, reject one idempotently, and
 * report what an already started workflow did (workflow code cannot look at other workflows).
 *
 * Same factory pattern as mturk-activities.ts: the worker injects its one MTurkClient, and each
 * MTurk activity lives in its own module as a plain function of the deps.
 */
import { Context } from '@temporalio/activity';
import type { ListAssignmentsInput, RejectAssignmentInput } from '../common/review-types';
import { listSubmittedAssignments } from './list-assignments';
import { rejectAssignment } from './reject-assignment';
import { reviewMTurkContext, type ReviewActivityDeps } from './review-deps';
import {
  awaitWorkflowOutcome,
  type WorkflowOutcome,
  type WorkflowOutcomeInput,
} from './workflow-outcome';

export type { ReviewActivityDeps } from './review-deps';
export type { WorkflowOutcome, WorkflowOutcomeInput };

export function createReviewActivities(deps: ReviewActivityDeps) {
  const mturk = reviewMTurkContext(deps);
  return {
    listSubmittedAssignments: (input: ListAssignmentsInput) =>
      listSubmittedAssignments(mturk, input),
    rejectAssignment: (input: RejectAssignmentInput) => rejectAssignment(mturk, input),
    /** What another workflow did, waiting while it runs (see awaitWorkflowOutcome). */
    async workflowOutcome(input: WorkflowOutcomeInput): Promise<WorkflowOutcome> {
      return awaitWorkflowOutcome(deps.temporal ?? Context.current().client, input);
    },
  };
}

export type ReviewActivities = ReturnType<typeof createReviewActivities>;
