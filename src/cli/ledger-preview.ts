/**
 * `pay --check-ledger` (and every dry run): before anything is confirmed, how many of the
 * batch's payments MTurk's ledger already lists, by the same rule as the payment's own look-up
 * (ledger-match.ts). A rerun of an old file shows up as a no-op here, before anything starts.
 *
 * Reads only (ListBonusPayments per assignment, paced and retried as `audit` does).
 */
import type { MTurkClient } from '@aws-sdk/client-mturk';
import { reasonSentToMTurk } from '../common/bonus-reason';
import { matchLedger } from '../common/ledger-match';
import { formatCents } from '../common/money';
import { listBonusPayments, type ListedBonus } from './audit-ledger';
import type { BatchPlan } from './batch-plan';
import { MAX_IN_FLIGHT, mapPaced } from './paced';

export interface LedgerPreview {
  /** Payments MTurk already lists: they will not be paid again. */
  listed: number;
  /** Payments whose place on the ledger holds another bonus: they will fail as PaymentConflict. */
  conflicts: number;
  /** Payments the listing does not show (a listing may lag: the payment looks again). */
  notListed: number;
  /** Payments of assignments MTurk does not know. */
  unknownAssignments: number;
  /** ListBonusPayments calls made. */
  calls: number;
}

export async function previewLedger(client: MTurkClient, plan: BatchPlan): Promise<LedgerPreview> {
  const assignmentIds = [...new Set(plan.payments.map((p) => p.request.assignmentId))];
  const listings = await mapPaced(assignmentIds, MAX_IN_FLIGHT, (assignmentId) =>
    listBonusPayments(client, { assignmentId }),
  );
  const byAssignment = new Map<string, ListedBonus[] | undefined>();
  const preview: LedgerPreview = {
    listed: 0,
    conflicts: 0,
    notListed: 0,
    unknownAssignments: 0,
    calls: 0,
  };
  assignmentIds.forEach((id, i) => {
    const listing = listings[i]!;
    preview.calls += listing.calls;
    byAssignment.set(id, listing.found ? listing.bonuses : undefined);
  });
  for (const { request } of plan.payments) {
    const bonuses = byAssignment.get(request.assignmentId);
    if (!bonuses) {
      preview.unknownAssignments += 1;
      continue;
    }
    const found = matchLedger(
      bonuses.map((b) => ({
        AssignmentId: b.assignmentId,
        WorkerId: b.workerId,
        BonusAmount: formatCents(b.amountCents),
        Reason: b.reason,
        ...(b.grantTime !== undefined && { GrantTime: b.grantTime }),
      })),
      {
        assignmentId: request.assignmentId,
        workerId: request.workerId,
        bonusCents: request.bonusCents,
        reason: reasonSentToMTurk(request.reason, request.bonusKey),
        ...(request.bonusKey !== undefined && { bonusKey: request.bonusKey }),
      },
    );
    if (found.kind === 'paid') preview.listed += 1;
    else if (found.kind === 'conflict') preview.conflicts += 1;
    else preview.notListed += 1;
  }
  return preview;
}

/** The preview's line: "5 of 5 payments already listed as paid ...". */
export function describeLedgerPreview(p: LedgerPreview, payments: number): string {
  const parts = [`${p.listed} of ${payments} payments already listed as paid (not paid again)`];
  if (p.conflicts > 0) parts.push(`${p.conflicts} conflict with a listed bonus (will fail)`);
  if (p.unknownAssignments > 0) parts.push(`${p.unknownAssignments} of unknown assignments`);
  parts.push(`${p.notListed} not listed`);
  return parts.join(', ');
}
