/**
 * payBatch's sliding window: starts one approveAndBonus child per row, at most `concurrency` at a
 * time, awaits each payment (or the one that already holds the row's workflow ID) and records
 * its outcome in the BatchState. Every command of a batch run is issued here or in payBatch.
 */
import {
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  proxyActivities,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { createBatchActivities } from '../activities/batch-activities';
import {
  DEFAULT_BATCH_CONCURRENCY,
  batchRowWorkflowId,
  type BatchRowOutcome,
  type PayBatchInput,
} from '../common/batch';
import { durationMs } from '../common/durations';
import { describeFailure } from '../common/failures';
import type { ApproveAndBonusInput } from '../common/types';
import type { ApproveAndBonusOptions } from '../common/workflow-options';
import { awaitingCallOptions, displayReadOptions, retryPolicy } from './activity-options';
import { approveAndBonus, fundsAddedSignal } from './approve-and-bonus';
import { paidOutcome, paymentConflict } from './batch-outcomes';
import type { BatchState } from './batch-state';
import { paymentSearchAttributes } from './payment-child';

export const DEFAULT_CONTINUE_AS_NEW_EVERY = 500;
/** A backstop; continueAsNewEvery normally triggers long before. */
const CONTINUE_AS_NEW_AFTER_EVENTS = 10_000;
/** Before continuing as new, let the window empty for at most this long. */
const DRAIN_BEFORE_CONTINUE_AS_NEW = '30s';
/** How long one paymentOutcome activity waits for an existing payment to finish. */
const EXISTING_PAYMENT_WAIT_SECONDS = 300;

function batchActivities(options: ApproveAndBonusOptions) {
  return {
    awaiting: proxyActivities<ReturnType<typeof createBatchActivities>>(
      awaitingCallOptions(EXISTING_PAYMENT_WAIT_SECONDS, retryPolicy(options)),
    ),
    states: proxyActivities<ReturnType<typeof createBatchActivities>>(displayReadOptions(options)),
  };
}

export class PaymentWindow {
  private readonly options: ApproveAndBonusOptions;
  private readonly concurrency: number;
  private readonly continueAsNewEvery: number;
  private readonly stateCheckMs: number;
  private readonly workflowIds: string[];
  private readonly activities: ReturnType<typeof batchActivities>;
  /** Child starts not yet answered: such a start would be lost with this run. */
  private starting = 0;
  private finishedThisRun = 0;

  constructor(
    private readonly input: PayBatchInput,
    private readonly requests: readonly ApproveAndBonusInput[],
    private readonly state: BatchState,
  ) {
    this.options = input.options ?? {};
    this.concurrency = input.concurrency ?? DEFAULT_BATCH_CONCURRENCY;
    this.continueAsNewEvery = input.continueAsNewEvery ?? DEFAULT_CONTINUE_AS_NEW_EVERY;
    this.stateCheckMs = durationMs(input.stateCheckInterval ?? '15s');
    this.workflowIds = input.rows.map(batchRowWorkflowId);
    this.activities = batchActivities(this.options);
  }

  /** Re-attaches to the payments an earlier run left in flight. */
  resumeCarriedRows(): void {
    for (const [index, ours] of this.input.carried?.inFlight ?? []) {
      void this.payRow(index, { ours });
    }
  }

  /** Starts rows while the window has room, unless it is time to continue as new. */
  fill(): void {
    while (this.hasRoom() && !this.timeToContinueAsNew()) {
      void this.payRow(this.state.takeNextRow());
    }
  }

  timeToContinueAsNew(): boolean {
    return (
      this.finishedThisRun >= this.continueAsNewEvery ||
      workflowInfo().continueAsNewSuggested ||
      workflowInfo().historyLength > CONTINUE_AS_NEW_AFTER_EVENTS
    );
  }

  /**
   * Resolves when the loop has work: the window emptied or has room, or it is time to
   * continue as new.
   */
  nextChange(): Promise<void> {
    return condition(
      () => this.state.inFlightCount === 0 || this.hasRoom() || this.timeToContinueAsNew(),
    );
  }

  /**
   * Resolves when only payments known to wait are in flight (the next run carries them), or
   * after DRAIN_BEFORE_CONTINUE_AS_NEW.
   */
  drained(): Promise<boolean> {
    return condition(() => this.state.onlyWaitingInFlight, DRAIN_BEFORE_CONTINUE_AS_NEW);
  }

  /** Resolves when no child start is under way. */
  startsLanded(): Promise<void> {
    return condition(() => this.starting === 0);
  }

  async forwardFundsAdded(): Promise<void> {
    // Every payment in flight: one that is not waiting ignores the signal.
    await Promise.all(
      this.state.inFlightRows().map(
        (index) =>
          getExternalWorkflowHandle(this.workflowIds[index]!)
            .signal(fundsAddedSignal)
            .catch(() => undefined), // finished meanwhile
      ),
    );
  }

  /** Asks payments running for a while whether they wait for funds (for the counts only). */
  async watchForWaitingPayments(): Promise<void> {
    try {
      for (;;) {
        await condition(() => this.state.inFlightCount > 0);
        await sleep(this.stateCheckMs);
        const rows = this.state.inFlightSince(Date.now() - this.stateCheckMs);
        if (rows.length === 0) continue;
        try {
          const states = await this.activities.states.paymentStates({
            workflowIds: rows.map((i) => this.workflowIds[i]!),
          });
          rows.forEach((index, k) => this.state.setWaiting(index, states[k]));
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

  private hasRoom(): boolean {
    return !this.state.allStarted && this.state.inFlightCount < this.concurrency;
  }

  private async payRow(index: number, resume?: { ours: boolean }): Promise<void> {
    this.state.enterWindow(index, resume?.ours ?? true);
    try {
      this.state.setOutcome(
        index,
        resume
          ? await this.awaitExistingPayment(index, resume.ours, 0)
          : await this.startAndAwaitPayment(index),
      );
    } catch (err) {
      // Not a payment's failure (those are outcomes) but ours, e.g. a bad start request.
      this.state.setOutcome(index, this.state.failed(describeFailure(err)));
    } finally {
      this.state.leaveWindow(index);
      this.finishedThisRun += 1;
    }
  }

  private async startAndAwaitPayment(index: number, restarts = 0): Promise<BatchRowOutcome> {
    let child;
    this.starting += 1;
    try {
      child = await this.startPayment(index);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      this.state.startedElsewhere(index);
      return this.awaitExistingPayment(index, false, restarts);
    } finally {
      this.starting -= 1;
    }
    try {
      return paidOutcome(await child.result(), true);
    } catch (err) {
      return this.state.failed(describeFailure(err));
    }
  }

  /** The row's payment as a child, unless its workflow ID was ever used (REJECT_DUPLICATE). */
  private startPayment(index: number) {
    const request = this.requests[index]!;
    return startChild(approveAndBonus, {
      workflowId: this.workflowIds[index],
      args: [
        {
          ...request,
          ...(this.input.target && { target: this.input.target }),
          ...(this.input.notify && { notify: this.input.notify }),
          options: this.options,
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // Cancelling the batch stops new payments; one already started still finishes.
      cancellationType: ChildWorkflowCancellationType.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      ...paymentSearchAttributes(this.input.searchAttributes, request),
    });
  }

  /** Reports, and if needed waits for, the payment workflow that already holds the row's ID. */
  private async awaitExistingPayment(
    index: number,
    ours: boolean,
    restarts: number,
  ): Promise<BatchRowOutcome> {
    for (;;) {
      const found = await this.activities.awaiting.paymentOutcome({
        workflowId: this.workflowIds[index]!,
        waitSeconds: EXISTING_PAYMENT_WAIT_SECONDS,
      });
      switch (found.kind) {
        case 'running':
          this.state.setWaiting(index, found.state);
          continue;
        case 'completed': {
          const conflict = ours
            ? undefined
            : paymentConflict(this.requests[index]!, this.workflowIds[index]!, found.result);
          return conflict
            ? this.state.failed({ type: 'PaymentConflict', message: conflict })
            : paidOutcome(found.result, ours);
        }
        case 'failed':
          return this.state.failed({
            type: found.type,
            message: ours
              ? found.message
              : `an earlier payment workflow ${found.status}: ${found.message}`,
          });
        case 'not-found':
          // Vanished (e.g. past retention) between our start and the lookup: start it again;
          // REJECT_DUPLICATE still guards, and a few rounds cannot loop forever.
          if (restarts >= 3) {
            return this.state.failed({
              type: 'PaymentNotFound',
              message: `${this.workflowIds[index]} could not be started or found`,
            });
          }
          return this.startAndAwaitPayment(index, restarts + 1);
      }
    }
  }
}
