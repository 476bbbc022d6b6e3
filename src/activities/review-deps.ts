import type { MTurkClient } from '@aws-sdk/client-mturk';
import { log as activityLog } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';

export interface ReviewActivityDeps {
  /** The process's one MTurkClient (see createMTurkClient). */
  client: MTurkClient;
  /**
   * Client for `workflowOutcome`; default the worker's own (`Context.current().client`), so a
   * worker needs no second connection.
   */
  temporal?: Client;
  /** Defaults to the activity logger of @temporalio/activity. */
  logger?: Logger;
}

/** What the review's MTurk activities use of the deps, with the logger's default applied. */
export interface ReviewMTurkContext {
  client: MTurkClient;
  /** Resolved per call: the activity logger is only usable inside an activity's context. */
  logger: () => Logger;
}

export function reviewMTurkContext(deps: ReviewActivityDeps): ReviewMTurkContext {
  return { client: deps.client, logger: () => deps.logger ?? activityLog };
}
