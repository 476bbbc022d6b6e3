/**
 * `npm start`: the whole system on this machine, no account or credentials needed.
 *
 * Starts (or reuses) a Temporal dev server with its Web UI, keeping its state in
 * ~/.cache/temporal-mturk/demo/ so a second run sees the first run's workflows; the MTurk
 * emulator on its default port with its state file in the same folder, seeded once with a demo
 * HIT of 25 submitted assignments and a funded balance; and a worker in this process. Then it
 * runs `temporal-mturk pay examples/demo-bonuses.csv --yes`: preview, progress, report.
 *
 * Run it twice: the second run pays nothing and reports every row already paid.
 *
 *   npm start               stays up afterwards for the Web UI; Ctrl-C stops everything
 *   npm start -- --once     exits after the report (CI, timing)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { runPay } from '../cli/pay-command';
import { planBatch } from '../cli/batch-plan';
import { readBonusFile, validLines } from '../cli/csv-input';
import { processIO } from '../cli/io';
import { dataConverterFromEnv } from '../codec';
import { startDevServer, type DevServer } from '../devserver/dev-server';
import { cacheDir } from '../devserver/temporal-cli';
import { startEmulator, type RunningEmulator } from '../emulator';
import { createMTurkClient, DEFAULT_EMULATOR_PORT, localMTurkConfig } from '../mturk-client';
import { DEFAULT_TASK_QUEUE } from '../temporal-config';
import { createMTurkWorker } from '../worker';

const DEMO_DIR = join(cacheDir(), 'demo');
const TEMPORAL_PORT = 7233;
const UI_PORT = 8233;
const CSV_PATH = join(__dirname, '..', '..', 'examples', 'demo-bonuses.csv');
const DEMO_HIT_ID = '3DEMOHIT0000000000000000000001';
const DEMO_BALANCE = '500.00';

const log = (line: string) => console.log(`[demo] ${line}`);

async function temporalAnswers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    try {
      await connection.workflowService.getSystemInfo({});
      return true;
    } finally {
      await connection.close();
    }
  } catch {
    return false;
  }
}

/** The HIT and its assignments match the example file; seeded only into an empty emulator. */
function seedOnce(emulator: RunningEmulator): void {
  const rows = validLines(readBonusFile(CSV_PATH)).map((l) => l.request);
  try {
    emulator.seed({
      hits: [
        {
          hitId: DEMO_HIT_ID,
          title: 'Demo: transcribe a receipt',
          reward: '0.50',
          assignments: rows.map((r) => ({ assignmentId: r.assignmentId, workerId: r.workerId })),
        },
      ],
    });
  } catch (err) {
    // A seed is all or nothing: an assignment that exists means an earlier run seeded it.
    if (/already exists/.test((err as Error).message)) {
      log(`MTurk emulator: demo HIT already seeded, balance $${emulator.ledger().balance}`);
      return;
    }
    throw err;
  }
  emulator.setBalance(DEMO_BALANCE);
  log(
    `MTurk emulator: seeded demo HIT ${DEMO_HIT_ID} with ${rows.length} submitted assignments, balance $${DEMO_BALANCE}`,
  );
}

async function main(): Promise<void> {
  const once = process.argv.includes('--once');
  // The AWS SDK's notice about future Node versions is for maintainers, not for a demo audience.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const started = Date.now();
  mkdirSync(DEMO_DIR, { recursive: true });
  // The worker's own INFO lines would drown the demo's output.
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const address = `127.0.0.1:${TEMPORAL_PORT}`;
  // What this run started, so Ctrl-C at any moment stops exactly that (a reused server stays).
  const owned: {
    server?: DevServer;
    emulator?: RunningEmulator;
    stopWorker?: () => Promise<void>;
  } = {};
  let stopping: Promise<void> | undefined;
  const stopAll = () =>
    (stopping ??= (async () => {
      await owned.stopWorker?.();
      await owned.emulator?.stop();
      await owned.server?.stop();
    })());
  process.once('SIGINT', () => {
    console.log('\n[demo] Ctrl-C: stopping the worker, the emulator and the dev server...');
    stopAll().then(
      () => process.exit(130),
      () => process.exit(130),
    );
  });

  if (await temporalAnswers(address)) {
    log(`Temporal: reusing the dev server already listening on ${address}`);
  } else {
    owned.server = await startDevServer({
      port: TEMPORAL_PORT,
      uiPort: UI_PORT,
      dbFilename: join(DEMO_DIR, 'temporal.db'),
      log,
    });
  }
  const emulator = await startEmulator({
    port: DEFAULT_EMULATOR_PORT,
    statePath: join(DEMO_DIR, 'mturk-emulator.json'),
  });
  owned.emulator = emulator;
  log(`MTurk emulator: ${emulator.url} (state ${join(DEMO_DIR, 'mturk-emulator.json')})`);
  seedOnce(emulator);

  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection });
  const worker = await createMTurkWorker({
    connection,
    namespace: 'default',
    taskQueue: DEFAULT_TASK_QUEUE,
    mturk: createMTurkClient(localMTurkConfig(emulator.url)),
    // The same converter as the pay command's client (encryption if TEMPORAL_MTURK_CODEC_KEY is set).
    dataConverter: dataConverterFromEnv(),
  });
  const running = worker.run();
  owned.stopWorker = async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  };
  log(
    `worker: running on task queue ${DEFAULT_TASK_QUEUE} (${((Date.now() - started) / 1000).toFixed(1)} s since start)`,
  );
  console.log('');
  console.log(`$ temporal-mturk pay examples/demo-bonuses.csv --yes`);

  const exitCode = await runPay(
    CSV_PATH,
    {
      yes: true,
      target: 'local',
      endpoint: emulator.url,
      report: join(DEMO_DIR, 'demo-bonuses.report.csv'),
    },
    {
      ...processIO(),
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' },
    },
  );

  const ledger = emulator.ledger();
  const batchId = planBatch(readBonusFile(CSV_PATH)).batchId;
  console.log('');
  log(`pay exited with ${exitCode} after ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  log(
    `MTurk emulator ledger: ${ledger.totals.bonusCount} bonuses ($${ledger.totals.bonuses} + $${ledger.totals.fees} fees) ` +
      `ever paid, balance $${ledger.balance}`,
  );
  const uiUrl = owned.server?.uiUrl ?? `http://127.0.0.1:${UI_PORT}`;
  const batchRun = await client.workflow
    .getHandle(batchId)
    .describe()
    .catch(() => undefined);
  log(`Web UI: ${uiUrl}/namespaces/default/workflows`);
  if (batchRun) {
    log(
      `the batch: ${uiUrl}/namespaces/default/workflows/${encodeURIComponent(batchId)}/${batchRun.runId}/history`,
    );
  }
  log('Run `npm start` again: every row is reported already paid, and nothing is paid twice.');

  if (once) {
    await stopAll();
    process.exit(exitCode);
  }
  log('Everything keeps running for the Web UI; press Ctrl-C to stop.');
}

main().catch((err: unknown) => {
  console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
