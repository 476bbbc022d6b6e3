import { ApproveAssignmentCommand, type AssignmentStatus } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import type { ApproveAssignmentInput, ApproveAssignmentResult } from '../common/types';
import { validateApproveAssignmentInput } from '../common/validation';
import { assignmentStateRefusal } from '../mturk/errors';
import type { MTurkActivityContext } from './mturk-deps';
import { readAssignment } from './read-assignment';

/** ApproveAssignment refused for the assignment's current state; `failure` says which. */
class NotApprovableNow extends Error {
  constructor(readonly failure: ApplicationFailure) {
    super(failure.message);
  }
}

/**
 * Approves a submitted assignment, or a rejected one when `overrideRejection` is set.
 * Already approved (by an earlier attempt, another process or auto-approval) is success.
 */
export async function approveAssignment(
  mturk: MTurkActivityContext,
  input: ApproveAssignmentInput,
): Promise<ApproveAssignmentResult> {
  const request = validateApproveAssignmentInput(input);
  const { assignmentId } = request;
  await mturk.checkTarget(request.target);
  const started = mturk.now().getTime();

  // Nearly every assignment is still Submitted: approve straight away, and read its status
  // only when MTurk refuses (already approved, rejected, ...). One MTurk call instead of two
  // on the common path. With overrideRejection the status decides the flag, so read first.
  if (!request.overrideRejection) {
    try {
      return await approve(mturk, request, false, started);
    } catch (err) {
      if (!(err instanceof NotApprovableNow)) throw err;
    }
  }

  const assignment = await readAssignment(mturk.client, assignmentId);
  const status = assignment.AssignmentStatus;
  if (status === 'Approved') {
    mturk.logger().info('MTurk assignment already approved', { assignmentId, status });
    return { status: 'already-approved', assignmentId };
  }
  checkApprovable(request, status);

  try {
    return await approve(mturk, request, status === 'Rejected', started);
  } catch (err) {
    if (!(err instanceof NotApprovableNow)) throw err;
    // InvalidAssignmentState after we saw Submitted: someone (a concurrent attempt, an
    // earlier attempt whose answer was lost, auto-approval) may have approved it meanwhile.
    const current = await readAssignment(mturk.client, assignmentId);
    if (current.AssignmentStatus === 'Approved') {
      mturk.logger().info('MTurk assignment approved concurrently', { assignmentId });
      return { status: 'already-approved', assignmentId };
    }
    throw err.failure;
  }
}

/** Throws AssignmentNotApprovable unless the status (not Approved) can be approved. */
function checkApprovable(
  request: ApproveAssignmentInput,
  status: AssignmentStatus | undefined,
): void {
  const { assignmentId } = request;
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
}

/**
 * One ApproveAssignment call. Throws NotApprovableNow when MTurk refuses it for the
 * assignment's state (the caller reads the state), retryable errors as they are, and any
 * other refusal as its classified non-retryable failure.
 */
async function approve(
  mturk: MTurkActivityContext,
  request: ApproveAssignmentInput,
  overrideRejection: boolean,
  started: number,
): Promise<ApproveAssignmentResult> {
  const { assignmentId } = request;
  try {
    const output = await mturk.client.send(
      new ApproveAssignmentCommand({
        AssignmentId: assignmentId,
        RequesterFeedback: request.requesterFeedback,
        OverrideRejection: overrideRejection ? true : undefined,
      }),
    );
    const requestId = output.$metadata.requestId;
    mturk.logger().info('MTurk assignment approved', {
      assignmentId,
      overrideRejection,
      requestId,
      durationMs: mturk.now().getTime() - started,
    });
    return { status: 'approved', assignmentId, ...(requestId !== undefined && { requestId }) };
  } catch (err) {
    const refusal = assignmentStateRefusal(err, { operation: 'ApproveAssignment', assignmentId });
    throw new NotApprovableNow(refusal);
  }
}
