import { ListAssignmentsForHITCommand, type Assignment } from '@aws-sdk/client-mturk';
import { invalidBonusRequest, type ValidationIssue } from '../common/errors';
import type {
  AssignmentStatus,
  ListAssignmentsInput,
  ListAssignmentsResult,
  ReviewAssignment,
} from '../common/review-types';
import { checkHitId } from '../common/validation';
import { rethrowMTurkError } from '../mturk/errors';
import type { ReviewMTurkContext } from './review-deps';

const STATUSES: readonly AssignmentStatus[] = ['Submitted', 'Approved', 'Rejected'];
const DEFAULT_PAGE_SIZE = 25;

/**
 * One page of a HIT's assignments in the given statuses (default: Submitted). Listing only
 * reads, so retrying it is always safe.
 */
export async function listSubmittedAssignments(
  mturk: ReviewMTurkContext,
  input: ListAssignmentsInput,
): Promise<ListAssignmentsResult> {
  const { statuses, pageSize } = checkListInput(input);
  let output;
  try {
    output = await mturk.client.send(
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
  const assignments = (output.Assignments ?? []).flatMap((a) => reviewAssignment(a, input.hitId));
  mturk.logger().info('MTurk assignments listed', {
    hitId: input.hitId,
    count: assignments.length,
    more: Boolean(output.NextToken),
  });
  return {
    assignments,
    // A token that repeats the one asked with would list the same page forever.
    ...(output.NextToken &&
      output.NextToken !== input.nextToken && { nextToken: output.NextToken }),
  };
}

/** The statuses and page size to list, with defaults; throws InvalidBonusRequest listing issues. */
function checkListInput(input: ListAssignmentsInput): {
  statuses: AssignmentStatus[];
  pageSize: number;
} {
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
  if (issues.length > 0) throw invalidBonusRequest(issues);
  return { statuses, pageSize };
}

/** The listed assignment as the review sees it; none when MTurk left out an ID or status. */
function reviewAssignment(a: Assignment, hitId: string): ReviewAssignment[] {
  if (!a.AssignmentId || !a.WorkerId || !a.AssignmentStatus) return [];
  return [
    {
      assignmentId: a.AssignmentId,
      workerId: a.WorkerId,
      hitId: a.HITId ?? hitId,
      status: a.AssignmentStatus as AssignmentStatus,
      ...(iso(a.AcceptTime) && { acceptTime: iso(a.AcceptTime) }),
      ...(iso(a.SubmitTime) && { submitTime: iso(a.SubmitTime) }),
      ...(iso(a.AutoApprovalTime) && { autoApprovalTime: iso(a.AutoApprovalTime) }),
      ...(a.Answer !== undefined && { answer: a.Answer }),
    },
  ];
}

function iso(date: Date | undefined): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}
