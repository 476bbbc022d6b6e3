/**
 * Where each row of a payBatch run stands: finished rows' outcomes, rows in the window, the
 * error-text budget. It answers the progress query, hands the next run its carried state and
 * builds the result. Pure bookkeeping: the window (batch-window.ts) issues every command.
 */
import type { FailureDescription } from '../common/failures';
import type { PaymentState } from '../common/types';
import {
  DEFAULT_PROGRESS_PAGE,
  MAX_PROGRESS_PAGE,
  batchRowResult,
  countRow,
  emptyCounts,
  packOutcomes,
  unpackOutcomes,
  type BatchCounts,
  type BatchProgress,
  type BatchProgressRequest,
  type BatchRowOutcome,
  type BatchRowResult,
  type BatchRowStatus,
  type PayBatchCarriedState,
  type PayBatchInput,
  type PayBatchResult,
} from '../common/batch';
import { MAX_ERROR_CHARS } from './batch-outcomes';

/** Error text kept in total, so a batch of failures still fits in a payload. */
const ERROR_CHARS_BUDGET = 100_000;

type WaitingStatus = Extract<BatchRowStatus, 'waiting-for-funds' | 'unconfirmed'>;

export class BatchState {
  readonly total: number;
  private readonly outcomes: (BatchRowOutcome | null)[];
  /** Rows below this index have been started. */
  private next: number;
  private errorChars: number;
  private readonly startedAt: string;
  private readonly run: number;
  /** Row index → when it started (workflow time) and whether this batch started its payment. */
  private readonly inFlight = new Map<number, { since: number; ours: boolean }>();
  /** Rows in flight known to wait: for funds, or unconfirmed (for the ledger or an operator). */
  private readonly waiting = new Map<number, WaitingStatus>();

  constructor(private readonly input: PayBatchInput) {
    const { carried } = input;
    this.total = input.rows.length;
    this.outcomes = carried
      ? unpackOutcomes(carried.outcomes)
      : new Array<BatchRowOutcome | null>(this.total).fill(null);
    this.next = carried?.next ?? 0;
    this.errorChars = carried?.errorChars ?? 0;
    this.startedAt = carried?.startedAt ?? new Date().toISOString();
    this.run = (carried?.run ?? 0) + 1;
  }

  get allStarted(): boolean {
    return this.next >= this.total;
  }

  get finished(): boolean {
    return this.allStarted && this.inFlight.size === 0;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Every row in flight is known to wait (for funds, or unconfirmed). */
  get onlyWaitingInFlight(): boolean {
    return this.inFlight.size === this.waiting.size;
  }

  inFlightRows(): number[] {
    return [...this.inFlight.keys()];
  }

  /** Rows in flight since `cutoff` (workflow time) or earlier. */
  inFlightSince(cutoff: number): number[] {
    return [...this.inFlight].filter(([, entry]) => entry.since <= cutoff).map(([index]) => index);
  }

  /** The next row to start; it counts as started from now on. */
  takeNextRow(): number {
    return this.next++;
  }

  enterWindow(index: number, ours: boolean): void {
    this.inFlight.set(index, { since: Date.now(), ours });
  }

  /** The row's workflow ID was taken: the payment in flight is not this batch's own. */
  startedElsewhere(index: number): void {
    const entry = this.inFlight.get(index);
    if (entry) entry.ours = false;
  }

  setWaiting(index: number, state: PaymentState | null | undefined): void {
    if ((state === 'waiting-for-funds' || state === 'unconfirmed') && this.inFlight.has(index)) {
      this.waiting.set(index, state);
    } else this.waiting.delete(index);
  }

  setOutcome(index: number, outcome: BatchRowOutcome): void {
    this.outcomes[index] = outcome;
  }

  leaveWindow(index: number): void {
    this.inFlight.delete(index);
    this.waiting.delete(index);
  }

  failed(failure: FailureDescription): BatchRowOutcome {
    const outcome: BatchRowOutcome = { status: 'failed' };
    if (failure.type) outcome.errorType = failure.type;
    const message =
      failure.message.length > MAX_ERROR_CHARS
        ? `${failure.message.slice(0, MAX_ERROR_CHARS - 1)}…`
        : failure.message;
    // Past the budget only the type is kept; the payment's own history has the full story.
    if (this.errorChars + message.length <= ERROR_CHARS_BUDGET) {
      outcome.error = message;
      this.errorChars += message.length;
    }
    return outcome;
  }

  progress(request: BatchProgressRequest): BatchProgress {
    const limit = Math.max(0, Math.min(request.limit ?? DEFAULT_PROGRESS_PAGE, MAX_PROGRESS_PAGE));
    const only = request.only && request.only.length > 0 ? new Set(request.only) : undefined;
    const rows: BatchRowResult[] = [];
    let index = Math.max(0, Math.floor(request.offset ?? 0));
    for (; index < this.total && rows.length < limit; index++) {
      const status = this.statusOf(index);
      if (!only || only.has(status)) {
        rows.push(batchRowResult(this.input, index, status, this.outcomes[index] ?? undefined));
      }
    }
    const c = this.counts();
    const page: BatchProgress = {
      counts: c,
      done: c.pending + c.inFlight === 0,
      startedAt: this.startedAt,
      run: this.run,
      rows,
    };
    if (index < this.total && limit > 0) page.nextOffset = index;
    return page;
  }

  /** What the next run needs to go on where this one stops. */
  carried(): PayBatchCarriedState {
    return {
      outcomes: packOutcomes(this.outcomes),
      next: this.next,
      inFlight: [...this.inFlight].map(([index, entry]): [number, boolean] => [index, entry.ours]),
      errorChars: this.errorChars,
      startedAt: this.startedAt,
      run: this.run,
    };
  }

  result(): PayBatchResult {
    return {
      counts: this.counts(),
      ...(this.input.target && { target: this.input.target }),
      rows: this.outcomes.map(
        (o) => o ?? { status: 'failed', errorType: 'Lost', error: 'row has no outcome' },
      ),
      startedAt: this.startedAt,
      finishedAt: new Date().toISOString(),
      runs: this.run,
    };
  }

  private statusOf(index: number): BatchRowStatus {
    const outcome = this.outcomes[index];
    if (outcome) return outcome.status;
    const wait = this.waiting.get(index);
    if (wait) return wait;
    return index < this.next ? 'in-flight' : 'pending';
  }

  private counts(): BatchCounts {
    const c = emptyCounts(this.total);
    for (let i = 0; i < this.total; i++) countRow(c, this.statusOf(i), this.outcomes[i]);
    return c;
  }
}
