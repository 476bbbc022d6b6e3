import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMTurkActivities, createReviewActivities } from '../../src/activities';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { startReviewHit } from '../../src/review-client';
import type {
  ReviewAssignment,
  ReviewDecision,
  ReviewHitResult,
} from '../../src/common/review-types';
import { bonusWorkflowId, rejectionWorkflowId } from '../../src/common/workflow-ids';
import { reviewProgressQuery, type ReviewHitInput } from '../../src/workflows';
import { emulatorClient, workflowBundle } from '../harness/mturk';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';

let env: TestWorkflowEnvironment;
let emu: RunningEmulator;
let taskQueue: string;
let decisionQueue: string;
let workers: Worker[];
let running: Promise<void>[];

/** What the "user's" decision activity answers, by worker ID; set per test. */
let decisions: Record<string, ReviewDecision | (() => never)>;
let decisionCalls: string[];
let concurrentDecisions = 0;
let maxConcurrentDecisions = 0;

beforeAll(async () => {
  env = await connectToDevServer();
  emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emu?.stop();
  await env?.teardown();
});

beforeEach(async () => {
  emu.reset();
  decisions = {};
  decisionCalls = [];
  maxConcurrentDecisions = 0;
  taskQueue = uniqueTaskQueue('review');
  decisionQueue = uniqueTaskQueue('decide');
  const mturk = emulatorClient(emu.url);
  workers = [
    // temporal-mturk's worker.
    await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: {
        ...createMTurkActivities({ client: mturk }),
        ...createReviewActivities({ client: mturk }),
      },
    }),
    // The user's worker: only their decision activity, on their own task queue.
    await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue: decisionQueue,
      activities: {
        async gradeSubmission(a: ReviewAssignment): Promise<ReviewDecision> {
          decisionCalls.push(a.assignmentId);
          concurrentDecisions += 1;
          maxConcurrentDecisions = Math.max(maxConcurrentDecisions, concurrentDecisions);
          try {
            await new Promise((r) => setTimeout(r, 20));
            const answer = decisions[a.workerId] ?? { action: 'skip' };
            return typeof answer === 'function' ? answer() : answer;
          } finally {
            concurrentDecisions -= 1;
          }
        },
      },
    }),
  ];
  running = workers.map((w) => w.run());
});
afterEach(async () => {
  for (const w of workers) w.shutdown();
  await Promise.all(running);
});

const fast = { retryInitialInterval: '50ms', retryMaximumInterval: '500ms' };

function seedHit(workerIds: string[], balance = '100.00') {
  const { hits } = emu.seed({
    balance,
    hits: [
      { assignments: workerIds.map((workerId) => ({ workerId, answer: `<a>${workerId}</a>` })) },
    ],
  });
  const hit = hits[0]!;
  return { hitId: hit.hitId, byWorker: new Map(hit.assignments.map((a) => [a.workerId, a])) };
}

function reviewInput(hitId: string, extra: Partial<ReviewHitInput> = {}): ReviewHitInput {
  return {
    hitId,
    decisionActivity: 'gradeSubmission',
    decisionTaskQueue: decisionQueue,
    paymentOptions: fast,
    decisionRetry: { initialInterval: '50ms', maximumAttempts: 2 },
    ...extra,
  };
}

async function runReview(hitId: string, extra: Partial<ReviewHitInput> = {}, workflowId?: string) {
  const handle = await startReviewHit(env.client, reviewInput(hitId, extra), {
    taskQueue,
    ...(workflowId && { workflowId }),
  });
  return { handle, result: await handle.result() };
}

function outcomeOf(result: ReviewHitResult, assignmentId: string) {
  return result.outcomes.find((o) => o.assignmentId === assignmentId);
}

describe('reviewHit', () => {
  it('carries out approve, reject, approve-and-bonus and skip, each once', async () => {
    const { hitId, byWorker } = seedHit(['AAPPROVE01', 'AREJECT01', 'ABONUS01', 'ASKIP01']);
    emu.seed({ hits: [{ assignments: [{ workerId: 'AOTHERHIT01' }] }] }); // not this HIT
    decisions = {
      AAPPROVE01: { action: 'approve', requesterFeedback: 'Good work' },
      AREJECT01: { action: 'reject', requesterFeedback: 'The answer was empty' },
      ABONUS01: { action: 'approve-and-bonus', bonusAmount: '1.50', reason: 'Great detail' },
      ASKIP01: { action: 'skip' },
    };
    const { handle, result } = await runReview(hitId);

    expect(result.counts).toEqual({
      listed: 4,
      finished: 4,
      approved: 2,
      rejected: 1,
      bonused: 1,
      skipped: 1,
      failed: 0,
      earlier: 0,
    });
    expect(result.bonusTotal).toBe('1.50');
    const bonused = outcomeOf(result, byWorker.get('ABONUS01')!.assignmentId)!;
    expect(bonused).toMatchObject({
      action: 'approve-and-bonus',
      status: 'done',
      workflowId: bonusWorkflowId(bonused.assignmentId),
      approval: { status: 'approved' },
      bonus: { status: 'paid', amount: '1.50' },
    });
    const rejected = outcomeOf(result, byWorker.get('AREJECT01')!.assignmentId)!;
    expect(rejected).toMatchObject({
      action: 'reject',
      status: 'done',
      workflowId: rejectionWorkflowId(rejected.assignmentId),
      rejection: { status: 'rejected' },
    });
    expect(outcomeOf(result, byWorker.get('ASKIP01')!.assignmentId)?.status).toBe('skipped');

    const ledger = emu.ledger();
    expect(ledger.approvals).toHaveLength(2);
    expect(ledger.rejections).toHaveLength(1);
    expect(ledger.rejections[0]?.feedback).toBe('The answer was empty');
    expect(ledger.bonuses).toHaveLength(1);
    expect(ledger.bonuses[0]).toMatchObject({ workerId: 'ABONUS01', amount: '1.50' });
    // The decision activity saw each assignment once, with its answer.
    expect(decisionCalls).toHaveLength(4);

    const progress = await handle.query(reviewProgressQuery);
    expect(progress).toMatchObject({ state: 'completed', inFlight: 0, counts: result.counts });
  });

  it('pages through the HIT with at most `concurrency` assignments at a time', async () => {
    const workerIds = Array.from({ length: 7 }, (_, i) => `APAGED0${i}`);
    const { hitId } = seedHit(workerIds);
    decisions = Object.fromEntries(workerIds.map((w) => [w, { action: 'approve' }]));
    const { result } = await runReview(hitId, { pageSize: 3, concurrency: 2 });

    expect(result.counts).toMatchObject({ listed: 7, approved: 7, failed: 0 });
    expect(maxConcurrentDecisions).toBeLessThanOrEqual(2);
    expect(new Set(decisionCalls).size).toBe(7);
    expect(emu.ledger().approvals).toHaveLength(7);
    // Approving shrank the Submitted listing under the review: it listed again and found
    // nothing new, rather than missing anyone.
    expect(emu.ledger().requests.ListAssignmentsForHIT).toBeGreaterThanOrEqual(3);
  });

  it('continues as new on a long review without losing or repeating anyone', async () => {
    const workerIds = Array.from({ length: 6 }, (_, i) => `ALONG0${i}`);
    const { hitId } = seedHit(workerIds);
    decisions = Object.fromEntries(
      workerIds.map((w) => [
        w,
        { action: 'approve-and-bonus', bonusAmount: '0.10', reason: 'Thanks' },
      ]),
    );
    const { handle, result } = await runReview(hitId, {
      pageSize: 2,
      concurrency: 2,
      continueAsNewAfterEvents: 40,
    });
    expect(result.counts).toMatchObject({ listed: 6, bonused: 6, failed: 0, earlier: 0 });
    expect(result.bonusTotal).toBe('0.60');
    expect(new Set(result.outcomes.map((o) => o.assignmentId)).size).toBe(6);
    expect(decisionCalls).toHaveLength(6);
    expect(emu.ledger().bonuses).toHaveLength(6);
    // It did continue as new: the latest run is not the first.
    const description = await handle.describe();
    expect(description.runId).not.toBe(handle.firstExecutionRunId);
  });

  it('a second review of the same HIT pays nobody again and reports the first outcome', async () => {
    const { hitId, byWorker } = seedHit(['AAGAIN01', 'AAGAIN02']);
    decisions = {
      AAGAIN01: { action: 'approve-and-bonus', bonusAmount: '2.00', reason: 'Thanks' },
      AAGAIN02: { action: 'approve-and-bonus', bonusAmount: '3.00', reason: 'Thanks' },
    };
    const first = await runReview(hitId);
    expect(first.result.counts).toMatchObject({ bonused: 2, earlier: 0 });
    const sendBonusCalls = emu.ledger().requests.SendBonus;

    // Same HIT again, now including approved work: both payments already exist.
    const second = await runReview(hitId, { statuses: ['Submitted', 'Approved'] });
    expect(second.result.counts).toMatchObject({ listed: 2, bonused: 2, earlier: 2, failed: 0 });
    const again = outcomeOf(second.result, byWorker.get('AAGAIN01')!.assignmentId)!;
    expect(again).toMatchObject({ status: 'done', earlier: true });
    expect(again.bonus).toEqual(
      outcomeOf(first.result, byWorker.get('AAGAIN01')!.assignmentId)!.bonus,
    );

    // A decision that changed its mind about the amount is reported, not paid.
    decisions.AAGAIN02 = { action: 'approve-and-bonus', bonusAmount: '9.00', reason: 'Thanks' };
    const third = await runReview(hitId, { statuses: ['Approved'] });
    expect(outcomeOf(third.result, byWorker.get('AAGAIN02')!.assignmentId)).toMatchObject({
      status: 'failed',
      earlier: true,
      error: { type: 'Conflict' },
    });

    // The default (Submitted only) finds nothing left to review.
    const fourth = await runReview(hitId);
    expect(fourth.result.counts.listed).toBe(0);

    expect(emu.ledger().bonuses).toHaveLength(2);
    expect(emu.ledger().requests.SendBonus).toBe(sendBonusCalls);
  });

  it('two reviews racing on one HIT start each payment once', async () => {
    const { hitId } = seedHit(['ARACE01', 'ARACE02', 'ARACE03']);
    decisions = Object.fromEntries(
      ['ARACE01', 'ARACE02', 'ARACE03'].map((w) => [
        w,
        { action: 'approve-and-bonus', bonusAmount: '1.00', reason: 'Thanks' },
      ]),
    );
    const [a, b] = await Promise.all([
      runReview(hitId, {}, `review-race-a-${hitId}`),
      runReview(hitId, {}, `review-race-b-${hitId}`),
    ]);
    // Whichever review lost a race reports the other's payment as earlier.
    for (const { result } of [a, b]) expect(result.counts.failed).toBe(0);
    expect(a.result.counts.bonused + b.result.counts.bonused).toBeGreaterThanOrEqual(3);
    expect(emu.ledger().bonuses).toHaveLength(3);
    expect(emu.ledger().approvals).toHaveLength(3);
  });

  it('a failing or invalid decision fails only that assignment', async () => {
    const { hitId, byWorker } = seedHit(['ABADAMT01', 'ATHROWS01', 'AUNKNOWN01', 'AFINE01']);
    decisions = {
      ABADAMT01: { action: 'approve-and-bonus', bonusAmount: '$5', reason: 'Thanks' },
      ATHROWS01: () => {
        throw ApplicationFailure.nonRetryable('grader crashed', 'GraderError');
      },
      AUNKNOWN01: { action: 'pay-double' } as unknown as ReviewDecision,
      AFINE01: { action: 'approve' },
    };
    const { result } = await runReview(hitId);

    expect(result.counts).toMatchObject({ listed: 4, approved: 1, failed: 3 });
    const of = (w: string) => outcomeOf(result, byWorker.get(w)!.assignmentId)!;
    expect(of('ABADAMT01').error?.type).toBe('InvalidReviewDecision');
    expect(of('ABADAMT01').error?.message).toMatch(/bonusAmount/);
    expect(of('ATHROWS01').error).toMatchObject({ type: 'GraderError', message: 'grader crashed' });
    expect(of('AUNKNOWN01').error?.type).toBe('InvalidReviewDecision');
    expect(emu.ledger().bonuses).toHaveLength(0);
    expect(emu.ledger().approvals).toHaveLength(1);
  });

  it('rejecting is idempotent and refuses approved work', async () => {
    const { hits } = emu.seed({
      hits: [
        {
          assignments: [
            { workerId: 'AWASREJ01', status: 'Rejected' },
            { workerId: 'AWASAPP01', status: 'Approved' },
          ],
        },
      ],
    });
    const hitId = hits[0]!.hitId;
    const reject: ReviewDecision = { action: 'reject', requesterFeedback: 'Incomplete' };
    decisions = { AWASREJ01: reject, AWASAPP01: reject };
    const { result } = await runReview(hitId, { statuses: ['Approved', 'Rejected'] });
    const of = (w: string) => result.outcomes.find((o) => o.workerId === w)!;
    expect(of('AWASREJ01')).toMatchObject({
      status: 'done',
      rejection: { status: 'already-rejected' },
    });
    expect(of('AWASAPP01')).toMatchObject({
      status: 'failed',
      error: { type: 'AssignmentNotRejectable' },
    });
    expect(emu.ledger().requests.RejectAssignment ?? 0).toBe(0);
  });

  it('refuses a review without a decision activity before listing anything', async () => {
    const { hitId } = seedHit(['ANODECIDE1']);
    const err = await runReview(hitId, { decisionActivity: '' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect(((err as WorkflowFailedError).cause as ApplicationFailure).type).toBe(
      'InvalidReviewRequest',
    );
    expect(emu.ledger().requests.ListAssignmentsForHIT ?? 0).toBe(0);
  });

  it('refuses bad payment options as InvalidReviewRequest before listing anything', async () => {
    const { hitId } = seedHit(['ABADOPTS01']);
    const err = await runReview(hitId, {
      paymentOptions: { maxBonusAmount: '$5', fundsRecheckInterval: 'soon' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure.type).toBe('InvalidReviewRequest');
    expect(failure.message).toContain('paymentOptions.maxBonusAmount');
    expect(failure.message).toContain('paymentOptions.fundsRecheckInterval');
    expect(emu.ledger().requests.ListAssignmentsForHIT ?? 0).toBe(0);
  });
});
