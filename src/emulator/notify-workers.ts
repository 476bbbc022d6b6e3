/** NotifyWorkers. */
import { autoApproveIfDue } from './assignments';
import type { Call } from './call';
import type { Input } from './model';
import type { NotificationRec, Records } from './records';

/** The workers this requester has worked with, and those among them with reviewed work. */
function workersOf(records: Records, now: number) {
  const reviewed = new Set<string>();
  const known = new Set<string>();
  for (const a of records.assignments.values()) {
    autoApproveIfDue(records, a, now);
    known.add(a.workerId);
    if (a.status === 'Approved' || a.status === 'Rejected') reviewed.add(a.workerId);
  }
  return { reviewed, known };
}

/**
 * MTurk delivers a notification only to workers whose work this requester approved or
 * rejected; the others come back in NotifyWorkersFailureStatuses (a HardFailure: sending
 * again will not help), and the call itself succeeds. A worker named twice gets it once.
 * MTurk's failure messages are not documented; these are the emulator's own words.
 */
export function notifyWorkers({ records, requestId, now }: Call, input: Input) {
  const requested = [...new Set(input.WorkerIds as string[])];
  const { reviewed, known } = workersOf(records, now);
  const failures: NotificationRec['failures'] = [];
  const delivered: string[] = [];
  for (const workerId of requested) {
    if (reviewed.has(workerId)) {
      delivered.push(workerId);
    } else if (known.has(workerId)) {
      failures.push({
        workerId,
        code: 'HardFailure',
        message: `Worker ${workerId} has no approved or rejected work for this requester, so it cannot be notified.`,
      });
    } else {
      failures.push({
        workerId,
        code: 'HardFailure',
        message: `Worker ${workerId} has not worked for this requester, so it cannot be notified.`,
      });
    }
  }
  records.notifications.push({
    subject: input.Subject as string,
    messageText: input.MessageText as string,
    workerIds: delivered,
    failures,
    requestId,
    time: now,
  });
  records.dirty = true;
  return {
    NotifyWorkersFailureStatuses: failures.map((f) => ({
      NotifyWorkersFailureCode: f.code,
      NotifyWorkersFailureMessage: f.message,
      WorkerId: f.workerId,
    })),
  };
}
