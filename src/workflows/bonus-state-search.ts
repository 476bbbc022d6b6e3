import { patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { MTurkAssignmentId, MTurkBonusState } from '../common/search-attributes';
import type { PaymentState } from '../common/types';

/**
 * patched() ID: MTurkBonusState is upserted only for the states someone searches for
 * (waiting-for-funds, and paying again after it, paid, failed). The starter sets "started";
 * each upsert is a visibility write, and the two of every happy path (approving, paying) cost
 * about a quarter of the dev server's CPU per payment in the benchmark.
 */
const SEARCHED_STATES_PATCH = 'bonus-state-upserts-searched-only';
/** In progress and short: the `status` query reports them, search keeps showing "started". */
const UNSEARCHED_STATES: ReadonlySet<PaymentState> = new Set(['approving', 'paying']);
/** Searched states that "paying" replaces when the payment goes on. */
const WAITING_STATES: ReadonlySet<PaymentState | undefined> = new Set([
  'waiting-for-funds',
  'unconfirmed',
]);

/** The payment's state as search shows it: the MTurkBonusState search attribute. */
export class BonusStateSearchAttribute {
  private readonly searchable: boolean;
  private readonly searchedStatesOnly: boolean;
  /** "started" from the starter, or the state a run before continue-as-new left. */
  private searchedState: string | undefined;

  constructor() {
    this.searchable = workflowInfo().typedSearchAttributes.get(MTurkAssignmentId) !== undefined;
    // Payments started before this change upsert every state, as their histories say they did.
    this.searchedStatesOnly = patched(SEARCHED_STATES_PATCH);
    this.searchedState = workflowInfo().typedSearchAttributes.get(MTurkBonusState);
  }

  /** Upserts the payment's new state when search should show it. */
  enter(next: PaymentState): void {
    // Only when the starter registered our search attributes (payBonus checks): upserting an
    // unregistered attribute would fail every workflow task.
    if (!this.searchable) return;
    if (this.searchedStatesOnly) {
      if (next === this.searchedState) return;
      // "paying" is written only to replace a waiting state, so search stops showing a wait.
      if (UNSEARCHED_STATES.has(next) && !WAITING_STATES.has(this.searchedState as PaymentState)) {
        return;
      }
    }
    this.searchedState = next;
    upsertSearchAttributes([{ key: MTurkBonusState, value: next }]);
  }
}
