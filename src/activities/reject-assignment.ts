import { RejectAssignmentCommand } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType, invalidBonusRequest, type ValidationIssue } from '../common/errors';
import type { RejectAssignmentInput, RejectAssignmentResult } from '../common/review-types';
import { checkAssignmentId, checkRequesterFeedback } from '../common/validation';
import { assignmentStateRefusal } from '../mturk/errors';
import { readAssignment } from './read-assignment';
import type { ReviewMTurkContext } from './review-deps';

/**
 * Rejects a submitted assignment. Already rejected (by an earlier attempt whose answer was
 * lost, or by anyone else) is success, as approving twice is in approveAssignment.
 */
export async function rejectAssignment(
  mturk: ReviewMTurkContext,
  input: RejectAssignmentInput,
): Promise<RejectAssignmentResult> {
  const feedback = checkRejectInput(input);
  const { assignmentId } = input;

  const before = await readAssignment(mturk.client, assignmentId);
  if (before.AssignmentStatus === 'Rejected') {
    mturk.logger().info('MTurk assignment already rejected', { assignmentId });
    return { status: 'already-rejected', assignmentId };
  }
  if (before.AssignmentStatus !== 'Submitted') {
    throw notRejectable(assignmentId, before.AssignmentStatus);
  }
  try {
    const output = await mturk.client.send(
      new RejectAssignmentCommand({ AssignmentId: assignmentId, RequesterFeedback: feedback }),
    );
    const requestId = output.$metadata.requestId;
    mturk.logger().info('MTurk assignment rejected', { assignmentId, requestId });
    return { status: 'rejected', assignmentId, ...(requestId !== undefined && { requestId }) };
  } catch (err) {
    assignmentStateRefusal(err, { operation: 'RejectAssignment', assignmentId });
    // Wrong state after we saw Submitted: an earlier attempt may have rejected it meanwhile.
    const current = await readAssignment(mturk.client, assignmentId);
    if (current.AssignmentStatus === 'Rejected') {
      return { status: 'already-rejected', assignmentId };
    }
    throw notRejectable(assignmentId, current.AssignmentStatus);
  }
}

/**
 * The trimmed feedback to send; throws InvalidBonusRequest listing the issues. Feedback is
 * required: the worker sees it.
 */
function checkRejectInput(input: RejectAssignmentInput): string {
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
  if (issues.length > 0) throw invalidBonusRequest(issues);
  return feedback;
}

function notRejectable(assignmentId: string, status: string | undefined): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.AssignmentNotRejectable,
    message: `Assignment ${assignmentId} has status ${String(status)}, which cannot be rejected`,
    nonRetryable: true,
    details: [{ assignmentId, assignmentStatus: status ?? null }],
  });
}
