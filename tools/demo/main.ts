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
 *   npm start               stays up afterwards for the Web UI; Ctrl-C (or SIGTERM) stops everything
 *   npm start -- --once     exits after the report (CI, timing)
 *
 * Other options: --temporal-port, --ui-port, --emulator-port (defaults 7233, 8233, 4566) and
 * --state-dir (default ~/.cache/temporal-mturk/demo). A default port that something else holds
 * is replaced by a free one, and the demo says so.
 */
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { runPay } from '../../src/cli/pay-command';
import { planBatch } from '../../src/cli/batch-plan';
import { readBonusFile, validLines } from '../../src/cli/csv-input';
import { processIO } from '../../src/cli/io';
import { dataConverterFromEnv } from '../../src/codec';
import { freePort, startDevServer, type DevServer } from '../devserver/dev-server';
import { cacheDir } from '../devserver/temporal-cli';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { createMTurkClient, DEFAULT_EMULATOR_PORT, localMTurkConfig } from '../../src/mturk/client';
import { DEFAULT_TASK_QUEUE } from '../../src/temporal-config';
import { createMTurkWorker } from '../../src/worker';

const DEFAULT_DEMO_DIR = join(cacheDir(), 'demo');
const TEMPORAL_PORT = 7233;
const UI_PORT = 8233;
const CSV_PATH = join(__dirname, '..', '..', 'examples', 'demo-bonuses.csv');
const DEMO_HIT_ID = '3DEMOHIT0000000000000000000001';
const DEMO_BALANCE = '500.00';

const log = (line: string) => console.log(`[demo] ${line}`);

/** A clear message and exit 1, for problems the person running the demo must fix. */
class DemoError extends Error {}

interface DemoArgs {
  once: boolean;
  temporalPort: number;
  uiPort: number;
  emulatorPort: number;
  stateDir: string;
}

function parseArgs(argv: string[]): DemoArgs {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const port = (name: string, fallback: number): number => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 65535) {
      throw new DemoError(`${name} must be a port number 1-65535, got ${JSON.stringify(raw)}`);
    }
    return n;
  };
  return {
    once: argv.includes('--once'),
    temporalPort: port('--temporal-port', TEMPORAL_PORT),
    uiPort: port('--ui-port', UI_PORT),
    emulatorPort: port('--emulator-port', DEFAULT_EMULATOR_PORT),
    stateDir: resolve(value('--state-dir') ?? DEFAULT_DEMO_DIR),
  };
}

/** Whether nothing listens on the loopback port (we could listen there ourselves). */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** `port` if free, else a free one, saying which service moved and why. */
async function portFor(what: string, port: number, flag: string): Promise<number> {
  if (await portIsFree(port)) return port;
  const other = await freePort();
  log(
    `port ${port} (${what}) is in use by another program: using ${other} instead ` +
      `(free ${port}, or choose one with ${flag})`,
  );
  return other;
}

async function emulatorAnswers(port: number): Promise<boolean> {
  // A timer of our own: AbortSignal.timeout's is unref'd, and a peer that never answers would
  // then leave nothing to keep the process alive; it would exit 0 in silence.
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 1_000);
  try {
    const res = await fetch(`http://127.0.0.1:${port}/_emulator/health`, { signal: abort.signal });
    return res.ok && ((await res.json()) as { ok?: unknown }).ok === true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

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
  const args = parseArgs(process.argv.slice(2));
  // The AWS SDK's notice about future Node versions is for maintainers, not for a demo audience.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const run = new DemoRun(args);
  mkdirSync(args.stateDir, { recursive: true });
  // The worker's own INFO lines would drown the demo's output.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  run.stopOnSignals();

  // The emulator's port first: refusing must happen before anything was started. It is bound at
  // once: a substitute port comes from the ephemeral range, where the dev server's own services
  // take random ports while it starts (a CI run lost the port that way: EADDRINUSE).
  const emulatorPort = await emulatorPortFor(args.emulatorPort);
  const emulator = await run.startEmulator(emulatorPort);
  const address = await run.startOrReuseTemporal();
  const client = await run.startWorker(address, emulator);
  const exitCode = await payDemoFile(emulator, address, args.stateDir);
  await run.printSummary(exitCode, emulator, client);

  if (args.once) {
    await run.stopAll();
    process.exit(exitCode);
  }
  log('Everything keeps running for the Web UI; press Ctrl-C to stop.');
}

/** The emulator's port, or a free one when another program holds it; never another demo's. */
async function emulatorPortFor(port: number): Promise<number> {
  if (await portIsFree(port)) return port;
  if (await emulatorAnswers(port)) {
    // Probably another `npm start`, using the same state file: two emulators must not share it.
    throw new DemoError(
      `an MTurk emulator already answers on port ${port} (another \`npm start\`?): ` +
        'stop it first, or give this demo its own --emulator-port and --state-dir',
    );
  }
  return portFor('MTurk emulator', port, '--emulator-port');
}

/** `temporal-mturk pay examples/demo-bonuses.csv --yes`, run in this process. */
async function payDemoFile(
  emulator: RunningEmulator,
  address: string,
  stateDir: string,
): Promise<number> {
  console.log('');
  console.log(`$ temporal-mturk pay examples/demo-bonuses.csv --yes`);
  return runPay(
    CSV_PATH,
    {
      yes: true,
      target: 'local',
      endpoint: emulator.url,
      report: join(stateDir, 'demo-bonuses.report.csv'),
    },
    {
      ...processIO(),
      env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'default' },
    },
  );
}

/** What this run started, so Ctrl-C at any moment stops exactly that (a reused server stays). */
class DemoRun {
  private readonly started = Date.now();
  private server?: DevServer;
  private emulator?: RunningEmulator;
  private stopWorker?: () => Promise<void>;
  private stopping?: Promise<void>;

  constructor(private readonly args: DemoArgs) {}

  stopAll(): Promise<void> {
    return (this.stopping ??= (async () => {
      await this.stopWorker?.();
      await this.emulator?.stop();
      await this.server?.stop();
    })());
  }

  /**
   * SIGTERM (a `kill`, a closing terminal, a process manager) stops the demo as Ctrl-C does.
   * Without a handler of our own the Temporal runtime's would only stop the worker, leaving this
   * process and the emulator running.
   */
  stopOnSignals(): void {
    this.exitOn('SIGINT', 130, 'Ctrl-C');
    this.exitOn('SIGTERM', 143, 'SIGTERM');
  }

  private exitOn(signal: NodeJS.Signals, code: number, what: string): void {
    process.once(signal, () => {
      console.log(`\n[demo] ${what}: stopping the worker, the emulator and the dev server...`);
      this.stopAll().then(
        () => process.exit(code),
        () => process.exit(code),
      );
    });
  }

  /** The address of the dev server already on the Temporal port, or of one this run starts. */
  async startOrReuseTemporal(): Promise<string> {
    const address = `127.0.0.1:${this.args.temporalPort}`;
    if (await temporalAnswers(address)) {
      log(`Temporal: reusing the dev server already listening on ${address}`);
      return address;
    }
    const temporalPort = await portFor('Temporal', this.args.temporalPort, '--temporal-port');
    const uiPort = await portFor('Temporal Web UI', this.args.uiPort, '--ui-port');
    this.server = await startDevServer({
      port: temporalPort,
      uiPort,
      dbFilename: join(this.args.stateDir, 'temporal.db'),
      log,
    });
    return `127.0.0.1:${temporalPort}`;
  }

  async startEmulator(port: number): Promise<RunningEmulator> {
    const statePath = join(this.args.stateDir, 'mturk-emulator.json');
    const emulator = await startEmulator({ port, statePath });
    this.emulator = emulator;
    log(`MTurk emulator: ${emulator.url} (state ${statePath})`);
    seedOnce(emulator);
    return emulator;
  }

  /** A worker in this process on the demo's task queue; returns a client on its connection. */
  async startWorker(address: string, emulator: RunningEmulator): Promise<Client> {
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
    this.stopWorker = async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    };
    log(
      `worker: running on task queue ${DEFAULT_TASK_QUEUE} (${this.secondsSinceStart()} s since start)`,
    );
    return client;
  }

  /** What the payment did on MTurk's side, and where to see it in the Web UI. */
  async printSummary(exitCode: number, emulator: RunningEmulator, client: Client): Promise<void> {
    const ledger = emulator.ledger();
    const batchId = planBatch(readBonusFile(CSV_PATH)).batchId;
    console.log('');
    log(`pay exited with ${exitCode} after ${this.secondsSinceStart()} s in all`);
    log(
      `MTurk emulator ledger: ${ledger.totals.bonusCount} bonuses ($${ledger.totals.bonuses} + $${ledger.totals.fees} fees) ` +
        `ever paid, balance $${ledger.balance}`,
    );
    const uiUrl = this.server?.uiUrl ?? `http://127.0.0.1:${this.args.uiPort}`;
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
  }

  private secondsSinceStart(): string {
    return ((Date.now() - this.started) / 1000).toFixed(1);
  }
}

main().catch((err: unknown) => {
  console.error(`[demo] ${err instanceof Error ? err.message : String(err)}`);
  // What was started before the failure would otherwise keep the process alive.
  process.exit(1);
});
