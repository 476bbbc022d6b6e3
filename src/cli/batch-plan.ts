/**
 * From a checked file to what gets paid: the batch input, its workflow ID and the money.
 *
 * The batch's workflow ID is a hash of the payments themselves (normalised and sorted), so the
 * same file, run again from any terminal, names the same batch: it attaches to it or reports
 * it, and never starts a second one. Reordering rows, "5" versus "5.00", or extra columns do not
 * change the ID; changing a payment does.
 */
import { createHash } from 'node:crypto';
import { formatCents, mturkFeeCents } from '../common/money';
import type { ValidatedApproveAndBonusInput } from '../common/validation';
import { bonusWorkflowId } from '../common/workflow-ids';
import { encodeBatchRows, type BatchRows } from '../common/batch';
import { validLines, type BonusFile } from './csv-input';

export const BATCH_ID_PREFIX = 'mturk-batch/';

export interface PlannedPayment {
  /** Line of the file the payment comes from. */
  line: number;
  request: ValidatedApproveAndBonusInput;
  workflowId: string;
}

export interface BatchPlan {
  batchId: string;
  /** In batch order (by workflow ID): row i of the batch is payments[i]. */
  payments: PlannedPayment[];
  rows: BatchRows;
  bonusCents: number;
  feeCents: number;
  totalCents: number;
}

export function batchIdOf(payments: readonly ValidatedApproveAndBonusInput[]): string {
  const canonical = payments
    .map((p) => [
      p.assignmentId,
      p.bonusKey ?? '',
      p.workerId,
      p.bonusAmount,
      p.reason,
      p.requesterFeedback ?? '',
    ])
    .sort((a, b) =>
      a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0,
    );
  const digest = createHash('sha256')
    .update(JSON.stringify(['temporal-mturk batch v1', canonical]))
    .digest('hex');
  return `${BATCH_ID_PREFIX}${digest.slice(0, 32)}`;
}

export function planBatch(file: BonusFile): BatchPlan {
  const payments = validLines(file)
    .map((l) => ({
      line: l.line,
      request: l.request,
      workflowId: bonusWorkflowId(l.request.assignmentId, l.request.bonusKey),
    }))
    .sort((a, b) => (a.workflowId < b.workflowId ? -1 : a.workflowId > b.workflowId ? 1 : 0));
  const requests = payments.map((p) => {
    const { bonusCents: _cents, ...request } = p.request;
    return request;
  });
  const bonusCents = payments.reduce((sum, p) => sum + p.request.bonusCents, 0);
  const feeCents = payments.reduce((sum, p) => sum + mturkFeeCents(p.request.bonusCents), 0);
  return {
    batchId: batchIdOf(payments.map((p) => p.request)),
    payments,
    rows: encodeBatchRows(requests),
    bonusCents,
    feeCents,
    totalCents: bonusCents + feeCents,
  };
}

/** "$1,234.50" for people; money stays in cents until this point. */
export function dollars(cents: number): string {
  const [whole = '0', fraction = '00'] = formatCents(cents).split('.');
  return `$${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${fraction}`;
}
