import { GetAccountBalanceCommand } from '@aws-sdk/client-mturk';
import { listedAmountCents } from '../common/ledger-match';
import { formatCents } from '../common/money';
import { rethrowMTurkError } from '../mturk/errors';
import type { MTurkActivityContext } from './mturk-deps';

export interface AccountBalance {
  /** Dollars, e.g. "10000.00". */
  availableBalance: string;
  onHoldBalance?: string;
}

/** The account balance, for checking that bonus plus fee is covered before paying. */
export async function getAccountBalance(mturk: MTurkActivityContext): Promise<AccountBalance> {
  let output;
  try {
    output = await mturk.client.send(new GetAccountBalanceCommand({}));
  } catch (err) {
    rethrowMTurkError(err, { operation: 'GetAccountBalance' });
  }
  const available = normaliseDollars(output.AvailableBalance);
  if (available === undefined) {
    // A malformed answer is more likely a glitch than a permanent state: let Temporal retry.
    throw new Error(
      `GetAccountBalance returned no usable AvailableBalance (${JSON.stringify(output.AvailableBalance)})`,
    );
  }
  const onHold = normaliseDollars(output.OnHoldBalance);
  return { availableBalance: available, ...(onHold !== undefined && { onHoldBalance: onHold }) };
}

function normaliseDollars(value: string | undefined): string | undefined {
  const cents = listedAmountCents(value);
  return cents === undefined ? undefined : formatCents(cents);
}
