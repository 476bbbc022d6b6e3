/**
 * The MTurk activities: approve an assignment and pay a bonus, each safe to run again.
 *
 * Temporal retries an activity whenever it cannot tell whether the last attempt finished (a
 * crash, a timeout, a dropped response). Each activity therefore first finds out whether its
 * work is already done on MTurk and only then acts:
 * - approveAssignment reads the assignment's status before approving;
 * - sendBonus looks the payment up in ListBonusPayments before every SendBonus, and always
 *   sends the workflow's UniqueRequestToken (MTurk refuses a second payment with the same token
 *   for 24 hours); a duplicate-token answer is confirmed on the ledger, never paid past.
 *
 * Built as a factory over an injected MTurkClient (the samples-typescript pattern), so the
 * worker builds one client and tests point a real client at the emulator. Each activity lives
 * in its own module as a plain function of the deps (with defaults applied).
 */
import type { ApproveAssignmentInput } from '../common/types';
import { getAccountBalance } from './account-balance';
import { approveAssignment } from './approve-assignment';
import { lookUpBonus, type LookUpBonusInput } from './ledger-lookup';
import { mturkActivityContext, type MTurkActivityDeps } from './mturk-deps';
import { sendBonus } from './send-bonus';

export type { AccountBalance } from './account-balance';
export type { LookUpBonusInput, LookUpBonusResult } from './ledger-lookup';
export type { MTurkActivityDeps } from './mturk-deps';

export function createMTurkActivities(deps: MTurkActivityDeps) {
  const mturk = mturkActivityContext(deps);
  return {
    approveAssignment: (input: ApproveAssignmentInput) => approveAssignment(mturk, input),
    sendBonus: (input: LookUpBonusInput) => sendBonus(mturk, input),
    lookUpBonus: (input: LookUpBonusInput) => lookUpBonus(mturk, input),
    getAccountBalance: () => getAccountBalance(mturk),
  };
}

export type MTurkActivities = ReturnType<typeof createMTurkActivities>;
