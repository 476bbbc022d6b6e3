/**
 * Reading MTurk's ledger for an audit: ListBonusPayments by HIT or by assignment, every page,
 * and ListAssignmentsForHIT to learn which assignments a HIT holds. Reads only: an audit never
 * writes to MTurk.
 */
import {
  ListAssignmentsForHITCommand,
  ListBonusPaymentsCommand,
  type MTurkClient,
} from '@aws-sdk/client-mturk';
import { FailureType } from '../common/errors';
import { tryParseDollarsToCents } from '../common/money';
import { MTurkReadError, withRetry, type RetryOptions } from './paced';

/** MTurk's largest page. */
export const PAGE_SIZE = 100;
/** 10,000 pages of 100 is far beyond any HIT: stop rather than loop on a broken NextToken. */
const MAX_PAGES = 10_000;

/** One bonus as MTurk lists it, amount in cents. */
export interface ListedBonus {
  /** The HIT it was listed under (by-HIT listings only). */
  hitId?: string;
  assignmentId: string;
  workerId: string;
  amountCents: number;
  reason: string;
  /** ISO time MTurk granted it, when MTurk says. */
  grantTime?: string;
}

export type LedgerScope = { hitId: string } | { assignmentId: string };

export type ScopeListing =
  | { found: true; bonuses: ListedBonus[]; calls: number }
  /** MTurk does not know the HIT or assignment. */
  | { found: false; message: string; calls: number };

function amountOf(raw: string | undefined, where: string): number {
  // MTurk writes dollars ("1.20"); a trailing point ("5.") is read as whole dollars.
  const parsed = tryParseDollarsToCents((raw ?? '').trim().replace(/\.$/, ''));
  if (!parsed.ok) {
    throw new MTurkReadError(
      `MTurk listed a bonus ${where} with an unreadable BonusAmount ${JSON.stringify(raw)}`,
      false,
    );
  }
  return parsed.cents;
}

/** Every bonus of one HIT or assignment, all pages; `found: false` when MTurk does not know it. */
export async function listBonusPayments(
  client: MTurkClient,
  scope: LedgerScope,
  retry: RetryOptions = {},
): Promise<ScopeListing> {
  const bonuses: ListedBonus[] = [];
  const where = 'hitId' in scope ? `of HIT ${scope.hitId}` : `of assignment ${scope.assignmentId}`;
  let nextToken: string | undefined;
  let calls = 0;
  do {
    let page;
    try {
      page = await withRetry(
        'ListBonusPayments',
        () =>
          client.send(
            new ListBonusPaymentsCommand({
              ...('hitId' in scope ? { HITId: scope.hitId } : { AssignmentId: scope.assignmentId }),
              MaxResults: PAGE_SIZE,
              NextToken: nextToken,
            }),
          ),
        retry,
      );
    } catch (err) {
      calls += 1;
      if (
        err instanceof MTurkReadError &&
        err.failureType === FailureType.AssignmentNotFound &&
        calls === 1
      ) {
        return { found: false, message: err.message, calls };
      }
      throw err;
    }
    calls += 1;
    for (const b of page.BonusPayments ?? []) {
      bonuses.push({
        ...('hitId' in scope && { hitId: scope.hitId }),
        assignmentId: b.AssignmentId ?? '',
        workerId: b.WorkerId ?? '',
        amountCents: amountOf(b.BonusAmount, where),
        reason: b.Reason ?? '',
        ...(b.GrantTime && { grantTime: b.GrantTime.toISOString() }),
      });
    }
    nextToken = page.NextToken || undefined;
    if (calls >= MAX_PAGES && nextToken) {
      throw new MTurkReadError(`ListBonusPayments ${where}: more than ${MAX_PAGES} pages`, false);
    }
  } while (nextToken);
  return { found: true, bonuses, calls };
}

/**
 * The IDs of every assignment of a HIT, whatever its status (`ids` absent when MTurk does not
 * know the HIT), and the pages it took: the audit reports the calls it made.
 */
export async function listAssignmentIds(
  client: MTurkClient,
  hitId: string,
  retry: RetryOptions = {},
): Promise<{ ids?: string[]; calls: number }> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    let page;
    try {
      page = await withRetry(
        'ListAssignmentsForHIT',
        () =>
          client.send(
            new ListAssignmentsForHITCommand({
              HITId: hitId,
              AssignmentStatuses: ['Submitted', 'Approved', 'Rejected'],
              MaxResults: PAGE_SIZE,
              NextToken: nextToken,
            }),
          ),
        retry,
      );
    } catch (err) {
      if (
        err instanceof MTurkReadError &&
        err.failureType === FailureType.AssignmentNotFound &&
        pages === 0
      ) {
        return { calls: 1 };
      }
      throw err;
    }
    pages += 1;
    for (const a of page.Assignments ?? []) if (a.AssignmentId) ids.push(a.AssignmentId);
    nextToken = page.NextToken || undefined;
  } while (nextToken && pages < MAX_PAGES);
  return { ids, calls: pages };
}
