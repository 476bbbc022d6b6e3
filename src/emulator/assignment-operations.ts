/** ListAssignmentsForHIT, GetAssignment, ApproveAssignment and RejectAssignment. */
import { assignmentJson, assignmentOrThrow, autoApproveIfDue } from './assignments';
import type { Call } from './call';
import { timedRequestError, type ApiError } from './errors';
import { hitJson, hitOrThrow } from './hits';
import type { Input } from './model';
import { decodePageToken, DEFAULT_PAGE_SIZE, encodePageToken } from './page-token';
import type { ActionRec } from './records';

const DAY_MS = 24 * 60 * 60 * 1000;
/** How long after its submission MTurk lets a rejected assignment be approved after all. */
const OVERRIDE_WINDOW_MS = 30 * DAY_MS;

function notSubmitted(now: number): ApiError {
  return timedRequestError(
    'This operation can be called with a status of: Submitted',
    'AWS.MechanicalTurk.InvalidAssignmentState',
    now,
  );
}

export function listAssignments({ records, now }: Call, input: Input) {
  const hit = hitOrThrow(records, input.HITId as string, now);
  const statuses = input.AssignmentStatuses as string[] | undefined;
  const filter = statuses && statuses.length > 0 ? new Set(statuses) : null;
  const max = (input.MaxResults as number | undefined) ?? DEFAULT_PAGE_SIZE;
  const key = `A:${hit.id}:${filter ? [...filter].sort().join(',') : ''}`;
  let i = input.NextToken ? decodePageToken(input.NextToken as string, key) : 0;
  const page: ReturnType<typeof assignmentJson>[] = [];
  const ids = hit.assignmentIds;
  let next: string | undefined;
  for (; i < ids.length; i++) {
    const a = records.assignments.get(ids[i]!);
    if (!a) continue;
    autoApproveIfDue(records, a, now);
    if (filter && !filter.has(a.status)) continue;
    if (page.length === max) {
      next = encodePageToken(i, key);
      break;
    }
    page.push(assignmentJson(a));
  }
  return { NextToken: next, NumResults: page.length, Assignments: page };
}

export function getAssignment({ records, now }: Call, input: Input) {
  const a = assignmentOrThrow(records, input.AssignmentId as string, now);
  const hit = records.hits.get(a.hitId);
  return {
    Assignment: assignmentJson(a),
    HIT: hit ? hitJson(records, hit, now) : undefined,
  };
}

export function approveAssignment({ records, requestId, now }: Call, input: Input) {
  const a = assignmentOrThrow(records, input.AssignmentId as string, now);
  const override = input.OverrideRejection === true;
  if (a.status === 'Rejected' && override) {
    if (now - a.submitTime > OVERRIDE_WINDOW_MS) {
      throw timedRequestError(
        'A rejected assignment can only be approved within 30 days of submission.',
        'AWS.MechanicalTurk.InvalidAssignmentState',
        now,
      );
    }
  } else if (a.status !== 'Submitted') {
    throw notSubmitted(now);
  }
  const wasRejected = a.status === 'Rejected';
  a.status = 'Approved';
  a.approvalTime = now;
  const feedback = input.RequesterFeedback as string | undefined;
  if (feedback !== undefined) a.feedback = feedback;
  const rec: ActionRec = { assignmentId: a.id, time: now, requestId };
  if (feedback !== undefined) rec.feedback = feedback;
  if (wasRejected) rec.override = true;
  records.approvals.push(rec);
  records.touchAssignment(a.id);
  return {};
}

export function rejectAssignment({ records, requestId, now }: Call, input: Input) {
  const a = assignmentOrThrow(records, input.AssignmentId as string, now);
  if (a.status !== 'Submitted') throw notSubmitted(now);
  const feedback = input.RequesterFeedback as string;
  a.status = 'Rejected';
  a.rejectionTime = now;
  a.feedback = feedback;
  records.rejections.push({ assignmentId: a.id, time: now, requestId, feedback });
  records.touchAssignment(a.id);
  return {};
}
