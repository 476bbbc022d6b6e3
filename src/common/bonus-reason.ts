/**
 * The Reason text sent to MTurk for a bonus.
 *
 * MTurk's ListBonusPayments lists neither the UniqueRequestToken nor our bonus key, so a retry
 * recognises an earlier payment by assignment, worker, amount and reason. Two bonuses for one
 * assignment with the same amount and reason, told apart only by bonusKey, would then look
 * the same, and a retry of the second could take the first for itself: the worker would never
 * get the second bonus. A keyed bonus therefore carries its key in the reason the worker sees,
 * e.g. "Thanks for the extra work (bonus week-2)".
 *
 * Pure: workflow code calls it.
 */
export function reasonSentToMTurk(reason: string, bonusKey: string | undefined): string {
  return bonusKey ? `${reason} (bonus ${bonusKey})` : reason;
}
