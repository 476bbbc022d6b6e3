/**
 * The versioning gate: every history in test/histories (recorded by scripts/record-history.ts
 * from real runs) must replay against the current workflow code. A change that would make a
 * running payment take another path fails here, before it reaches a worker; such changes go
 * through `patched()` (see docs/production.md).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import type {
  ApproveAndBonusWorkflowInput,
  PayBatchInput,
  ReviewHitInput,
} from '../../src/workflows';
import { PREPATCH_KEYED_CAN_HISTORY, continuedAsNewInput, loadHistory } from '../harness/histories';
import { workflowBundle } from '../harness/mturk';

const HISTORIES = path.join(__dirname, '..', 'histories');
/** payBatch's first run: a row paid earlier by payBonus, state checks, continue-as-new. */
const PAY_BATCH_CAN_HISTORY = 'pay-batch-continued-as-new-v1.json';
/**
 * reviewHit's first run, recorded from the code before its AssignmentReviewer / ReviewState
 * refactor (7dc778f): a payment payBonus made before the review, a new child, continue-as-new.
 */
const REVIEW_HIT_CAN_HISTORY = 'review-hit-earlier-continued-as-new-v1.json';
const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

function load(file: string): unknown {
  return JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
}

/**
 * Checks that the recorded file is a first run that met a payment payBonus made before (that
 * child's start failed: its ID was taken) and continued as new; returns the next run's input.
 */
function firstRunAfterEarlierPayment<T>(file: string): T {
  expect(files).toContain(file);
  const history = loadHistory(file);
  expect(history.events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
  expect(history.events.map((e) => e.eventType)).toContain(
    'EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED',
  );
  return continuedAsNewInput<T>(history);
}

beforeAll(() => {
  // Replays log their own nondeterminism at WARN; the assertions say what matters.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this process
  }
});

describe('recorded histories', () => {
  it('include a happy-path approveAndBonus', () => {
    expect(files).toContain('approve-and-bonus-v1.json');
  });

  it('include a keyed payment from before the reason patch that continued as new', () => {
    // Its replay covers the last run of an old version; its input is what the next run gets.
    expect(files).toContain(PREPATCH_KEYED_CAN_HISTORY);
    const history = loadHistory(PREPATCH_KEYED_CAN_HISTORY);
    expect(history.events.at(-1)?.eventType).toBe('EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW');
    // Recorded before any patched(): no marker, and a carried state without the reason sent.
    expect(history.events.map((e) => e.eventType)).not.toContain('EVENT_TYPE_MARKER_RECORDED');
    const next = continuedAsNewInput<ApproveAndBonusWorkflowInput>(history);
    expect(next.bonusKey).toBeTruthy();
    expect(next.carried).toMatchObject({ bonusAttempted: true });
    expect(next.carried).not.toHaveProperty('mturkReason');
  });

  it('include a payBatch run that continued as new', () => {
    // The row payBonus paid before went through paymentOutcome; the others were started here.
    const next = firstRunAfterEarlierPayment<PayBatchInput>(PAY_BATCH_CAN_HISTORY);
    expect(next.carried).toMatchObject({ next: 3, run: 1, outcomes: { statuses: 'app..' } });
  });

  it('include a reviewHit run that found an earlier payment and continued as new', () => {
    // The payment payBonus made first went through workflowOutcome: the review reports `earlier`.
    const next = firstRunAfterEarlierPayment<ReviewHitInput>(REVIEW_HIT_CAN_HISTORY);
    expect(next.carried?.seen).toEqual(['RECORDREVIEW11', 'RECORDREVIEW12']);
    expect(next.carried?.outcomes).toMatchObject([
      { assignmentId: 'RECORDREVIEW11', status: 'done', earlier: true },
      { assignmentId: 'RECORDREVIEW12', status: 'done' },
    ]);
    expect(next.carried?.outcomes[1]).not.toHaveProperty('earlier');
  });

  it('all replay against the current workflow code', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      files.map((file) => ({ workflowId: file, history: load(file) })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of results) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });

  it('catch an incompatible change (paying before approving)', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'fixtures', 'reordered-workflows.ts'),
      logger: new DefaultLogger('ERROR'),
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle }, load('approve-and-bonus-v1.json')),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
