/** CreateHIT and GetHIT. */
import type { Call } from './call';
import { timedRequestError } from './errors';
import { addHit, DEFAULT_AUTO_APPROVAL_S, hitJson, hitOrThrow } from './hits';
import type { Input } from './model';
import { parseDollars } from './money';

export function createHit({ records, now }: Call, input: Input) {
  const bad = (msg: string) =>
    timedRequestError(msg, 'AWS.MechanicalTurk.InvalidParameterValue', now);
  const lifetime = input.LifetimeInSeconds as number;
  const duration = input.AssignmentDurationInSeconds as number;
  const max = (input.MaxAssignments as number | undefined) ?? 1;
  const autoDelay =
    (input.AutoApprovalDelayInSeconds as number | undefined) ?? DEFAULT_AUTO_APPROVAL_S;
  if (lifetime < 30 || lifetime > 31536000) {
    throw bad('LifetimeInSeconds must be between 30 and 31536000 seconds.');
  }
  if (duration < 30 || duration > 31536000) {
    throw bad('AssignmentDurationInSeconds must be between 30 and 31536000 seconds.');
  }
  if (max < 1 || max > 1000000) throw bad('MaxAssignments must be between 1 and 1000000.');
  if (autoDelay < 0 || autoDelay > 2592000) {
    throw bad('AutoApprovalDelayInSeconds must be between 0 and 2592000 seconds.');
  }
  const hit = addHit(
    records,
    {
      title: input.Title as string,
      description: input.Description as string,
      rewardCents: parseDollars(input.Reward as string) ?? 0,
      maxAssignments: max,
      autoApprovalDelayS: autoDelay,
      assignmentDurationS: duration,
      lifetimeS: lifetime,
      question: input.Question as string | undefined,
      keywords: input.Keywords as string | undefined,
      annotation: input.RequesterAnnotation as string | undefined,
    },
    now,
  );
  return { HIT: hitJson(records, hit, now) };
}

export function getHit({ records, now }: Call, input: Input) {
  return { HIT: hitJson(records, hitOrThrow(records, input.HITId as string, now), now) };
}
