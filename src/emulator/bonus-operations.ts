/** SendBonus and ListBonusPayments. */
import { assignmentOrThrow } from './assignments';
import type { Call } from './call';
import { requestError, timedRequestError } from './errors';
import { hitOrThrow } from './hits';
import type { Input } from './model';
import { bonusFeeCents, formatCents, parseDollars, type FeeRounding } from './money';
import { decodePageToken, DEFAULT_PAGE_SIZE, encodePageToken } from './page-token';
import { epochSeconds } from './time';

/** Runs under withToken: a repeated UniqueRequestToken never gets here. */
export function sendBonus({ records, config, requestId, now }: Call, input: Input) {
  const workerId = input.WorkerId as string;
  const amount = parseDollars(input.BonusAmount as string) ?? 0;
  if (amount <= 0) {
    throw timedRequestError(
      'The bonus amount must be greater than $0.00.',
      'AWS.MechanicalTurk.InvalidParameterValue',
      now,
    );
  }
  const a = assignmentOrThrow(records, input.AssignmentId as string, now);
  if (a.workerId !== workerId) {
    throw timedRequestError(
      `Worker ${workerId} did not complete assignment ${a.id}.`,
      'AWS.MechanicalTurk.InvalidParameterValue',
      now,
    );
  }
  const fee = bonusFeeCents(amount, config.feeRounding as FeeRounding);
  if (records.balanceCents < amount + fee) {
    throw requestError(
      'This Requester has insufficient funds in their account to complete this transaction. ' +
        'Please visit https://requester.mturk.com/prepayments/new to purchase Prepaid HITs.',
      'AWS.MechanicalTurk.InsufficientFunds',
    );
  }
  records.balanceCents -= amount + fee;
  const token = input.UniqueRequestToken;
  records.addBonus({
    workerId,
    assignmentId: a.id,
    hitId: a.hitId,
    amountCents: amount,
    feeCents: fee,
    reason: config.normaliseReasons
      ? (input.Reason as string).normalize('NFC').replace(/\s+/gu, ' ').trim()
      : (input.Reason as string),
    token: typeof token === 'string' ? token : null,
    requestId,
    time: now,
  });
  records.dirty = true;
  return {};
}

/** The indexes of the bonuses one ListBonusPayments call lists, and its page-token key. */
function bonusesToList({ records, config, now }: Call, input: Input) {
  const hitId = input.HITId as string | undefined;
  const asgId = input.AssignmentId as string | undefined;
  if ((hitId === undefined) === (asgId === undefined)) {
    throw timedRequestError(
      'Either the HITId parameter or the AssignmentId parameter must be specified, but not both.',
      'AWS.MechanicalTurk.InvalidParameterValue',
      now,
    );
  }
  let idx: number[];
  let key: string;
  if (hitId !== undefined) {
    hitOrThrow(records, hitId, now);
    idx = records.bonusesByHit.get(hitId) ?? [];
    key = `BH:${hitId}`;
  } else {
    assignmentOrThrow(records, asgId!, now);
    idx = records.bonusesByAssignment.get(asgId!) ?? [];
    key = `BA:${asgId}`;
  }
  // A lagging listing: bonuses granted within the lag are not shown yet.
  const lag = config.listingLagMs;
  if (lag > 0) idx = idx.filter((i) => now - records.bonuses[i]!.time >= lag);
  return { idx, key };
}

export function listBonusPayments(call: Call, input: Input) {
  const { idx, key } = bonusesToList(call, input);
  const max = (input.MaxResults as number | undefined) ?? DEFAULT_PAGE_SIZE;
  const start = input.NextToken ? decodePageToken(input.NextToken as string, key) : 0;
  const slice = idx.slice(start, start + max);
  const payments = slice.map((i) => {
    const b = call.records.bonuses[i]!;
    return {
      WorkerId: b.workerId,
      BonusAmount: formatCents(b.amountCents),
      AssignmentId: b.assignmentId,
      Reason: b.reason,
      GrantTime: epochSeconds(b.time),
    };
  });
  const next = start + max < idx.length ? encodePageToken(start + max, key) : undefined;
  return { NumResults: payments.length, NextToken: next, BonusPayments: payments };
}
