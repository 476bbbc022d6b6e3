/**
 * Records test/histories/approve-and-bonus-keyed-prepatch-continued-as-new.json: a keyed
 * approveAndBonus, run by the workflow code from BEFORE patched('bonus-key-in-reason') (commit
 * 417607d), that waits for funds until its history passes 2,000 events and it continues as new.
 * Its continue-as-new input is the `carried` state such a run hands on: no `mturkReason`.
 *
 * The history must come from the old code, so run this script from a worktree of the commit
 * before the patch (it imports only what both that commit and this one have):
 *
 *   git worktree add --detach /tmp/oldcode 417607d~1
 *   ln -s "$PWD/node_modules" /tmp/oldcode/node_modules
 *   cp scripts/record-prepatch-history.ts /tmp/oldcode/scripts/
 *   (cd /tmp/oldcode && npx tsx scripts/record-prepatch-history.ts --out "$OLDPWD/test/histories")
 *   git worktree remove --force /tmp/oldcode
 *
 * It starts a dev server (or uses TEMPORAL_ADDRESS) and an emulator whose balance is 0, so every
 * SendBonus fails with InsufficientFunds and the payment re-checks every 10 ms. Once the first run
 * has continued as new the worker stops, the payment is terminated, and the first run's history
 * is written in the format of scripts/record-history.ts. It refuses to write a history with a
 * patch marker (one recorded by code after the patch).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createMTurkActivities } from '../src/activities';
import { payBonus } from '../src/client';
import { startDevServer, type DevServer } from '../tools/devserver/dev-server';
import { startEmulator } from '../src/emulator';
import { createMTurkClient, localMTurkConfig } from '../src/mturk/client';

const NAME = 'approve-and-bonus-keyed-prepatch-continued-as-new';
const TASK_QUEUE = 'record-prepatch-history';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(__dirname, '..', 'test', 'histories') },
    },
  });
  Runtime.install({ logger: new DefaultLogger('ERROR') });

  let server: DevServer | undefined;
  const address = process.env.TEMPORAL_ADDRESS ?? (server = await startDevServer()).address;
  const emu = await startEmulator({ port: 0 });
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue: TASK_QUEUE,
    workflowsPath: require.resolve('../src/workflows'),
    activities: createMTurkActivities({ client: createMTurkClient(localMTurkConfig(emu.url)) }),
  });
  const running = worker.run();
  let stopped = false;
  const stopWorker = async () => {
    if (stopped) return;
    stopped = true;
    worker.shutdown();
    await running;
  };
  try {
    emu.seed({
      balance: '0.00',
      hits: [
        { assignments: [{ assignmentId: 'RECORDASSIGNMENT03', workerId: 'ARECORDWORKER03' }] },
      ],
    });
    const handle = await payBonus(
      client,
      {
        assignmentId: 'RECORDASSIGNMENT03',
        workerId: 'ARECORDWORKER03',
        bonusAmount: '1.25',
        reason: 'Bonus for the second round',
        bonusKey: 'round-2',
      },
      {
        taskQueue: TASK_QUEUE,
        workflowOptions: {
          retryInitialInterval: '10ms',
          retryMaximumInterval: '100ms',
          fundsRecheckInterval: '10ms',
        },
      },
    );
    const { runId: firstRunId } = await handle.describe();
    const firstRun = client.workflow.getHandle(handle.workflowId, firstRunId);
    const deadline = Date.now() + 10 * 60_000;
    for (;;) {
      const { status, historyLength } = await firstRun.describe();
      if (status.name === 'CONTINUED_AS_NEW') break;
      if (status.name !== 'RUNNING') throw new Error(`first run ended ${status.name}`);
      if (Date.now() > deadline)
        throw new Error(`no continue-as-new after ${historyLength} events`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await stopWorker();
    await client.workflow
      .getHandle(handle.workflowId)
      .terminate('recorded the first run; the rest is not needed');

    const history = await firstRun.fetchHistory();
    const events = history.events ?? [];
    const last = events[events.length - 1];
    if (!last?.workflowExecutionContinuedAsNewEventAttributes) {
      throw new Error('the first run does not end with WorkflowExecutionContinuedAsNew');
    }
    // The code before the patch calls no patched() at all: any marker means newer code.
    if (events.some((e) => e.markerRecordedEventAttributes)) {
      throw new Error(`the history records a patch marker: run this from 417607d~1`);
    }
    const json = JSON.stringify(JSON.parse(historyToJSON(history)), null, 2);
    const file = path.join(values.out, `${NAME}.json`);
    writeFileSync(file, `${json}\n`);
    console.log(`${file}: ${events.length} events of ${handle.workflowId} run ${firstRunId}`);
  } finally {
    await stopWorker();
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
