import {
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createBatchActivities } from '../activities/batch-activities';
import { durationMs } from '../common/durations';
import { invalidBonusRequest, type ValidationIssue } from '../common/errors';
import { describeFailure, type FailureDescription } from '../common/failures';
import { MTurkAssignmentId, MTurkBonusState, MTurkWorkerId } from '../common/search-attributes';
import type { ApproveAndBonusInput, PaymentState } from '../common/types';
import {
  checkApproveAndBonusInput,
  checkBonusNotification,
  checkTargetBinding,
  type ValidationLimits,
} from '../common/validation';
import {
  checkApproveAndBonusOptions,
  durationIssue,
  type ApproveAndBonusOptions,
} from '../common/workflow-options';
import { awaitingCallOptions, displayReadOptions, retryPolicy } from './activity-options';
import { approveAndBonus, fundsAddedSignal } from './approve-and-bonus';
import { MAX_ERROR_CHARS, paidOutcome, paymentConflict } from './batch-outcomes';
import {
  DEFAULT_BATCH_CONCURRENCY,
  DEFAULT_PROGRESS_PAGE,
  MAX_BATCH_CONCURRENCY,
  MAX_BATCH_ROWS,
  MAX_PROGRESS_PAGE,
  batchRowResult,
  batchRowWorkflowId,
  countRow,
  decodeBatchRow,
  emptyCounts,
  packOutcomes,
  unpackOutcomes,
  type BatchCounts,
  type BatchProgress,
  type BatchProgressRequest,
  type BatchRowOutcome,
  type BatchRowResult,
  type BatchRowStatus,
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

const DEFAULT_CONTINUE_AS_NEW_EVERY = 500;
/** A backstop; continueAsNewEvery normally triggers long before. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;
/** Before continuing as new, let the window empty for at most this long (see below). */
const DRAIN_BEFORE_CONTINUE_AS_NEW = '30s';
/** How long one paymentOutcome activity waits for an existing payment to finish. */
const EXISTING_PAYMENT_WAIT_SECONDS = 300;
/** Error text kept in total, so a batch of failures still fits in a payload. */
const ERROR_CHARS_BUDGET = 100_000;
const MAX_LISTED_ISSUES = 20;

function batchActivities(options: ApproveAndBonusOptions) {
  return {
    awaiting: proxyActivities<ReturnType<typeof createBatchActivities>>(
      awaitingCallOptions(EXISTING_PAYMENT_WAIT_SECONDS, retryPolicy(options)),
    ),
    states: proxyActivities<ReturnType<typeof createBatchActivities>>(displayReadOptions(options)),
  };
}

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
  const issues: ValidationIssue[] = [];
  const requests: ApproveAndBonusInput[] = [];
  if (!Array.isArray(input.rows) || !Array.isArray(input.texts)) {
    throw invalidBonusRequest([{ field: 'rows', message: 'rows and texts must be arrays' }]);
  }
  if (input.rows.length === 0 || input.rows.length > MAX_BATCH_ROWS) {
    throw invalidBonusRequest([
      { field: 'rows', message: `must hold 1-${MAX_BATCH_ROWS} rows, got ${input.rows.length}` },
    ]);
  }
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
  if (issues.length > 0) {
    const listed = issues.slice(0, MAX_LISTED_ISSUES);
    if (issues.length > listed.length) {
      listed.push({ field: 'rows', message: `and ${issues.length - listed.length} more problems` });
    }
    throw invalidBonusRequest(listed);
  }
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
  const { carried } = input;
  const options = input.options ?? {};
  // The first run validates everything before any payment starts; later runs trust it.
  const requests = carried
    ? input.rows.map((_, index) => decodeBatchRow(input, index))
    : validateBatch(input);
  const total = requests.length;
  const concurrency = input.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
  const continueAsNewEvery = input.continueAsNewEvery ?? DEFAULT_CONTINUE_AS_NEW_EVERY;
  const stateCheckMs = durationMs(input.stateCheckInterval ?? '15s');
  const workflowIds = input.rows.map(batchRowWorkflowId);
  const activities = batchActivities(options);

  const outcomes: (BatchRowOutcome | null)[] = carried
    ? unpackOutcomes(carried.outcomes)
    : new Array(total).fill(null);
  let next = carried?.next ?? 0;
  let errorChars = carried?.errorChars ?? 0;
  const startedAt = carried?.startedAt ?? new Date().toISOString();
  const run = (carried?.run ?? 0) + 1;
  /** Row index → when it started (workflow time) and whether this batch started its payment. */
  const inFlight = new Map<number, { since: number; ours: boolean }>();
  /** Rows in flight known to wait: for funds, or unconfirmed (for the ledger or an operator). */
  const waiting = new Map<number, 'waiting-for-funds' | 'unconfirmed'>();
  let starting = 0;
  let finishedThisRun = 0;

  const statusOf = (index: number): BatchRowStatus => {
    const outcome = outcomes[index];
    if (outcome) return outcome.status;
    const wait = waiting.get(index);
    if (wait) return wait;
    return index < next ? 'in-flight' : 'pending';
  };
  const counts = (): BatchCounts => {
    const c = emptyCounts(total);
    for (let i = 0; i < total; i++) countRow(c, statusOf(i), outcomes[i]);
    return c;
  };

  setHandler(progressQuery, (request: BatchProgressRequest = {}): BatchProgress => {
    const limit = Math.max(0, Math.min(request.limit ?? DEFAULT_PROGRESS_PAGE, MAX_PROGRESS_PAGE));
    const only = request.only && request.only.length > 0 ? new Set(request.only) : undefined;
    const rows: BatchRowResult[] = [];
    let index = Math.max(0, Math.floor(request.offset ?? 0));
    for (; index < total && rows.length < limit; index++) {
      const status = statusOf(index);
      if (!only || only.has(status)) {
        rows.push(batchRowResult(input, index, status, outcomes[index] ?? undefined));
      }
    }
    const c = counts();
    const page: BatchProgress = {
      counts: c,
      done: c.pending + c.inFlight === 0,
      startedAt,
      run,
      rows,
    };
    if (index < total && limit > 0) page.nextOffset = index;
    return page;
  });

  setHandler(fundsAddedSignal, async () => {
    // Every payment in flight: one that is not waiting ignores the signal.
    await Promise.all(
      [...inFlight.keys()].map(
        (index) =>
          getExternalWorkflowHandle(workflowIds[index]!)
            .signal(fundsAddedSignal)
            .catch(() => undefined), // finished meanwhile
      ),
    );
  });

  const failed = (failure: FailureDescription): BatchRowOutcome => {
    const outcome: BatchRowOutcome = { status: 'failed' };
    if (failure.type) outcome.errorType = failure.type;
    const message =
      failure.message.length > MAX_ERROR_CHARS
        ? `${failure.message.slice(0, MAX_ERROR_CHARS - 1)}…`
        : failure.message;
    // Past the budget only the type is kept; the payment's own history has the full story.
    if (errorChars + message.length <= ERROR_CHARS_BUDGET) {
      outcome.error = message;
      errorChars += message.length;
    }
    return outcome;
  };

  const setWaiting = (index: number, state: PaymentState | null | undefined) => {
    if ((state === 'waiting-for-funds' || state === 'unconfirmed') && inFlight.has(index)) {
      waiting.set(index, state);
    } else waiting.delete(index);
  };

  /** Reports, and if needed waits for, the payment workflow that already holds the row's ID. */
  async function awaitExistingPayment(
    index: number,
    ours: boolean,
    restarts: number,
  ): Promise<BatchRowOutcome> {
    for (;;) {
      const found = await activities.awaiting.paymentOutcome({
        workflowId: workflowIds[index]!,
        waitSeconds: EXISTING_PAYMENT_WAIT_SECONDS,
      });
      switch (found.kind) {
        case 'running':
          setWaiting(index, found.state);
          continue;
        case 'completed': {
          const conflict = ours
            ? undefined
            : paymentConflict(requests[index]!, workflowIds[index]!, found.result);
          return conflict
            ? failed({ type: 'PaymentConflict', message: conflict })
            : paidOutcome(found.result, ours);
        }
        case 'failed':
          return failed({
            type: found.type,
            message: ours
              ? found.message
              : `an earlier payment workflow ${found.status}: ${found.message}`,
          });
        case 'not-found':
          // Vanished (e.g. past retention) between our start and the lookup: start it again;
          // REJECT_DUPLICATE still guards, and a few rounds cannot loop forever.
          if (restarts >= 3) {
            return failed({
              type: 'PaymentNotFound',
              message: `${workflowIds[index]} could not be started or found`,
            });
          }
          return startAndAwaitPayment(index, restarts + 1);
      }
    }
  }

  async function startAndAwaitPayment(index: number, restarts = 0): Promise<BatchRowOutcome> {
    const request = requests[index]!;
    let child;
    starting += 1;
    try {
      child = await startChild(approveAndBonus, {
        workflowId: workflowIds[index],
        args: [
          {
            ...request,
            ...(input.target && { target: input.target }),
            ...(input.notify && { notify: input.notify }),
            options,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // Cancelling the batch stops new payments; one already started still finishes.
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        ...(input.searchAttributes && {
          typedSearchAttributes: [
            { key: MTurkAssignmentId, value: request.assignmentId },
            { key: MTurkWorkerId, value: request.workerId },
            { key: MTurkBonusState, value: 'started' },
          ],
        }),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      const entry = inFlight.get(index);
      if (entry) entry.ours = false;
      return awaitExistingPayment(index, false, restarts);
    } finally {
      starting -= 1;
    }
    try {
      return paidOutcome(await child.result(), true);
    } catch (err) {
      return failed(describeFailure(err));
    }
  }

  async function payRow(index: number, resume?: { ours: boolean }): Promise<void> {
    inFlight.set(index, { since: Date.now(), ours: resume?.ours ?? true });
    try {
      outcomes[index] = resume
        ? await awaitExistingPayment(index, resume.ours, 0)
        : await startAndAwaitPayment(index);
    } catch (err) {
      // Not a payment's failure (those are outcomes) but ours, e.g. a bad start request.
      outcomes[index] = failed(describeFailure(err));
    } finally {
      inFlight.delete(index);
      waiting.delete(index);
      finishedThisRun += 1;
    }
  }

  /** Asks payments running for a while whether they wait for funds (for the counts only). */
  async function watchForWaitingPayments(): Promise<void> {
    try {
      for (;;) {
        await condition(() => inFlight.size > 0);
        await sleep(stateCheckMs);
        const cutoff = Date.now() - stateCheckMs;
        const rows = [...inFlight]
          .filter(([, entry]) => entry.since <= cutoff)
          .map(([index]) => index);
        if (rows.length === 0) continue;
        try {
          const states = await activities.states.paymentStates({
            workflowIds: rows.map((i) => workflowIds[i]!),
          });
          rows.forEach((index, k) => setWaiting(index, states[k]));
        } catch (err) {
          if (isCancellation(err)) throw err;
          log.warn('could not read payment states', { error: describeFailure(err).message });
        }
      }
    } catch (err) {
      // The batch was cancelled: the main loop ends it; this side task just stops.
      if (!isCancellation(err)) throw err;
    }
  }

  const timeToContinueAsNew = () =>
    finishedThisRun >= continueAsNewEvery ||
    workflowInfo().continueAsNewSuggested ||
    workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS;

  for (const [index, ours] of carried?.inFlight ?? []) void payRow(index, { ours });
  void watchForWaitingPayments();

  for (;;) {
    while (next < total && inFlight.size < concurrency && !timeToContinueAsNew()) {
      void payRow(next++);
    }
    if (next >= total && inFlight.size === 0) break;
    if (timeToContinueAsNew()) {
      // Let the window empty so the next run has little to re-attach to, but not for long and
      // not for payments known to wait for funds: those are carried over and awaited by the
      // next run instead.
      await condition(() => inFlight.size === waiting.size, DRAIN_BEFORE_CONTINUE_AS_NEW);
      // A child start still in progress would be lost with this run: wait for it to land.
      await condition(() => starting === 0);
      if (next >= total && inFlight.size === 0) break;
      await condition(allHandlersFinished);
      return continueAsNew<typeof payBatch>({
        ...input,
        carried: {
          outcomes: packOutcomes(outcomes),
          next,
          inFlight: [...inFlight].map(([index, entry]): [number, boolean] => [index, entry.ours]),
          errorChars,
          startedAt,
          run,
        },
      });
    }
    await condition(
      () =>
        inFlight.size === 0 ||
        (next < total && inFlight.size < concurrency) ||
        timeToContinueAsNew(),
    );
  }

  await condition(allHandlersFinished);
  return {
    counts: counts(),
    ...(input.target && { target: input.target }),
    rows: outcomes.map(
      (o) => o ?? { status: 'failed', errorType: 'Lost', error: 'row has no outcome' },
    ),
    startedAt,
    finishedAt: new Date().toISOString(),
    runs: run,
  };
}
