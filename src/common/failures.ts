/**
 * One way to say what went wrong, for reports, results and logs, whatever the failure's depth:
 * an activity's failure inside a child workflow's failure inside a batch's, and so on.
 */
import { ApplicationFailure, TemporalFailure } from '@temporalio/common';

export interface FailureDescription {
  type?: string;
  message: string;
}

/**
 * What went wrong, for a report: the innermost ApplicationFailure (the one whose `type` callers
 * branch on, e.g. AssignmentNotApprovable), else the innermost Temporal failure (terminated,
 * cancelled, timed out).
 */
export function describeFailure(err: unknown): FailureDescription {
  let application: ApplicationFailure | undefined;
  let innermost: unknown = err;
  for (let e: unknown = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    innermost = e;
    if (e instanceof ApplicationFailure) application = e;
  }
  if (application) return { type: application.type ?? undefined, message: application.message };
  if (innermost instanceof TemporalFailure) {
    const name = innermost.name.replace(/Failure$/, '');
    return { type: name === 'Timeout' ? 'TimedOut' : name, message: innermost.message };
  }
  return { message: innermost instanceof Error ? innermost.message : String(innermost) };
}
