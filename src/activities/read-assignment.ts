import { GetAssignmentCommand, type Assignment, type MTurkClient } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import { rethrowMTurkError } from '../mturk/errors';

/**
 * GetAssignment, classified: what approve and reject read first so that running them again is
 * safe. Throws a non-retryable AssignmentNotFound when MTurk answers without an assignment.
 */
export async function readAssignment(
  client: MTurkClient,
  assignmentId: string,
): Promise<Assignment> {
  let output;
  try {
    output = await client.send(new GetAssignmentCommand({ AssignmentId: assignmentId }));
  } catch (err) {
    rethrowMTurkError(err, { operation: 'GetAssignment', assignmentId });
  }
  if (!output.Assignment) {
    throw ApplicationFailure.create({
      type: FailureType.AssignmentNotFound,
      message: `GetAssignment returned no assignment for ${assignmentId}`,
      nonRetryable: true,
      details: [{ requestId: output.$metadata.requestId }],
    });
  }
  return output.Assignment;
}
