/**
 * describeFailure: the one way reports, results and the status query say what went wrong,
 * whatever the depth of the failure chain.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  RetryState,
  TerminatedFailure,
  TimeoutFailure,
  TimeoutType,
} from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { describeFailure } from '../../src/common/failures';

const activity = (cause: Error) =>
  new ActivityFailure('activity failed', 'sendBonus', '1', RetryState.TIMEOUT, 'w', cause);

describe('describeFailure', () => {
  it('names the typed failure an activity raised', () => {
    const refused = ApplicationFailure.nonRetryable('balance too low', 'InsufficientFunds');
    expect(describeFailure(activity(refused))).toEqual({
      type: 'InsufficientFunds',
      message: 'balance too low',
    });
  });

  it('behind a schedule-to-close timeout, names the last attempt’s failure', () => {
    const timeout = new TimeoutFailure(
      'activity timed out',
      undefined,
      TimeoutType.SCHEDULE_TO_CLOSE,
    );
    Object.assign(timeout, {
      cause: ApplicationFailure.retryable('MTurk unreachable', 'ServiceUnavailable'),
    });
    expect(describeFailure(activity(timeout))).toEqual({
      type: 'ServiceUnavailable',
      message: 'MTurk unreachable',
    });
  });

  it('takes the innermost typed failure through a child workflow', () => {
    const inner = ApplicationFailure.nonRetryable('rejected assignment', 'AssignmentNotApprovable');
    const outer = ApplicationFailure.create({
      message: 'payment failed',
      type: 'Wrapped',
      nonRetryable: true,
      cause: activity(inner),
    });
    const child = new ChildWorkflowFailure(
      'default',
      { workflowId: 'mturk-bonus/A1', runId: 'r' },
      'approveAndBonus',
      RetryState.NON_RETRYABLE_FAILURE,
      outer,
    );
    expect(describeFailure(child)).toEqual({
      type: 'AssignmentNotApprovable',
      message: 'rejected assignment',
    });
  });

  it('without a typed failure, names the kind: terminated, timed out', () => {
    expect(describeFailure(new TerminatedFailure('by operator'))).toEqual({
      type: 'Terminated',
      message: 'by operator',
    });
    expect(
      describeFailure(
        activity(new TimeoutFailure('no heartbeat', undefined, TimeoutType.HEARTBEAT)),
      ),
    ).toEqual({ type: 'TimedOut', message: 'no heartbeat' });
    expect(describeFailure(new Error('plain'))).toEqual({ message: 'plain' });
  });
});
