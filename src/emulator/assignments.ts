/** Assignments as MTurk keeps and shows them, and their auto-approval. */
import { timedRequestError } from './errors';
import type { AsgRec, Records } from './records';
import { epochSeconds } from './time';

/**
 * MTurk approves a submitted assignment by itself once its AutoApprovalTime passes. The emulator
 * does so lazily, whenever the assignment is looked at.
 */
export function autoApproveIfDue(records: Records, a: AsgRec, now: number): void {
  if (a.status === 'Submitted' && now >= a.autoApprovalTime) {
    a.status = 'Approved';
    a.approvalTime = a.autoApprovalTime;
    records.approvals.push({
      assignmentId: a.id,
      time: a.autoApprovalTime,
      requestId: null,
      auto: true,
    });
    records.touchAssignment(a.id);
  }
}

/** Look up an assignment, applying auto-approval if its AutoApprovalTime has passed. */
export function assignmentOrThrow(records: Records, id: string, now: number): AsgRec {
  const a = records.assignments.get(id);
  if (!a) {
    throw timedRequestError(
      `Assignment ${id} does not exist.`,
      'AWS.MechanicalTurk.AssignmentDoesNotExist',
      now,
    );
  }
  autoApproveIfDue(records, a, now);
  return a;
}

export function assignmentJson(a: AsgRec) {
  return {
    AssignmentId: a.id,
    WorkerId: a.workerId,
    HITId: a.hitId,
    AssignmentStatus: a.status,
    AutoApprovalTime: epochSeconds(a.autoApprovalTime),
    AcceptTime: epochSeconds(a.acceptTime),
    SubmitTime: epochSeconds(a.submitTime),
    ApprovalTime: a.approvalTime === undefined ? undefined : epochSeconds(a.approvalTime),
    RejectionTime: a.rejectionTime === undefined ? undefined : epochSeconds(a.rejectionTime),
    Deadline: epochSeconds(a.deadline),
    Answer: a.answer,
    RequesterFeedback: a.feedback,
  };
}
