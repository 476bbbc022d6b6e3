/**
 * The notify activity: tell workers something with MTurk's NotifyWorkers (see notify-workers.ts
 * for what it sends, what it reports and how a retry resumes).
 *
 * A factory over the injected MTurkClient, like mturk-activities.ts: the activity lives in its
 * own module as a plain function of the deps (with defaults applied).
 */
import type { MTurkClient } from '@aws-sdk/client-mturk';
import { log as activityLog } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';
import { notifyWorkers, type NotifyContext, type NotifyWorkersInput } from './notify-workers';

export {
  NOTIFY_MAX_WORKERS_PER_CALL,
  NOTIFY_MESSAGE_MAX_LENGTH,
  NOTIFY_SUBJECT_MAX_LENGTH,
  checkNotifyWorkersInput,
  type NotifyWorkerFailure,
  type NotifyWorkersInput,
  type NotifyWorkersResult,
} from './notify-workers';

export interface NotifyActivityDeps {
  client: MTurkClient;
  /** Defaults to the activity logger of @temporalio/activity. */
  logger?: Logger;
}

export function createNotifyActivities(deps: NotifyActivityDeps) {
  const notify: NotifyContext = { client: deps.client, logger: () => deps.logger ?? activityLog };
  return {
    /** Sends the message to every worker, 100 per call; returns who got it and who did not. */
    notifyWorkers: (input: NotifyWorkersInput) => notifyWorkers(notify, input),
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;
