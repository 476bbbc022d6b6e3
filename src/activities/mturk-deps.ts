import type { MTurkClient } from '@aws-sdk/client-mturk';
import { log as activityLog } from '@temporalio/activity';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { FailureType } from '../common/errors';
import type { MTurkTargetBinding } from '../common/types';
import { sameTarget, targetOfClient } from '../mturk/client';

export interface MTurkActivityDeps {
  /** The process's one MTurkClient (see createMTurkClient). */
  client: MTurkClient;
  /** Defaults to the activity logger of @temporalio/activity. */
  logger?: Logger;
  /** Largest bonus sendBonus pays, in cents; default DEFAULT_MAX_BONUS_CENTS ($100.00). */
  maxBonusCents?: number;
  /** Clock for log timings; default `() => new Date()`. */
  now?: () => Date;
  /**
   * The MTurk this worker pays into, for refusing payments confirmed for another one. Default:
   * read from the client's endpoint (production and sandbox hosts by name, anything else local).
   */
  target?: MTurkTargetBinding;
}

/** The deps with their defaults applied, shared by every MTurk activity of one factory call. */
export interface MTurkActivityContext {
  client: MTurkClient;
  /** Resolved per call: the activity logger is only usable inside an activity's context. */
  logger: () => Logger;
  maxBonusCents?: number;
  now: () => Date;
  /** Refuses a payment confirmed for another MTurk than this worker's, before any call. */
  checkTarget: (binding: MTurkTargetBinding | undefined) => Promise<void>;
}

export function mturkActivityContext(deps: MTurkActivityDeps): MTurkActivityContext {
  return {
    client: deps.client,
    logger: () => deps.logger ?? activityLog,
    maxBonusCents: deps.maxBonusCents,
    now: deps.now ?? (() => new Date()),
    checkTarget: targetCheck(deps),
  };
}

function targetCheck(deps: MTurkActivityDeps) {
  /** Resolved once: the MTurk this worker's client talks to. */
  let ownTargetPromise: Promise<MTurkTargetBinding> | undefined;
  function ownTarget(): Promise<MTurkTargetBinding> {
    ownTargetPromise ??= deps.target
      ? Promise.resolve(deps.target)
      : targetOfClient(deps.client).catch((err: unknown) => {
          ownTargetPromise = undefined;
          throw err;
        });
    return ownTargetPromise;
  }

  return async function checkTarget(binding: MTurkTargetBinding | undefined): Promise<void> {
    if (binding === undefined) return;
    const own = await ownTarget();
    if (sameTarget(binding, own)) return;
    throw ApplicationFailure.create({
      type: FailureType.TargetMismatch,
      message:
        `This payment was confirmed for MTurk ${binding.name} at ${binding.endpoint}, but this ` +
        `worker pays into MTurk ${own.name} at ${own.endpoint}; nothing was sent`,
      nonRetryable: true,
      details: [{ confirmedFor: binding, worker: own }],
    });
  };
}
