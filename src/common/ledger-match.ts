/**
 * What MTurk's ledger says about one payment.
 *
 * ListBonusPayments lists assignment, worker, amount, reason and grant time, but not the
 * UniqueRequestToken. So a payment is recognised on the ledger by what we sent, and the reason
 * we send must say which payment it is:
 * - a keyed bonus ends its reason with the key marker " (bonus <key>)" (bonus-reason.ts), and
 *   no user reason may end with one (validation.ts refuses it), so keyed and unkeyed bonuses
 *   never look alike;
 * - an assignment has at most one unkeyed bonus. Whoever paid it (an earlier run, a deleted
 *   workflow, another tool), an unkeyed bonus listed for the assignment and worker is *the*
 *   unkeyed bonus: the same amount and reason is this payment, anything else a conflict.
 *
 * Texts are compared normalised (Unicode NFC, runs of whitespace as one space, trimmed),
 * because how MTurk stores a reason is not documented.
 *
 * Pure: the activities, the audit and the tests share it; workflow code may import it.
 */
import { tryParseDollarsToCents } from './money';

/** One entry of ListBonusPayments, as the SDK returns it. */
export interface ListedBonus {
  AssignmentId?: string;
  WorkerId?: string;
  BonusAmount?: string;
  Reason?: string;
  GrantTime?: Date | string | number;
}

/** The payment we look for, with the reason exactly as sent to MTurk. */
export interface WantedBonus {
  assignmentId: string;
  workerId: string;
  bonusCents: number;
  /** The Reason sent to MTurk (a keyed bonus's reason carries its key marker). */
  reason: string;
  bonusKey?: string;
  /**
   * Other reasons this payment may have been sent with (a payment carried across
   * continue-as-new by a version that did not record the reason it sent): matched exactly,
   * never taken as conflicts.
   */
  otherReasons?: readonly string[];
}

/** A listed bonus in plain terms, for messages and reports. */
export interface LedgerEntry {
  amount: string;
  reason: string;
  /** ISO time, when MTurk listed one. */
  grantTime?: string;
}

export type LedgerMatch =
  | { kind: 'paid'; entry: LedgerEntry }
  | { kind: 'conflict'; entries: LedgerEntry[] }
  | { kind: 'none' };

/** The marker a keyed bonus's reason ends with. */
const KEY_MARKER = /\(bonus ([A-Za-z0-9_.-]{1,32})\)$/;

/** NFC, whitespace runs as one space, trimmed: how we compare texts MTurk may have normalised. */
export function normaliseText(text: string): string {
  return text.normalize('NFC').replace(/\s+/gu, ' ').trim();
}

/** The bonus key a reason's marker names, or undefined for an unkeyed reason. */
export function bonusKeyOfReason(reason: string): string | undefined {
  return KEY_MARKER.exec(normaliseText(reason))?.[1];
}

/** True when `reason` ends with a key marker (a user reason must not: validation.ts). */
export function endsWithKeyMarker(reason: string): boolean {
  return bonusKeyOfReason(reason) !== undefined;
}

/** Amounts as MTurk lists them; tolerates the "5." its own pattern allows. */
export function listedAmountCents(amount: string | undefined): number | undefined {
  if (amount === undefined) return undefined;
  const parsed = tryParseDollarsToCents(amount.trim().replace(/\.$/, ''));
  return parsed.ok ? parsed.cents : undefined;
}

function entryOf(listed: ListedBonus): LedgerEntry {
  const entry: LedgerEntry = {
    amount: (listed.BonusAmount ?? '').trim(),
    reason: listed.Reason ?? '',
  };
  if (listed.GrantTime !== undefined) {
    const time = new Date(listed.GrantTime);
    if (!Number.isNaN(time.getTime())) entry.grantTime = time.toISOString();
  }
  return entry;
}

/**
 * Finds this payment among the bonuses listed for its assignment.
 * - `paid`: a listed bonus has the same worker, amount (in cents) and reason (normalised).
 * - `conflict`: not paid, but a bonus that holds the same place is listed with another amount
 *   or reason: an unkeyed bonus for an unkeyed payment, a bonus with the same key marker for a
 *   keyed one. Paying would give the worker a second bonus nobody asked for.
 * - `none`: nothing listed for it. Not proof that nothing was paid: a listing may lag.
 *
 * A keyed payment sent without its marker (started before keys were carried in reasons) is
 * matched exactly and never conflicts: its siblings look the same on the ledger.
 */
export function matchLedger(listed: readonly ListedBonus[], wanted: WantedBonus): LedgerMatch {
  const reasons = new Set([wanted.reason, ...(wanted.otherReasons ?? [])].map(normaliseText));
  const mine = listed.filter(
    (b) => b.AssignmentId === wanted.assignmentId && b.WorkerId === wanted.workerId,
  );
  const same = mine.find(
    (b) =>
      listedAmountCents(b.BonusAmount) === wanted.bonusCents &&
      reasons.has(normaliseText(b.Reason ?? '')),
  );
  if (same) return { kind: 'paid', entry: entryOf(same) };

  const sentKey = bonusKeyOfReason(wanted.reason);
  const legacyKeyed = wanted.bonusKey !== undefined && sentKey !== wanted.bonusKey;
  if (legacyKeyed) return { kind: 'none' };
  const holdsOurPlace = (b: ListedBonus) => bonusKeyOfReason(b.Reason ?? '') === sentKey;
  const conflicts = mine.filter(holdsOurPlace).map(entryOf);
  return conflicts.length > 0 ? { kind: 'conflict', entries: conflicts } : { kind: 'none' };
}

/** "$2.50 "Thanks" granted 2026-11-29T10:00:00.000Z" for messages. */
export function describeLedgerEntry(entry: LedgerEntry): string {
  const when = entry.grantTime ? ` granted ${entry.grantTime}` : '';
  return `${entry.amount} ${JSON.stringify(entry.reason)}${when}`;
}
