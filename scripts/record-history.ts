/**
 * Records the event histories that gate workflow changes (test/production/replay.test.ts
 * replays every file in test/histories against the current workflow code).
 *
 *   npx tsx scripts/record-history.ts [--out test/histories] [--only approve-and-bonus-v1]
 *
 * Starts a dev server (or uses TEMPORAL_ADDRESS) and an in-process MTurk emulator, runs each
 * scenario once, and writes `<name>.json` in the format of `temporal workflow show -o json`.
 * Record a new file (next version suffix) when a workflow changes shape; never rewrite a
 * committed one: it stands for workflows that may be running in production right now.
 * Histories only older code can make are recorded from a worktree of that code (see
 * scripts/record-prepatch-history.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import {
  createBatchActivities,
  createMTurkActivities,
  createReviewActivities,
} from '../src/activities';
import { SendBonusCommand } from '@aws-sdk/client-mturk';
import { bonusWorkflowId, payBonus } from '../src/client';
import { startDevServer, type DevServer } from '../tools/devserver/dev-server';
import { startEmulator, type RunningEmulator } from '../src/emulator';
import { localMTurkConfig, createMTurkClient } from '../src/mturk/client';
import { startReviewHit } from '../src/review-client';
import type { ReviewAssignment, ReviewDecision } from '../src/common/review-types';
import { bonusRequestToken } from '../src/common/token';
import { encodeBatchRows } from '../src/common/batch';
import { fundsAddedSignal, payBatch, payUnderNewTokenSignal, statusQuery } from '../src/workflows';

const TASK_QUEUE = 'record-history';
const DECISION_QUEUE = 'record-history-decisions';
const fast = { retryInitialInterval: '100ms', retryMaximumInterval: '1s' };
/** Paid by payBonus before review-hit-earlier-continued-as-new-v1, which decides the same. */
const EARLIER_BONUS = { bonusAmount: '1.25', reason: 'Paid before the review' };

interface Context {
  client: Client;
  emu: RunningEmulator;
}

/** A run other than the latest of its workflow ID, e.g. the first of a chain of continue-as-new. */
interface RecordedRun {
  workflowId: string;
  runId: string;
}

/** Each scenario returns the workflow ID (its latest run) or the run whose history it recorded. */
const scenarios: Record<string, (ctx: Context) => Promise<string | RecordedRun>> = {
  /** Approve, then pay: the path nearly every payment takes. */
  async 'approve-and-bonus-v2'({ client, emu }) {
    emu.seed({
      balance: '100.00',
      hits: [
        { assignments: [{ assignmentId: 'RECORDASSIGNMENT01', workerId: 'ARECORDWORKER01' }] },
      ],
    });
    const handle = await payBonus(
      client,
      {
        assignmentId: 'RECORDASSIGNMENT01',
        workerId: 'ARECORDWORKER01',
        bonusAmount: '2.50',
        reason: 'Thanks for the careful work',
        requesterFeedback: 'Well done',
      },
      { taskQueue: TASK_QUEUE, workflowOptions: fast },
    );
    await handle.result();
    return handle.workflowId;
  },

  /** Insufficient funds: wait, get the fundsAdded signal, pay (timer, signal, search attributes). */
  async 'approve-and-bonus-funds-wait-v2'({ client, emu }) {
    emu.seed({
      balance: '0.50',
      hits: [
        { assignments: [{ assignmentId: 'RECORDASSIGNMENT02', workerId: 'ARECORDWORKER02' }] },
      ],
    });
    const handle = await payBonus(
      client,
      {
        assignmentId: 'RECORDASSIGNMENT02',
        workerId: 'ARECORDWORKER02',
        bonusAmount: '1.00',
        reason: 'Bonus for the follow-up survey',
      },
      { taskQueue: TASK_QUEUE, workflowOptions: { ...fast, fundsRecheckInterval: '1h' } },
    );
    for (;;) {
      const status = await handle.query(statusQuery);
      if (status.state === 'waiting-for-funds') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    emu.addBalance('10.00');
    await handle.signal(fundsAddedSignal);
    await handle.result();
    return handle.workflowId;
  },

  /**
   * A used token whose bonus is never listed: re-checks, `unconfirmed`, the operator's
   * payUnderNewToken signal, payment under the next generation (lookUpBonus, timers, a signal).
   */
  async 'approve-and-bonus-unconfirmed-v3'({ client, emu }) {
    emu.seed({
      balance: '100.00',
      hits: [
        { assignments: [{ assignmentId: 'RECORDASSIGNMENT03', workerId: 'ARECORDWORKER03' }] },
      ],
    });
    emu.configure({ consumeTokenOnFailure: true });
    // Another tool used generation 0's token on a refused call: MTurk remembers it, paid nothing.
    const workflowId = bonusWorkflowId('RECORDASSIGNMENT03');
    const mturk = createMTurkClient(localMTurkConfig(emu.url));
    await mturk
      .send(
        new SendBonusCommand({
          AssignmentId: 'RECORDASSIGNMENT03',
          WorkerId: 'AOTHERWORKER03',
          BonusAmount: '1.00',
          Reason: 'x',
          UniqueRequestToken: bonusRequestToken(workflowId, undefined, 0),
        }),
      )
      .catch(() => undefined);
    mturk.destroy();
    const handle = await payBonus(
      client,
      {
        assignmentId: 'RECORDASSIGNMENT03',
        workerId: 'ARECORDWORKER03',
        bonusAmount: '1.00',
        reason: 'Thanks for the careful work',
      },
      {
        taskQueue: TASK_QUEUE,
        workflowOptions: {
          ...fast,
          confirmationWindow: '6s',
          unconfirmedRecheckInterval: '1h',
        },
      },
    );
    for (;;) {
      const status = await handle.query(statusQuery);
      if (status.state === 'unconfirmed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await handle.signal(payUnderNewTokenSignal, { note: 'recording: no bonus was granted' });
    await handle.result();
    emu.configure({ consumeTokenOnFailure: false });
    return handle.workflowId;
  },

  /** A review with one decision of each kind. */
  async 'review-hit-v1'({ client, emu }) {
    const { hits } = emu.seed({
      balance: '100.00',
      hits: [
        {
          hitId: 'RECORDHIT01',
          assignments: [
            { assignmentId: 'RECORDREVIEW01', workerId: 'ARECORDAPPROVE' },
            { assignmentId: 'RECORDREVIEW02', workerId: 'ARECORDREJECT' },
            { assignmentId: 'RECORDREVIEW03', workerId: 'ARECORDBONUS' },
            { assignmentId: 'RECORDREVIEW04', workerId: 'ARECORDSKIP' },
          ],
        },
      ],
    });
    const handle = await startReviewHit(
      client,
      {
        hitId: hits[0]!.hitId,
        decisionActivity: 'decide',
        decisionTaskQueue: DECISION_QUEUE,
        concurrency: 2,
        paymentOptions: fast,
      },
      { taskQueue: TASK_QUEUE },
    );
    await handle.result();
    return handle.workflowId;
  },

  /**
   * payBatch's first run, which continues as new after 2 rows: a window of 2 children, a row
   * whose workflow ID payBonus used before (the paymentOutcome activity), and slow payments
   * that the state check asks about (the paymentStates activity).
   */
  async 'pay-batch-continued-as-new-v1'({ client, emu }) {
    const { hits } = emu.seed({
      balance: '100.00',
      hits: [
        {
          assignments: Array.from({ length: 5 }, (_, i) => ({
            assignmentId: `RECORDBATCH0${i}`,
            workerId: `ARECORDBATCHWORKER0${i}`,
          })),
        },
      ],
    });
    const rows = hits[0]!.assignments.map((a, i) => ({
      assignmentId: a.assignmentId,
      workerId: a.workerId,
      bonusAmount: `1.${i}0`,
      reason: 'Thanks for taking part in the study',
    }));
    const earlier = await payBonus(client, rows[0]!, {
      taskQueue: TASK_QUEUE,
      workflowOptions: fast,
    });
    await earlier.result();
    emu.setFaults({ seed: 1, operations: { SendBonus: { latencyMs: 1_500 } } });
    const handle = await client.workflow.start(payBatch, {
      taskQueue: TASK_QUEUE,
      workflowId: 'RECORD-BATCH-01',
      args: [
        {
          ...encodeBatchRows(rows),
          options: fast,
          concurrency: 2,
          continueAsNewEvery: 2,
          stateCheckInterval: '500ms',
        },
      ],
    });
    await handle.result();
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  },

  /**
   * reviewHit's first run, which continues as new after its first two assignments: one that
   * payBonus paid before the review (the child's start fails as already started and the
   * workflowOutcome activity reports that payment: `earlier: true`) and one paid by a new
   * child, both children with the MTurk* search attributes. The next run reviews the rest.
   */
  async 'review-hit-earlier-continued-as-new-v1'({ client, emu }) {
    const { hits } = emu.seed({
      balance: '100.00',
      hits: [
        {
          hitId: 'RECORDHIT02',
          // RECORDREVIEW11-14, decided as DECISIONS says for each worker.
          assignments: ['ARECORDEARLIER', 'ARECORDBONUS', 'ARECORDAPPROVE', 'ARECORDREJECT'].map(
            (workerId, i) => ({ assignmentId: `RECORDREVIEW1${i + 1}`, workerId }),
          ),
        },
      ],
    });
    const earlier = await payBonus(
      client,
      { assignmentId: 'RECORDREVIEW11', workerId: 'ARECORDEARLIER', ...EARLIER_BONUS },
      { taskQueue: TASK_QUEUE, workflowOptions: fast },
    );
    await earlier.result();
    const handle = await startReviewHit(
      client,
      {
        hitId: hits[0]!.hitId,
        decisionActivity: 'decide',
        decisionTaskQueue: DECISION_QUEUE,
        // payBonus approved the first assignment: list it too, so its decision meets that payment.
        statuses: ['Submitted', 'Approved'],
        concurrency: 2,
        paymentOptions: fast,
        searchAttributes: true,
        // Passed while the first two assignments are in flight: the third waits for them, then
        // the run continues as new and the next run reviews the rest.
        continueAsNewAfterEvents: 20,
      },
      { taskQueue: TASK_QUEUE },
    );
    const result = await handle.result();
    const found = result.outcomes.find((o) => o.assignmentId === 'RECORDREVIEW11');
    if (!found?.earlier || found.status !== 'done') {
      throw new Error(`expected the payBonus payment as earlier: ${JSON.stringify(found)}`);
    }
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  },
};

const DECISIONS: Record<string, ReviewDecision> = {
  ARECORDAPPROVE: { action: 'approve' },
  ARECORDREJECT: { action: 'reject', requesterFeedback: 'The answers were empty' },
  ARECORDBONUS: { action: 'approve-and-bonus', bonusAmount: '0.75', reason: 'Great detail' },
  // The same payment payBonus made before the review, so the review finds it, not a conflict.
  ARECORDEARLIER: { action: 'approve-and-bonus', ...EARLIER_BONUS },
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(__dirname, '..', 'test', 'histories') },
      only: { type: 'string', multiple: true },
    },
  });
  const names = values.only ?? Object.keys(scenarios);
  for (const name of names) {
    if (!scenarios[name])
      throw new Error(`unknown scenario ${name}; have ${Object.keys(scenarios).join(', ')}`);
  }
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  let server: DevServer | undefined;
  const address = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
  const emu = await startEmulator({ port: 0 });
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const mturk = createMTurkClient(localMTurkConfig(emu.url));
  const workers = [
    await Worker.create({
      connection: nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: require.resolve('../src/workflows'),
      activities: {
        ...createMTurkActivities({ client: mturk }),
        ...createReviewActivities({ client: mturk }),
        ...createBatchActivities({ client }),
      },
    }),
    await Worker.create({
      connection: nativeConnection,
      taskQueue: DECISION_QUEUE,
      activities: {
        async decide(a: ReviewAssignment): Promise<ReviewDecision> {
          return DECISIONS[a.workerId] ?? { action: 'skip' };
        },
      },
    }),
  ];
  const running = workers.map((w) => w.run());
  try {
    mkdirSync(values.out, { recursive: true });
    for (const name of names) {
      emu.reset();
      const recorded = await scenarios[name]!({ client, emu });
      const { workflowId, runId } =
        typeof recorded === 'string' ? { workflowId: recorded, runId: undefined } : recorded;
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      const file = path.join(values.out, `${name}.json`);
      writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
      console.log(`${file}: ${history.events?.length ?? 0} events of ${workflowId} ${runId ?? ''}`);
    }
  } finally {
    for (const w of workers) w.shutdown();
    await Promise.all(running);
    await nativeConnection.close();
    await connection.close();
    await emu.stop();
    await server?.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
