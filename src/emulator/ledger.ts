/** The ledger the admin API shows: every payment, review and notification, and the counters. */
import { formatCents } from './money';
import type { ActionRec, Records } from './records';
import type { Ledger, LedgerAction } from './types';

const iso = (ms: number) => new Date(ms).toISOString();
const action = (a: ActionRec): LedgerAction => ({ ...a, time: iso(a.time) });

export function ledgerOf(records: Records, now: number): Ledger {
  let paid = 0;
  let fees = 0;
  const bonuses = records.bonuses.map((b) => {
    paid += b.amountCents;
    fees += b.feeCents;
    return {
      workerId: b.workerId,
      assignmentId: b.assignmentId,
      hitId: b.hitId,
      amount: formatCents(b.amountCents),
      fee: formatCents(b.feeCents),
      reason: b.reason,
      token: b.token,
      requestId: b.requestId,
      time: iso(b.time),
    };
  });
  return {
    balance: formatCents(records.balanceCents),
    onHoldBalance: '0.00',
    now: iso(now),
    bonuses,
    approvals: records.approvals.map(action),
    rejections: records.rejections.map(action),
    notifications: records.notifications.map((n) => ({
      subject: n.subject,
      messageText: n.messageText,
      workerIds: [...n.workerIds],
      failures: n.failures.map((f) => ({ ...f })),
      requestId: n.requestId,
      time: iso(n.time),
    })),
    requests: { ...records.requests },
    faults: { ...records.faults },
    rateLimited: { ...records.rateLimited },
    totals: { bonusCount: bonuses.length, bonuses: formatCents(paid), fees: formatCents(fees) },
  };
}
