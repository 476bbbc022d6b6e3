/** The MTurk API operations the emulator implements, by name. */
import {
  approveAssignment,
  getAssignment,
  listAssignments,
  rejectAssignment,
} from './assignment-operations';
import { listBonusPayments, sendBonus } from './bonus-operations';
import type { Call } from './call';
import { createHit, getHit } from './hit-operations';
import type { Input } from './model';
import { formatCents } from './money';
import { notifyWorkers } from './notify-workers';
import { withToken } from './request-tokens';

/** Execute a validated MTurk operation. Throws ApiError for MTurk errors. */
export function executeOperation(op: string, input: Input, call: Call): unknown {
  switch (op) {
    case 'CreateHIT':
      return withToken(call, op, input.UniqueRequestToken, () => createHit(call, input));
    case 'GetHIT':
      return getHit(call, input);
    case 'ListAssignmentsForHIT':
      return listAssignments(call, input);
    case 'GetAssignment':
      return getAssignment(call, input);
    case 'ApproveAssignment':
      return approveAssignment(call, input);
    case 'RejectAssignment':
      return rejectAssignment(call, input);
    case 'SendBonus':
      return withToken(call, op, input.UniqueRequestToken, () => sendBonus(call, input));
    case 'ListBonusPayments':
      return listBonusPayments(call, input);
    case 'GetAccountBalance':
      return { AvailableBalance: formatCents(call.records.balanceCents), OnHoldBalance: '0.00' };
    case 'NotifyWorkers':
      return notifyWorkers(call, input);
    default:
      throw new Error(`operation ${op} is not implemented`);
  }
}
