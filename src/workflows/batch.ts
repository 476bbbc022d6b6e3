import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  setHandler,
} from '@temporalio/workflow';
import { invalidBonusRequest, type ValidationIssue } from '../common/errors';
import type { ApproveAndBonusInput } from '../common/types';
import {
  checkApproveAndBonusInput,
  checkBonusNotification,
  checkTargetBinding,
  type ValidationLimits,
} from '../common/validation';
import { checkApproveAndBonusOptions, durationIssue } from '../common/workflow-options';
import { fundsAddedSignal } from './approve-and-bonus';
import { BatchState } from './batch-state';
import { DEFAULT_CONTINUE_AS_NEW_EVERY, PaymentWindow } from './batch-window';
import {
  DEFAULT_BATCH_CONCURRENCY,
  MAX_BATCH_CONCURRENCY,
  MAX_BATCH_ROWS,
  batchRowWorkflowId,
  decodeBatchRow,
  type BatchProgress,
  type BatchProgressRequest,
  type PayBatchInput,
  type PayBatchResult,
} from '../common/batch';

/** Counts and (a page of) per-row results. Query it while running or after completion. */
export const progressQuery = defineQuery<BatchProgress, [BatchProgressRequest?]>('progress');
/**
 * Same name and meaning as approveAndBonus's signal: the balance was topped up. The batch
 * forwards it to every payment in flight, so those waiting for funds try again at once.
 */
export { fundsAddedSignal };

const MAX_LISTED_ISSUES = 20;

/** One row, checked and normalised as its payment will check it ("5" → "5.00", trimmed). */
function checkRow(
  row: ApproveAndBonusInput,
  limits: ValidationLimits,
): { ok: true; value: ApproveAndBonusInput } | { ok: false; issues: ValidationIssue[] } {
  const checked = checkApproveAndBonusInput(row, limits);
  if (!checked.ok) return checked;
  // The child gets the request as a caller would send it: bonusCents is the checker's own.
  const { bonusCents: _cents, ...value } = checked.value;
  return { ok: true, value };
}

/** Every row checked as the payment will check it, plus one payment per workflow ID. */
function validateBatch(input: PayBatchInput): ApproveAndBonusInput[] {
  if (!Array.isArray(input.rows) || !Array.isArray(input.texts)) {
    throw invalidBonusRequest([{ field: 'rows', message: 'rows and texts must be arrays' }]);
  }
  if (input.rows.length === 0 || input.rows.length > MAX_BATCH_ROWS) {
    throw invalidBonusRequest([
      { field: 'rows', message: `must hold 1-${MAX_BATCH_ROWS} rows, got ${input.rows.length}` },
    ]);
  }
  const issues: ValidationIssue[] = [];
  const limits = checkBatchSettings(input, issues);
  const requests = checkBatchRows(input, limits, issues);
  if (issues.length > 0) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES);
    if (issues.length > listed.length) {
      listed.push({ field: 'rows', message: `and ${issues.length - listed.length} more problems` });
    }
    throw invalidBonusRequest(listed);
  }
  return requests;
}

/** Adds the problems of the batch's own fields to `issues`; returns the payments' limits. */
function checkBatchSettings(input: PayBatchInput, issues: ValidationIssue[]): ValidationLimits {
  const concurrency = input.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_BATCH_CONCURRENCY) {
    issues.push({ field: 'concurrency', message: `must be an integer 1-${MAX_BATCH_CONCURRENCY}` });
  }
  const every = input.continueAsNewEvery ?? DEFAULT_CONTINUE_AS_NEW_EVERY;
  if (!Number.isInteger(every) || every < 1) {
    issues.push({ field: 'continueAsNewEvery', message: 'must be a positive integer' });
  }
  // Each payment would refuse bad options one by one; refuse the batch before any starts.
  const limits = checkApproveAndBonusOptions(input.options ?? {});
  if (input.target !== undefined) {
    const message = checkTargetBinding(input.target);
    if (message) issues.push({ field: 'target', message });
  }
  if (input.notify !== undefined) {
    const message = checkBonusNotification(input.notify);
    if (message) issues.push({ field: 'notify', message });
  }
  if (input.stateCheckInterval !== undefined) {
    const issue = durationIssue('stateCheckInterval', input.stateCheckInterval, '"15s"');
    if (issue) issues.push(issue);
  }
  return limits;
}

/** Adds each row's problems to `issues`; returns the rows that passed, normalised. */
function checkBatchRows(
  input: PayBatchInput,
  limits: ValidationLimits,
  issues: ValidationIssue[],
): ApproveAndBonusInput[] {
  const requests: ApproveAndBonusInput[] = [];
  const rowOf = new Map<string, number>();
  input.rows.forEach((_, index) => {
    let request: ApproveAndBonusInput;
    try {
      request = decodeBatchRow(input, index);
    } catch (err) {
      issues.push({ field: `rows[${index}]`, message: (err as Error).message });
      return;
    }
    const checked = checkRow(request, limits);
    if (!checked.ok) {
      for (const issue of checked.issues)
        issues.push({ ...issue, field: `rows[${index}].${issue.field}` });
      return;
    }
    requests.push(checked.value);
    // Two rows with one workflow ID would be one payment reported twice.
    const workflowId = batchRowWorkflowId(input.rows[index]!);
    const first = rowOf.get(workflowId);
    if (first !== undefined) {
      issues.push({
        field: `rows[${index}]`,
        message: `is a second payment for ${workflowId} (rows[${first}]); give it another bonusKey`,
      });
    }
    rowOf.set(workflowId, index);
  });
  return requests;
}

/**
 * Pays a batch of bonuses: one `approveAndBonus` child per row, at most `concurrency` at a time.
 *
 * Each child's workflow ID is `bonusWorkflowId(assignmentId, bonusKey)`, started with
 * REJECT_DUPLICATE: when that ID was ever used (an earlier batch, payBonus, an earlier run of
 * this batch), nothing new is started and the row reports what that workflow did, waiting for
 * it if it still runs. A payment is therefore started at most once, whoever asks. Children are
 * ABANDONed on parent close and on cancellation: a payment in flight finishes even if the batch
 * is terminated or cancelled.
 *
 * Continues as new every `continueAsNewEvery` finished rows, carrying the outcomes.
 */
export async function payBatch(input: PayBatchInput): Promise<PayBatchResult> {
  // A plain Error here would fail the workflow task and be retried forever.
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalidBonusRequest([{ field: 'input', message: 'must be an object' }]);
  }
  // The first run validates everything before any payment starts; later runs trust it.
  const requests = input.carried
    ? input.rows.map((_, index) => decodeBatchRow(input, index))
    : validateBatch(input);
  const state = new BatchState(input);
  const window = new PaymentWindow(input, requests, state);

  setHandler(progressQuery, (request: BatchProgressRequest = {}) => state.progress(request));
  setHandler(fundsAddedSignal, () => window.forwardFundsAdded());

  window.resumeCarriedRows();
  void window.watchForWaitingPayments();

  for (;;) {
    window.fill();
    if (state.finished) break;
    if (window.timeToContinueAsNew()) {
      // Let the window empty so the next run has little to re-attach to, but not for long and
      // not for payments known to wait for funds: those are carried over and awaited by the
      // next run instead.
      await window.drained();
      // A child start still in progress would be lost with this run: wait for it to land.
      await window.startsLanded();
      if (state.finished) break;
      await condition(allHandlersFinished);
      return continueAsNew<typeof payBatch>({ ...input, carried: state.carried() });
    }
    await window.nextChange();
  }

  await condition(allHandlersFinished);
  return state.result();
}
