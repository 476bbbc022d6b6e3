/** HITs as MTurk keeps and shows them. */
import { autoApproveIfDue } from './assignments';
import { timedRequestError } from './errors';
import { newEntityId } from './ids';
import { formatCents } from './money';
import type { HitRec, Records } from './records';
import { epochSeconds } from './time';

/** MTurk's default AutoApprovalDelayInSeconds: 3 days. */
export const DEFAULT_AUTO_APPROVAL_S = 3 * 24 * 60 * 60;

export interface NewHit {
  title: string;
  description: string;
  rewardCents: number;
  maxAssignments: number;
  autoApprovalDelayS: number;
  assignmentDurationS: number;
  lifetimeS: number;
  question?: string;
  keywords?: string;
  annotation?: string;
}

export function addHit(records: Records, p: NewHit, now: number, id = newEntityId()): HitRec {
  const typeId = newEntityId();
  const hit: HitRec = {
    id,
    typeId,
    groupId: typeId,
    title: p.title,
    description: p.description,
    question: p.question,
    keywords: p.keywords,
    annotation: p.annotation,
    rewardCents: p.rewardCents,
    maxAssignments: p.maxAssignments,
    autoApprovalDelayS: p.autoApprovalDelayS,
    assignmentDurationS: p.assignmentDurationS,
    creationTime: now,
    expiration: now + p.lifetimeS * 1000,
    assignmentIds: [],
  };
  records.hits.set(id, hit);
  records.touchHit(id);
  return hit;
}

export function hitOrThrow(records: Records, id: string, now: number): HitRec {
  const hit = records.hits.get(id);
  if (!hit) {
    throw timedRequestError(`Hit ${id} does not exist.`, 'AWS.MechanicalTurk.HITDoesNotExist', now);
  }
  return hit;
}

export function hitJson(records: Records, h: HitRec, now: number) {
  let submitted = 0;
  let completed = 0;
  for (const id of h.assignmentIds) {
    const a = records.assignments.get(id);
    if (!a) continue;
    autoApproveIfDue(records, a, now);
    if (a.status === 'Submitted') submitted++;
    else completed++;
  }
  const available = Math.max(0, h.maxAssignments - h.assignmentIds.length);
  const status =
    available > 0 && now < h.expiration
      ? 'Assignable'
      : submitted > 0
        ? 'Reviewable'
        : 'Unassignable';
  return {
    HITId: h.id,
    HITTypeId: h.typeId,
    HITGroupId: h.groupId,
    CreationTime: epochSeconds(h.creationTime),
    Title: h.title,
    Description: h.description,
    Question: h.question,
    Keywords: h.keywords,
    HITStatus: status,
    MaxAssignments: h.maxAssignments,
    Reward: formatCents(h.rewardCents),
    AutoApprovalDelayInSeconds: h.autoApprovalDelayS,
    Expiration: epochSeconds(h.expiration),
    AssignmentDurationInSeconds: h.assignmentDurationS,
    RequesterAnnotation: h.annotation,
    QualificationRequirements: [],
    HITReviewStatus: 'NotReviewed',
    NumberOfAssignmentsPending: 0,
    NumberOfAssignmentsAvailable: available,
    NumberOfAssignmentsCompleted: completed,
  };
}
