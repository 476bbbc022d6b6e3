import { ContinueAsNew, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import type {
  ApproveAndBonusResult,
  ApproveAndBonusWorkflowInput,
  PayUnderNewTokenRequest,
  PaymentStatus,
} from '../common/types';
import { Payment, checkPaymentInput } from './payment-state';

export { defaultNotificationMessage } from './payment-state';

export const statusQuery = defineQuery<PaymentStatus>('status');
/** Tell a payment waiting for funds that the balance was topped up. */
export const fundsAddedSignal = defineSignal('fundsAdded');
/**
 * An operator's decision for an `unconfirmed` payment: pay under a new token. MTurk said the
 * current token was used, so this may pay the worker a second time; ignored in any other state.
 */
export const payUnderNewTokenSignal = defineSignal<[PayUnderNewTokenRequest?]>('payUnderNewToken');

/**
 * Approves an MTurk assignment, then pays its bonus exactly once.
 *
 * Start it by name (`approveAndBonus`) with one JSON object; the workflow ID should come from
 * `bonusWorkflowId()`. Whatever starts a run (a first start, a reset, a start by name with any
 * ID reuse policy, a rerun after the namespace's retention dropped an earlier run), every
 * SendBonus is preceded by a look at MTurk's ledger, so a run pays only what the ledger does not
 * already show.
 */
export async function approveAndBonus(
  input: ApproveAndBonusWorkflowInput,
): Promise<ApproveAndBonusResult> {
  // Bad input throws here, before any MTurk call and before the payment could be `failed`.
  const payment = new Payment(checkPaymentInput(input));
  setHandler(statusQuery, () => payment.status());
  setHandler(fundsAddedSignal, () => payment.fundsWereAdded());
  setHandler(payUnderNewTokenSignal, (asked?: PayUnderNewTokenRequest) =>
    payment.askToPayUnderNewToken(asked),
  );
  try {
    await payment.approve();
    const bonus = await payment.pay();
    return await payment.finish(bonus);
  } catch (err) {
    if (!(err instanceof ContinueAsNew)) payment.fail(err);
    throw err;
  }
}
