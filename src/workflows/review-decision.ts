/**
 * The user's decision activity answers with whatever it likes: its answer is checked as strictly
 * as any other input before a child workflow acts on it. Pure (no commands).
 */
import type { ValidationIssue } from '../common/errors';
import type { ReviewAction, ReviewAssignment, ReviewDecision } from '../common/review-types';
import {
  checkApproveAndBonusInput,
  checkApproveAssignmentInput,
  checkRequesterFeedback,
} from '../common/validation';

const ACTIONS: readonly ReviewAction[] = ['approve', 'reject', 'approve-and-bonus', 'skip'];
/** Fields each decision may carry besides `action`; anything else is a mistake worth reporting. */
const DECISION_FIELDS: Record<ReviewAction, readonly string[]> = {
  approve: ['requesterFeedback', 'overrideRejection'],
  reject: ['requesterFeedback'],
  'approve-and-bonus': [
    'bonusAmount',
    'reason',
    'requesterFeedback',
    'overrideRejection',
    'bonusKey',
  ],
  skip: [],
};

export type DecisionCheck = { ok: true; decision: ReviewDecision } | { ok: false; message: string };

/** The decision as the child will get it, checked as strictly as any other input. */
export function checkDecision(
  raw: unknown,
  a: ReviewAssignment,
  maxBonusCents?: number,
): DecisionCheck {
  const fail = (message: string): DecisionCheck => ({ ok: false, message });
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return fail(`must be an object with an "action", got ${JSON.stringify(raw) ?? typeof raw}`);
  }
  const { action, ...fields } = raw as Record<string, unknown>;
  if (typeof action !== 'string' || !ACTIONS.includes(action as ReviewAction)) {
    return fail(`action must be one of ${ACTIONS.join(', ')}, got ${JSON.stringify(action)}`);
  }
  const known = DECISION_FIELDS[action as ReviewAction];
  const unknown = Object.keys(fields).filter((k) => !known.includes(k));
  if (unknown.length > 0) return fail(`unknown field(s) for ${action}: ${unknown.join(', ')}`);
  const issues = (list: ValidationIssue[]) =>
    fail(list.map((i) => `${i.field}: ${i.message}`).join('; '));

  switch (action as ReviewAction) {
    case 'skip':
      return { ok: true, decision: { action: 'skip' } };
    case 'approve': {
      const checked = checkApproveAssignmentInput({ ...fields, assignmentId: a.assignmentId });
      if (!checked.ok) return issues(checked.issues);
      const { assignmentId: _id, ...rest } = checked.value;
      return { ok: true, decision: { action: 'approve', ...rest } };
    }
    case 'reject': {
      const feedback = fields.requesterFeedback;
      const text = typeof feedback === 'string' ? feedback.trim() : '';
      const problem =
        text === '' ? 'is required to reject (the worker sees it)' : checkRequesterFeedback(text);
      if (problem) return fail(`requesterFeedback: ${problem}`);
      return { ok: true, decision: { action: 'reject', requesterFeedback: text } };
    }
    case 'approve-and-bonus': {
      const checked = checkApproveAndBonusInput(
        { ...fields, assignmentId: a.assignmentId, workerId: a.workerId },
        { maxBonusCents },
      );
      if (!checked.ok) return issues(checked.issues);
      const {
        assignmentId: _id,
        workerId: _w,
        bonusCents: _c,
        skipApproval: _s,
        ...rest
      } = checked.value;
      return { ok: true, decision: { action: 'approve-and-bonus', ...rest } };
    }
  }
}
