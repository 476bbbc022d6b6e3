/**
 * The notifyWorkers activity: tell workers something (why they got a bonus, for instance) with
 * MTurk's NotifyWorkers, up to 100 workers per call.
 *
 * A worker MTurk cannot reach (it only delivers to workers whose work this requester approved or
 * rejected) is not an error: MTurk answers the call with a failure status for that worker, and
 * the activity returns those failures for the caller to report. It throws only for what
 * concerns the whole call: invalid input (non-retryable InvalidNotifyRequest, nothing sent), or
 * an MTurk error (classified like every other MTurk call, see mturk-errors.ts).
 *
 * NotifyWorkers takes no request token, so a repeated call sends the message again. Each group
 * sent is recorded in the activity's heartbeat details, and a retry resumes after the last
 * group MTurk answered: only a group whose answer was lost can reach its workers twice.
 */
import {
  NotifyWorkersCommand,
  type MTurkClient,
  type NotifyWorkersCommandOutput,
} from '@aws-sdk/client-mturk';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type Logger } from '@temporalio/common';
import { FailureType } from '../common/errors';
import { rethrowMTurkError } from '../mturk/errors';
import {
  NOTIFY_MESSAGE_MAX_LENGTH,
  NOTIFY_SUBJECT_MAX_LENGTH,
  checkWorkerId,
} from '../common/validation';

/** MTurk's limits for NotifyWorkers (API reference). */
export const NOTIFY_MAX_WORKERS_PER_CALL = 100;
export { NOTIFY_MESSAGE_MAX_LENGTH, NOTIFY_SUBJECT_MAX_LENGTH };

export interface NotifyWorkersInput {
  subject: string;
  messageText: string;
  /** Any number of workers; sent in groups of 100. Repeats are sent once. */
  workerIds: string[];
}

export interface NotifyWorkerFailure {
  workerId: string;
  /** MTurk's NotifyWorkersFailureCode: `SoftFailure` (may work later) or `HardFailure`. */
  code: string;
  message: string;
}

export interface NotifyWorkersResult {
  /** Workers MTurk accepted the message for. */
  notified: string[];
  /** Workers MTurk did not reach, with its reason. */
  failures: NotifyWorkerFailure[];
  /** NotifyWorkers calls made by this activity (all attempts). */
  calls: number;
}

/** What notifyWorkers uses of the factory's deps, with the logger's default applied. */
export interface NotifyContext {
  client: MTurkClient;
  /** Resolved per call: the activity logger is only usable inside an activity's context. */
  logger: () => Logger;
}

/** What a retry resumes from. */
interface NotifyProgress {
  groupsDone: number;
  notified: string[];
  failures: NotifyWorkerFailure[];
  calls: number;
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(
    `Invalid notification: ${message}`,
    FailureType.InvalidNotifyRequest,
  );
}

/** The input checked, worker IDs deduplicated in order; throws InvalidNotifyRequest. */
export function checkNotifyWorkersInput(input: unknown): NotifyWorkersInput {
  if (typeof input !== 'object' || input === null) throw invalid('input must be an object');
  const { subject, messageText, workerIds } = input as Partial<NotifyWorkersInput>;
  const issues: string[] = [];
  const text = (name: string, value: unknown, max: number) => {
    if (typeof value !== 'string' || value.trim() === '') {
      issues.push(`${name} must be non-empty text`);
    } else if (value.length > max) {
      issues.push(`${name} must be at most ${max} characters, got ${value.length}`);
    }
  };
  text('subject', subject, NOTIFY_SUBJECT_MAX_LENGTH);
  text('messageText', messageText, NOTIFY_MESSAGE_MAX_LENGTH);
  if (!Array.isArray(workerIds) || workerIds.length === 0) {
    issues.push('workerIds must be a non-empty list');
  } else {
    workerIds.forEach((id, i) => {
      const problem = typeof id === 'string' ? checkWorkerId(id) : 'must be a string';
      if (problem) issues.push(`workerIds[${i}] ${problem}`);
    });
  }
  if (issues.length > 0) throw invalid(issues.join('; '));
  return {
    subject: subject!,
    messageText: messageText!,
    workerIds: [...new Set(workerIds)],
  };
}

/** Sends the message to every worker, 100 per call; returns who got it and who did not. */
export async function notifyWorkers(
  notify: NotifyContext,
  input: NotifyWorkersInput,
): Promise<NotifyWorkersResult> {
  const message = checkNotifyWorkersInput(input);
  const groups = groupsOfOneCall(message.workerIds);
  const progress = resumeFrom() ?? { groupsDone: 0, notified: [], failures: [], calls: 0 };
  if (progress.groupsDone > 0) {
    notify.logger().info('notifyWorkers resumes after groups already sent', {
      groupsDone: progress.groupsDone,
      groups: groups.length,
    });
  }
  for (let g = progress.groupsDone; g < groups.length; g++) {
    await sendGroup(notify, message, groups[g]!, progress);
    progress.groupsDone = g + 1;
    heartbeat(progress);
  }
  notify.logger().info('notifyWorkers done', {
    notified: progress.notified.length,
    failed: progress.failures.length,
    calls: progress.calls,
  });
  return { notified: progress.notified, failures: progress.failures, calls: progress.calls };
}

function groupsOfOneCall(workerIds: string[]): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < workerIds.length; i += NOTIFY_MAX_WORKERS_PER_CALL) {
    groups.push(workerIds.slice(i, i + NOTIFY_MAX_WORKERS_PER_CALL));
  }
  return groups;
}

/** One NotifyWorkers call for `group`; adds who it reached and who not to `progress`. */
async function sendGroup(
  notify: NotifyContext,
  message: NotifyWorkersInput,
  group: string[],
  progress: NotifyProgress,
): Promise<void> {
  progress.calls += 1;
  let output;
  try {
    output = await notify.client.send(
      new NotifyWorkersCommand({
        Subject: message.subject,
        MessageText: message.messageText,
        WorkerIds: group,
      }),
    );
  } catch (err) {
    heartbeat(progress); // the call count, for the next attempt
    rethrowMTurkError(err, { operation: 'NotifyWorkers' });
  }
  const failed = failuresIn(output);
  progress.failures.push(...failed.values());
  progress.notified.push(...group.filter((id) => !failed.has(id)));
}

/** The workers MTurk's answer says it did not reach, by worker ID. */
function failuresIn(output: NotifyWorkersCommandOutput): Map<string, NotifyWorkerFailure> {
  const failed = new Map<string, NotifyWorkerFailure>();
  for (const status of output.NotifyWorkersFailureStatuses ?? []) {
    if (!status.WorkerId) continue;
    failed.set(status.WorkerId, {
      workerId: status.WorkerId,
      code: status.NotifyWorkersFailureCode ?? 'Unknown',
      message: status.NotifyWorkersFailureMessage ?? '',
    });
  }
  return failed;
}

/** Heartbeat details of an earlier attempt of this activity, if they look like ours. */
function resumeFrom(): NotifyProgress | undefined {
  let details: unknown;
  try {
    details = Context.current().info.heartbeatDetails;
  } catch {
    return undefined; // not inside an activity (direct call)
  }
  const d = details as Partial<NotifyProgress> | undefined;
  if (
    d &&
    Number.isInteger(d.groupsDone) &&
    Array.isArray(d.notified) &&
    Array.isArray(d.failures) &&
    Number.isInteger(d.calls)
  ) {
    return d as NotifyProgress;
  }
  return undefined;
}

function heartbeat(progress: NotifyProgress): void {
  try {
    Context.current().heartbeat(progress);
  } catch {
    // Outside an activity there is nothing to record progress in.
  }
}
