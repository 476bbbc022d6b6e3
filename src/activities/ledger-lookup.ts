import { ListBonusPaymentsCommand, type BonusPayment } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import {
  describeLedgerEntry,
  matchLedger,
  type LedgerEntry,
  type LedgerMatch,
} from '../common/ledger-match';
import type { SendBonusInput } from '../common/types';
import { validateSendBonusInput, type ValidatedSendBonusInput } from '../common/validation';
import { rethrowMTurkError } from '../mturk/errors';
import type { MTurkActivityContext } from './mturk-deps';

/** A sendBonus input, plus reasons an older run of the payment may have sent (matched too). */
export type LookUpBonusInput = SendBonusInput & { otherReasons?: string[] };

export interface LookUpBonusResult {
  /** The bonus is on MTurk's ledger. */
  listed: boolean;
  grantTime?: string;
}

/** ListBonusPayments page size: MTurk's maximum. */
const BONUS_PAGE_SIZE = 100;
/** 100 pages of 100 bonuses for one assignment is far beyond real use: stop rather than loop. */
const MAX_BONUS_PAGES = 100;

/** A lookUpBonus or sendBonus input, validated as a sendBonus input. */
export interface LookUpRequest {
  request: ValidatedSendBonusInput;
  otherReasons?: readonly string[];
}

/** Validates the input and refuses one confirmed for another MTurk, before any ledger call. */
export async function checkLookUpInput(
  mturk: MTurkActivityContext,
  input: LookUpBonusInput,
): Promise<LookUpRequest> {
  const { otherReasons, send } = splitOtherReasons(input);
  const request = validateSendBonusInput(send, { maxBonusCents: mturk.maxBonusCents });
  await mturk.checkTarget(request.target);
  return { request, otherReasons };
}

/**
 * `otherReasons` apart from the sendBonus fields, which validation checks (a caller's input
 * that is not even an object is left whole for validation to refuse as such).
 */
function splitOtherReasons(input: LookUpBonusInput): {
  otherReasons?: readonly string[];
  send: unknown;
} {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { send: input };
  const { otherReasons, ...send } = input;
  const reasons = Array.isArray(otherReasons)
    ? otherReasons.filter((r): r is string => typeof r === 'string')
    : undefined;
  return { otherReasons: reasons, send };
}

/**
 * What MTurk's ledger lists for this payment (see ledger-match.ts for the rules). Throws
 * PaymentConflict when the ledger holds another bonus in this payment's place.
 */
export async function lookUpPayment(
  mturk: MTurkActivityContext,
  { request, otherReasons }: LookUpRequest,
): Promise<Exclude<LedgerMatch, { kind: 'conflict' }>> {
  const found = matchLedger(await listBonuses(mturk, request.assignmentId), {
    assignmentId: request.assignmentId,
    workerId: request.workerId,
    bonusCents: request.bonusCents,
    reason: request.reason,
    bonusKey: request.bonusKey,
    otherReasons,
  });
  if (found.kind === 'conflict') throw paymentConflict(request, found.entries);
  return found;
}

/**
 * Every bonus ListBonusPayments lists for the assignment (all pages). A partial listing could
 * make "not paid" look true, so one that does not end fails the attempt instead.
 */
async function listBonuses(
  mturk: MTurkActivityContext,
  assignmentId: string,
): Promise<BonusPayment[]> {
  const listed: BonusPayment[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_BONUS_PAGES; page++) {
    let output;
    try {
      output = await mturk.client.send(
        new ListBonusPaymentsCommand({
          AssignmentId: assignmentId,
          MaxResults: BONUS_PAGE_SIZE,
          NextToken: nextToken,
        }),
      );
    } catch (err) {
      rethrowMTurkError(err, { operation: 'ListBonusPayments', assignmentId });
    }
    listed.push(...(output.BonusPayments ?? []));
    if (!output.NextToken || output.NextToken === nextToken) return listed;
    nextToken = output.NextToken;
  }
  // Retryable, so it shows up in the workflow's history rather than paying blind.
  throw new Error(
    `ListBonusPayments for assignment ${assignmentId} did not end after ${MAX_BONUS_PAGES} pages`,
  );
}

function paymentConflict(
  request: ValidatedSendBonusInput,
  entries: LedgerEntry[],
): ApplicationFailure {
  const place = request.bonusKey
    ? `bonus key ${request.bonusKey}`
    : 'its one unkeyed bonus (give a deliberate second bonus a bonusKey)';
  return ApplicationFailure.create({
    type: FailureType.PaymentConflict,
    message:
      `MTurk already lists a bonus for assignment ${request.assignmentId} and worker ` +
      `${request.workerId} in the place of ${place}: ${entries.map(describeLedgerEntry).join('; ')}. ` +
      `This payment (${request.bonusAmount} ${JSON.stringify(request.reason)}) was not sent.`,
    nonRetryable: true,
    details: [{ assignmentId: request.assignmentId, workerId: request.workerId, listed: entries }],
  });
}

/**
 * Only the ledger lookup of sendBonus, never a payment: the workflow asks it while it waits for
 * a lagging listing to show a bonus whose token MTurk says was used.
 */
export async function lookUpBonus(
  mturk: MTurkActivityContext,
  input: LookUpBonusInput,
): Promise<LookUpBonusResult> {
  const found = await lookUpPayment(mturk, await checkLookUpInput(mturk, input));
  return found.kind === 'paid'
    ? {
        listed: true,
        ...(found.entry.grantTime !== undefined && { grantTime: found.entry.grantTime }),
      }
    : { listed: false };
}
