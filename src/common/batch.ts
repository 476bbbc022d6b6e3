/**
 * The data of a `payBatch` workflow: its rows in compact form, each row's outcome, the counts.
 * Pure and workflow-safe: the workflow, its activities and the CLI share it.
 *
 * Why compact: a batch's input is stored in the first event of every run (continue-as-new
 * carries it, together with the outcomes so far), and Temporal refuses payloads over 2 MB.
 * A row as a tuple, with its reason stored once in a text table, costs about 62 bytes; an
 * outcome stores only what cannot be derived (the workflow ID and the MTurk token are pure
 * functions of the row) and is carried in columns (see PackedOutcomes), about 40 bytes. So a
 * 10,000-row batch carries about 1 MB at its largest, half the limit.
 */
import type { Duration } from '@temporalio/common';
import { bonusRequestToken } from './token';
import type { ApproveAndBonusInput, BonusNotification, MTurkTargetBinding } from './types';
import type { ApproveAndBonusOptions } from './workflow-options';
import { bonusWorkflowId } from './workflow-ids';

/** Largest batch one workflow takes; split bigger files into several batches. */
export const MAX_BATCH_ROWS = 10_000;
export const DEFAULT_BATCH_CONCURRENCY = 50;
export const MAX_BATCH_CONCURRENCY = 1_000;

/**
 * One row: `[assignmentId, workerId, bonusAmount, reason, bonusKey, requesterFeedback]`, where
 * `reason` and `requesterFeedback` are indexes into {@link BatchRows.texts} (a batch usually
 * gives every worker the same reason) and trailing optional fields are left out.
 */
export type BatchRowTuple = [
  assignmentId: string,
  workerId: string,
  bonusAmount: string,
  reason: number,
  bonusKey?: string | null,
  requesterFeedback?: number | null,
];

export interface BatchRows {
  /** Reasons and feedback texts, each stored once. */
  texts: string[];
  rows: BatchRowTuple[];
}

/** Where a row stands. The first four are transient; the last three are final. */
export type BatchRowStatus =
  | 'pending'
  | 'in-flight'
  | 'waiting-for-funds'
  | 'unconfirmed'
  | 'paid'
  | 'already-paid'
  | 'failed';

/**
 * How an `already-paid` row was found paid: `listing` (MTurk's ListBonusPayments showed it
 * before anything was sent), `token` (MTurk refused the token as used, the listing confirmed
 * it), `workflow` (a payment workflow started elsewhere, e.g. by payBonus or an earlier batch,
 * holds the row's workflow ID and had paid it).
 */
export type FoundPaidBy = 'listing' | 'token' | 'workflow';

export type FinishedRowStatus = Extract<BatchRowStatus, 'paid' | 'already-paid' | 'failed'>;

/**
 * A finished row as the workflow stores and returns it. `paid`: this batch's payment workflow
 * paid it (its own SendBonus, or one whose answer was lost and that its retry found listed).
 * `already-paid`: it was paid before (`foundBy` says how it was found); nothing was paid again.
 * `failed`: not paid.
 */
export interface BatchRowOutcome {
  status: FinishedRowStatus;
  /** For `already-paid`: how it was found paid. */
  foundBy?: FoundPaidBy;
  /** With `notify`: why the worker's message was not sent (absent when it was, or skipped). */
  notificationFailure?: string;
  /** MTurk's request ID of the SendBonus that paid: the only receipt MTurk gives. */
  requestId?: string;
  /** Token generation of the paying call, when not 0 (see token.ts). */
  tokenGeneration?: number;
  /** `ApplicationFailure.type` of the failure, or PaymentConflict, Terminated, Cancelled, TimedOut. */
  errorType?: string;
  error?: string;
}

/** A row with everything a report needs; built from the row and its outcome. */
export interface BatchRowResult {
  /** Position in the batch input (0-based). */
  index: number;
  assignmentId: string;
  workerId: string;
  amount: string;
  bonusKey?: string;
  status: BatchRowStatus;
  /** The payment's workflow ID: bonusWorkflowId(assignmentId, bonusKey). */
  workflowId: string;
  /** MTurk UniqueRequestToken of the payment (paid and already-paid rows). */
  token?: string;
  requestId?: string;
  /** For `already-paid`: how it was found paid. */
  foundBy?: FoundPaidBy;
  /** With `notify`: why the worker's message was not sent. */
  notificationFailure?: string;
  errorType?: string;
  error?: string;
}

export interface BatchCounts {
  total: number;
  paid: number;
  alreadyPaid: number;
  /** Of alreadyPaid, how each was found (see FoundPaidBy); older results may lack it. */
  alreadyPaidBy?: Record<FoundPaidBy, number>;
  failed: number;
  /** Of failed, the PaymentConflicts: MTurk lists another bonus in the row's place. */
  conflicts?: number;
  /**
   * In flight and known to be unconfirmed: MTurk says the token was used, the listing does
   * not show the bonus; waiting for the listing or an operator (payUnderNewToken).
   */
  unconfirmed?: number;
  /** Started and not finished, including those waiting for funds. */
  inFlight: number;
  /** In flight and known (from the payment's status query) to be waiting for funds. */
  waitingForFunds: number;
  /** Not started yet. */
  pending: number;
}

export interface PayBatchResult {
  counts: BatchCounts;
  /** The MTurk the batch was bound to (pay always binds it). */
  target?: MTurkTargetBinding;
  /** One outcome per input row, in input order; expand with {@link batchResultRows}. */
  rows: BatchRowOutcome[];
  /** When the batch's first run started and its last run finished (ISO). */
  startedAt: string;
  finishedAt: string;
  /** Number of runs (continue-as-new starts a new run every few hundred rows). */
  runs: number;
}

/**
 * Outcomes as continue-as-new carries them: columns rather than one object per row, which
 * saves the repeated field names (about 40 bytes a row instead of 70).
 */
export interface PackedOutcomes {
  /** One character per row: "." not finished, "p" paid, "a" already-paid, "f" failed. */
  statuses: string;
  /** MTurk request ID of each row, "" when none. */
  requestIds: string[];
  /** Row index → the rarer fields (errors, token generations, how a row was found paid). */
  details: Record<
    string,
    Pick<
      BatchRowOutcome,
      'tokenGeneration' | 'errorType' | 'error' | 'foundBy' | 'notificationFailure'
    >
  >;
}

const STATUS_CODES: Record<FinishedRowStatus, string> = {
  paid: 'p',
  'already-paid': 'a',
  failed: 'f',
};
const STATUS_OF_CODE = new Map(
  Object.entries(STATUS_CODES).map(([s, c]) => [c, s as FinishedRowStatus]),
);

export function packOutcomes(outcomes: readonly (BatchRowOutcome | null)[]): PackedOutcomes {
  const packed: PackedOutcomes = { statuses: '', requestIds: [], details: {} };
  const codes: string[] = [];
  outcomes.forEach((outcome, index) => {
    codes.push(outcome ? STATUS_CODES[outcome.status] : '.');
    packed.requestIds.push(outcome?.requestId ?? '');
    if (!outcome) return;
    const { status: _status, requestId: _requestId, ...rest } = outcome;
    if (Object.keys(rest).length > 0) packed.details[index] = rest;
  });
  packed.statuses = codes.join('');
  return packed;
}

export function unpackOutcomes(packed: PackedOutcomes): (BatchRowOutcome | null)[] {
  return [...packed.statuses].map((code, index) => {
    const status = STATUS_OF_CODE.get(code);
    if (!status) return null;
    const outcome: BatchRowOutcome = { status, ...packed.details[index] };
    const requestId = packed.requestIds[index];
    if (requestId) outcome.requestId = requestId;
    return outcome;
  });
}

export interface BatchProgressRequest {
  /** First row index of the page (default 0). */
  offset?: number;
  /** Rows in the page, 0-1000 (default 100). */
  limit?: number;
  /** Only rows in these states. */
  only?: BatchRowStatus[];
}

export interface BatchProgress {
  counts: BatchCounts;
  /** Every row finished. */
  done: boolean;
  startedAt: string;
  /** Current run number (1 for the first run). */
  run: number;
  /** The requested page. */
  rows: BatchRowResult[];
  /** Offset of the next page, absent on the last page. */
  nextOffset?: number;
}

export const MAX_PROGRESS_PAGE = 1_000;
export const DEFAULT_PROGRESS_PAGE = 100;

/** Rows → compact form. Input is expected to be validated already. */
export function encodeBatchRows(requests: readonly ApproveAndBonusInput[]): BatchRows {
  const texts: string[] = [];
  const textIndex = new Map<string, number>();
  const intern = (text: string): number => {
    let index = textIndex.get(text);
    if (index === undefined) {
      index = texts.push(text) - 1;
      textIndex.set(text, index);
    }
    return index;
  };
  const rows = requests.map((r): BatchRowTuple => {
    const row: BatchRowTuple = [r.assignmentId, r.workerId, r.bonusAmount, intern(r.reason)];
    const feedback = r.requesterFeedback === undefined ? undefined : intern(r.requesterFeedback);
    if (r.bonusKey !== undefined || feedback !== undefined) row.push(r.bonusKey ?? null);
    if (feedback !== undefined) row.push(feedback);
    return row;
  });
  return { texts, rows };
}

/** One compact row → the approveAndBonus input it stands for. Throws TypeError when malformed. */
export function decodeBatchRow(batch: BatchRows, index: number): ApproveAndBonusInput {
  const row = batch.rows[index];
  if (!Array.isArray(row) || row.length < 4 || row.length > 6) {
    throw new TypeError(
      `rows[${index}] must be [assignmentId, workerId, bonusAmount, reason, bonusKey?, feedback?]`,
    );
  }
  const [assignmentId, workerId, bonusAmount, reasonIndex, bonusKey, feedbackIndex] = row;
  const text = (i: unknown, what: string): string => {
    const value = typeof i === 'number' ? batch.texts[i] : undefined;
    if (typeof value !== 'string') throw new TypeError(`rows[${index}]: ${what} must index texts`);
    return value;
  };
  const request: ApproveAndBonusInput = {
    assignmentId,
    workerId,
    bonusAmount,
    reason: text(reasonIndex, 'reason'),
  };
  if (bonusKey !== undefined && bonusKey !== null) request.bonusKey = bonusKey;
  if (feedbackIndex !== undefined && feedbackIndex !== null) {
    request.requesterFeedback = text(feedbackIndex, 'requesterFeedback');
  }
  return request;
}

export function batchRowWorkflowId(row: BatchRowTuple): string {
  return bonusWorkflowId(row[0], row[4] ?? undefined);
}

/** The generation in a token `tm1-<generation>-<hex>`; 0 when it does not look like ours. */
export function tokenGenerationOf(token: string | undefined): number {
  const match = token === undefined ? null : /^tm1-(\d+)-/.exec(token);
  return match ? Number(match[1]) : 0;
}

/** A row with its status and outcome, workflow ID and token filled in. */
export function batchRowResult(
  batch: BatchRows,
  index: number,
  status: BatchRowStatus,
  outcome?: BatchRowOutcome,
): BatchRowResult {
  const row = batch.rows[index];
  if (!row) throw new RangeError(`no row ${index} in a batch of ${batch.rows.length}`);
  const [assignmentId, workerId, amount, , bonusKey] = row;
  const workflowId = batchRowWorkflowId(row);
  const paid = status === 'paid' || status === 'already-paid';
  const result: BatchRowResult = { index, assignmentId, workerId, amount, status, workflowId };
  if (bonusKey !== undefined && bonusKey !== null) result.bonusKey = bonusKey;
  if (paid) {
    result.token = bonusRequestToken(workflowId, result.bonusKey, outcome?.tokenGeneration ?? 0);
  }
  if (outcome?.requestId !== undefined) result.requestId = outcome.requestId;
  if (outcome?.foundBy !== undefined) result.foundBy = outcome.foundBy;
  if (outcome?.notificationFailure !== undefined) {
    result.notificationFailure = outcome.notificationFailure;
  }
  if (outcome?.errorType !== undefined) result.errorType = outcome.errorType;
  if (outcome?.error !== undefined) result.error = outcome.error;
  return result;
}

/** The workflow's compact result → one full entry per row, in input order. */
export function batchResultRows(batch: BatchRows, result: PayBatchResult): BatchRowResult[] {
  if (result.rows.length !== batch.rows.length) {
    throw new Error(
      `batch result has ${result.rows.length} rows but the batch input has ${batch.rows.length}`,
    );
  }
  return result.rows.map((outcome, index) => batchRowResult(batch, index, outcome.status, outcome));
}

export function emptyCounts(total: number): BatchCounts {
  return {
    total,
    paid: 0,
    alreadyPaid: 0,
    alreadyPaidBy: { listing: 0, token: 0, workflow: 0 },
    failed: 0,
    conflicts: 0,
    inFlight: 0,
    waitingForFunds: 0,
    unconfirmed: 0,
    pending: total,
  };
}

/**
 * Adds one row in `status` to `counts` (which starts with every row pending); `outcome` tells
 * how an already-paid row was found and whether a failure is a conflict.
 */
export function countRow(
  counts: BatchCounts,
  status: BatchRowStatus,
  outcome?: Pick<BatchRowOutcome, 'foundBy' | 'errorType'> | null,
): void {
  if (status === 'pending') return;
  counts.pending -= 1;
  if (status === 'paid') counts.paid += 1;
  else if (status === 'already-paid') {
    counts.alreadyPaid += 1;
    if (outcome?.foundBy && counts.alreadyPaidBy) counts.alreadyPaidBy[outcome.foundBy] += 1;
  } else if (status === 'failed') {
    counts.failed += 1;
    if (outcome?.errorType === 'PaymentConflict') counts.conflicts = (counts.conflicts ?? 0) + 1;
  } else {
    counts.inFlight += 1;
    if (status === 'waiting-for-funds') counts.waitingForFunds += 1;
    if (status === 'unconfirmed') counts.unconfirmed = (counts.unconfirmed ?? 0) + 1;
  }
}

export interface PayBatchInput extends BatchRows {
  /** Payment workflows running at once (sliding window), 1-1000; default 50. */
  concurrency?: number;
  /** Passed to every payment (retry tuning, funds re-check interval, maximum bonus). */
  options?: ApproveAndBonusOptions;
  /**
   * Give each payment the MTurk* search attributes (findable in the Web UI). Only when the
   * namespace has them registered (see searchAttributesRegistered in client.ts): upserting an
   * unregistered attribute fails every workflow task.
   */
  searchAttributes?: boolean;
  /** Continue-as-new after this many finished rows (default 500), so history stays small. */
  continueAsNewEvery?: number;
  /** How often to ask long-running payments whether they wait for funds (default 15 s). */
  stateCheckInterval?: Duration;
  /**
   * The MTurk the batch was previewed and confirmed for: every payment carries it, and a worker
   * talking to another MTurk refuses them (TargetMismatch) before any call.
   */
  target?: MTurkTargetBinding;
  /** Tell each worker this batch pays, once, with NotifyWorkers (see ApproveAndBonusInput). */
  notify?: BonusNotification;
  /** @internal carried across continue-as-new */
  carried?: PayBatchCarriedState;
}

/** State carried across continue-as-new; not for callers. */
export interface PayBatchCarriedState {
  /** Each row's outcome so far. */
  outcomes: PackedOutcomes;
  /** Rows below this index have been started. */
  next: number;
  /** Started by an earlier run, not finished: [row index, started by this batch]. */
  inFlight: [number, boolean][];
  errorChars: number;
  startedAt: string;
  run: number;
}
