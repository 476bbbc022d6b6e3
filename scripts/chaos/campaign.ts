/**
 * One chaos campaign: pay `count` bonuses through `payBatch` while the emulator injects faults,
 * the worker process is SIGKILLed and restarted, the Temporal dev server and the emulator are
 * stopped and restarted on their state, and the paying client is killed and run again; MTurk's
 * listing lags behind its ledger. Then, over time: 25 h later (past MTurk's token memory) a
 * sample of the payment workflows is reset to their first workflow task, and after the batch
 * and payment workflows were deleted (as retention does) `pay` runs on the same file again.
 * Finally the emulator's ledger is compared with the input, cent by cent.
 *
 * Used by `npm run chaos` (scripts/chaos.ts) and by test/reliability/chaos-small.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { stringify } from 'csv-stringify/sync';
import { planBatch } from '../../src/cli/batch-plan';
import { readBonusFile } from '../../src/cli/csv-input';
import { freePort, startDevServer, type DevServer } from '../../tools/devserver/dev-server';
import type { ResolvedCli } from '../../tools/devserver/temporal-cli';
import type { FaultConfig, Ledger } from '../../src/emulator';
import { bonusWorkflowId } from '../../src/common/workflow-ids';
import type { ApproveAndBonusOptions } from '../../src/workflows';
import type { BatchCounts, PayBatchResult } from '../../src/common/batch';
import {
  compareLedger,
  dollars,
  ledgerCents,
  ledgerIsExact,
  referenceFeeCents,
  type LedgerComparison,
} from './ledger-check';
import type { PayJob } from './pay-client';
import {
  deleteWorkflows,
  resetAndWait,
  sample,
  type RerunPhaseResult,
  type ResetPhaseResult,
} from './over-time';
import { generatePayments, withBonusKeyPairs, type ChaosPayment } from './payments';
import { EmulatorAdmin, childEnv, sleep, spawnTsx, type ManagedProcess } from './processes';
import { createRng, type Rng } from './rng';

export type ChaosEventKind =
  'worker-kill' | 'dev-server-restart' | 'emulator-restart' | 'client-kill';

export interface CampaignOptions {
  count: number;
  seed: number;
  /** SIGKILLs of the worker process (each followed by a restart). Default 3. */
  workerKills?: number;
  /** Stops and restarts of the Temporal dev server on its database. Default 1. */
  devServerRestarts?: number;
  /** Stops and restarts of the emulator on its state file. Default 1. */
  emulatorRestarts?: number;
  /** SIGKILLs of the paying client (each followed by a rerun). Default 1. */
  clientKills?: number;
  /** Fault mix on SendBonus and ApproveAssignment; false turns faults off. */
  faults?: FaultMix | false;
  /** Payments in flight at once (payBatch's window). Default 50. */
  concurrency?: number;
  /** Give up (and report) after this long. Default 20 minutes. */
  timeoutMs?: number;
  /** Where state files and logs go; default a new temp directory, removed unless keepWorkDir. */
  workDir?: string;
  keepWorkDir?: boolean;
  log?: (line: string) => void;
  /** Temporal CLI to reuse (saves the lookup). */
  cli?: ResolvedCli;
  /**
   * The paying client: `pay` (default) runs the CLI's `runPay` in a child process with short
   * activity timeouts; `cli` runs `temporal-mturk pay --yes` itself, with production timeouts
   * (30 s per activity attempt, so every kill costs half a minute).
   */
  client?: 'pay' | 'cli';
  /**
   * The worker process: `worker` (default) is `npm run worker` (node --import tsx src/worker-main.ts);
   * `cli` is `temporal-mturk worker`.
   */
  workerEntry?: 'cli' | 'worker';
  /**
   * Make this many payments second bonuses for another payment's assignment (same worker,
   * amount and reason, told apart by a bonusKey). Default 0: every payment its own assignment.
   */
  bonusKeyPairs?: number;
  /**
   * The emulator's ListBonusPayments shows a bonus only this long (emulator clock) after its
   * grant. Default 5000 ms: longer than the product's quick retries (200 ms-2 s here), so a
   * SendBonus whose answer was lost is retried while the listing does not show it yet and meets
   * the duplicate-token answer; as long as the first confirmation re-check (5 s), so each lost
   * answer costs one re-check rather than the 5 s → 2 min backoff a 60 s lag would walk through
   * (about 75 s per lost answer, minutes for a 1,000-bonus campaign). 0 turns the lag off.
   */
  listingLagMs?: number;
  /**
   * MTurk's throttling, as MTurk does it: an account-wide limit of this many requests/s (burst
   * twice that) at the emulator, answered `ThrottlingException: Rate exceeded`. Default 20; 0
   * for none. Throttles come from this limit, not from random faults: a throttle at any rate is
   * not what MTurk does, and the worker's adaptive limiter (rightly) slows down on every one.
   */
  mturkRateLimit?: number;
  /**
   * Payment workflows reset to their first workflow task after the batch, with the emulator's
   * clock moved 25 h on (past MTurk's 24 h token memory). Default 20; 0 skips the phase.
   */
  resets?: number;
  /**
   * After the batch (and the resets): delete the batch and payment workflows, as namespace
   * retention would, and run `pay` on the same file again. Default true. The dev server takes
   * ~30 s to delete, so short tests turn this off.
   */
  rerun?: boolean;
}

export interface FaultMix {
  dropAfterCommitRate: number;
  serviceFaultRate: number;
  throttleRate: number;
  latencyMs: [number, number];
}

export const DEFAULT_FAULT_MIX: FaultMix = {
  dropAfterCommitRate: 0.1,
  serviceFaultRate: 0.05,
  // Throttling comes from the emulator's rate limit (mturkRateLimit), as on MTurk.
  throttleRate: 0,
  latencyMs: [20, 200],
};

export interface ChaosEvent {
  kind: ChaosEventKind;
  /** Fraction of the payments made when it was planned to happen. */
  plannedAt: number;
  /** Payments in the ledger when it happened, and ms since the batch started. */
  progress?: number;
  atMs?: number;
  /** How long the killed or stopped part stayed down. */
  downMs?: number;
  done: boolean;
}

export interface CampaignSummary {
  seed: number;
  count: number;
  startedAt: string;
  finishedAt: string;
  /** From the start of the campaign to the verdict, setup included. */
  wallTimeMs: number;
  /** From the first client start to the batch's result. */
  payingTimeMs: number;
  payments: Omit<LedgerComparison, 'totals' | 'examples'>;
  totals: LedgerComparison['totals'];
  examples: LedgerComparison['examples'];
  /** Faults the emulator injected, by kind (its ledger's counters, kept across restarts). */
  faults: Ledger['faults'];
  faultMix: FaultMix | null;
  /** MTurk API requests the emulator received, by operation (all phases). */
  requests: Record<string, number>;
  /** The emulator's listing lag (ms of its clock; 0 = none). */
  listingLagMs: number;
  /** The emulator's account rate limit (requests/s; 0 = none). */
  mturkRateLimit: number;
  /** Requests the rate limit refused (ThrottlingException), by operation. */
  rateLimited: Record<string, number>;
  /**
   * MTurk requests per payment made by the batch (its faulted and retried ones included),
   * before the resets and the rerun: requests by operation ÷ payments. Null without a ledger.
   */
  callsPerPayment: { total: number; byOperation: Record<string, number> } | null;
  /** The reset 25 h later; null when not planned (resets 0). */
  resets: ResetPhaseResult | null;
  /** The rerun after deleting the workflows; null when not planned. */
  rerun: RerunPhaseResult | null;
  chaos: {
    workerKills: number;
    workerRestarts: number;
    /** Worker exits we did not cause (e.g. it gave up during the server restart). */
    unexpectedWorkerExits: number;
    devServerRestarts: number;
    emulatorRestarts: number;
    clientKills: number;
    /** Times the paying client was started (1 + reruns). */
    clientRuns: number;
    /** Client exits we did not cause. */
    unexpectedClientExits: number;
    events: ChaosEvent[];
  };
  /** What the batch workflow itself reported. */
  batch: { workflowId: string; counts: BatchCounts | null; runs: number | null };
  /** The last `pay` run's exit code and the `status` command's afterwards (0 = all paid). */
  cli: { payExitCode: number | null; statusExitCode: number | null; statusOutput: string };
  /**
   * What the last `pay` report says was paid by this batch ("paid now"), against what MTurk
   * charged: they differ when the report counts rows paid by this batch as "already-paid".
   */
  report: {
    paid: number;
    alreadyPaid: number;
    paidNow: string;
    feesNow: string;
    ledgerPaid: string;
    ledgerFees: string;
    agrees: boolean;
  } | null;
  /** True when nobody was paid twice, nobody was missed and every cent adds up. */
  exact: boolean;
  /** Everything that is not as it should be (empty on a clean run). */
  problems: string[];
  workDir?: string;
}

interface Runtime {
  log: (line: string) => void;
  workDir: string;
  logDir: string;
  rng: Rng;
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  emulatorPort: number;
  emulatorUrl: string;
  statePath: string;
  dbFilename: string;
  cli?: ResolvedCli;
}

/** Plans the events at seeded moments: spread over 4-80 % of the payments, in random order. */
export function planEvents(rng: Rng, counts: Record<ChaosEventKind, number>): ChaosEvent[] {
  const kinds: ChaosEventKind[] = [];
  for (const [kind, n] of Object.entries(counts) as [ChaosEventKind, number][]) {
    for (let i = 0; i < n; i++) kinds.push(kind);
  }
  rng.shuffle(kinds);
  const from = 0.04;
  const to = 0.8;
  const slot = (to - from) / Math.max(kinds.length, 1);
  return kinds.map((kind, i) => ({
    kind,
    plannedAt: Number((from + slot * i + rng.between(0.1, 0.9) * slot).toFixed(4)),
    done: false,
  }));
}

function faultConfig(mix: FaultMix, seed: number): FaultConfig {
  const op = {
    latencyMs: mix.latencyMs,
    serviceFaultRate: mix.serviceFaultRate,
    throttleRate: mix.throttleRate,
    dropAfterCommitRate: mix.dropAfterCommitRate,
  };
  return { seed, operations: { SendBonus: op, ApproveAssignment: op } };
}

/**
 * Short activity timeouts and quick retries, so a killed worker costs seconds, not minutes.
 * Not shorter than 15 s: the worker's adaptive rate limiter (issue 12) reads the injected
 * throttles as MTurk's limit and paces at ~10 calls/s, and a call's wait in its queue counts
 * against start-to-close. With 5 s and 50 payments in flight the wait alone reached the timeout;
 * the timed-out attempts' calls still went out, their retries queued behind them, and a
 * 1,000-bonus run collapsed to 0.6 payments/s and 17 MTurk calls a payment (seed 424242).
 */
export const CHAOS_WORKFLOW_OPTIONS: ApproveAndBonusOptions = {
  activityStartToCloseTimeout: '15s',
  retryInitialInterval: '200ms',
  retryMaximumInterval: '2s',
  outagePause: '5s',
};

export async function runCampaign(opts: CampaignOptions): Promise<CampaignSummary> {
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const t0 = () => ((Date.now() - started) / 1000).toFixed(1);
  const userLog = opts.log ?? ((line: string) => console.log(line));
  const log = (line: string) => userLog(`[chaos ${t0()}s] ${line}`);
  const rng = createRng(opts.seed);
  const mix = opts.faults === false ? null : (opts.faults ?? DEFAULT_FAULT_MIX);
  const concurrency = opts.concurrency ?? 50;
  const timeoutMs = opts.timeoutMs ?? 20 * 60_000;
  const listingLagMs = opts.listingLagMs ?? 5000;
  const mturkRateLimit = opts.mturkRateLimit ?? 20;
  const resetCount = Math.min(opts.resets ?? 20, opts.count);
  const rerunPlanned = opts.rerun ?? true;

  const workDir = opts.workDir ?? mkdtempSync(path.join(os.tmpdir(), `chaos-${opts.seed}-`));
  mkdirSync(workDir, { recursive: true });
  const logDir = path.join(workDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const rt: Runtime = {
    log,
    workDir,
    logDir,
    rng,
    temporalAddress: '',
    namespace: 'default',
    taskQueue: `chaos-${opts.seed}`,
    emulatorPort: await freePort(),
    emulatorUrl: '',
    statePath: path.join(workDir, 'emulator-state.json'),
    dbFilename: path.join(workDir, 'temporal.db'),
    cli: opts.cli,
  };
  rt.emulatorUrl = `http://127.0.0.1:${rt.emulatorPort}`;
  const temporalPort = await freePort();
  rt.temporalAddress = `127.0.0.1:${temporalPort}`;
  log(`seed ${opts.seed}, ${opts.count} payments, work dir ${workDir}`);

  const payments = withBonusKeyPairs(
    generatePayments(opts.count, opts.seed, rng.fork('payments')),
    opts.bonusKeyPairs ?? 0,
  );
  const events = planEvents(rng.fork('events'), {
    'worker-kill': opts.workerKills ?? 3,
    'dev-server-restart': opts.devServerRestarts ?? 1,
    'emulator-restart': opts.emulatorRestarts ?? 1,
    'client-kill': opts.clientKills ?? 1,
  });
  const eventRng = rng.fork('event-timing');
  const faultSeeds = rng.fork('fault-seeds');
  const resetRng = rng.fork('resets');
  const problems: string[] = [];
  const stats = {
    workerKills: 0,
    workerRestarts: 0,
    unexpectedWorkerExits: 0,
    devServerRestarts: 0,
    emulatorRestarts: 0,
    clientKills: 0,
    clientRuns: 0,
    unexpectedClientExits: 0,
  };

  let server: DevServer | undefined;
  let emulator: ManagedProcess | undefined;
  let worker: ManagedProcess | undefined;
  let client: ManagedProcess | undefined;
  let shuttingDown = false;
  let payingStarted = 0;
  let payingTimeMs = 0;
  const admin = new EmulatorAdmin(rt.emulatorUrl);
  const csvFile = path.join(workDir, 'bonuses.csv');
  const reportFile = path.join(workDir, 'bonuses.report.json');
  const jobFile = path.join(workDir, 'job.json');
  // The rerun writes its own report, so the first run's (checked against the ledger) stays.
  const rerunReportFile = path.join(workDir, 'bonuses.rerun.report.json');
  const rerunJobFile = path.join(workDir, 'job-rerun.json');
  let workflowId = '';
  let payExitCode: number | null = null;
  /** What the CLI needs to reach Temporal and the emulator. */
  const cliEnv = () =>
    childEnv({
      TEMPORAL_ADDRESS: rt.temporalAddress,
      TEMPORAL_NAMESPACE: rt.namespace,
      TEMPORAL_TASK_QUEUE: rt.taskQueue,
      MTURK_TARGET: 'local',
      MTURK_ENDPOINT: rt.emulatorUrl,
    });

  const startServer = async () => {
    server = await startDevServer({
      port: temporalPort,
      dbFilename: rt.dbFilename,
      cli: rt.cli,
      log: (line) => log(line),
    });
    rt.cli = server.cli;
  };

  const startEmulatorProcess = async () => {
    const proc = spawnTsx(
      'emulator',
      'src/emulator/main.ts',
      // Configuration is not in the state file: every start gets the lag again.
      [
        '--port',
        String(rt.emulatorPort),
        '--state',
        rt.statePath,
        '--listing-lag-ms',
        String(listingLagMs),
        ...(mturkRateLimit > 0
          ? ['--rate-limit', String(mturkRateLimit), '--burst', String(2 * mturkRateLimit)]
          : []),
      ],
      { env: childEnv({}), logFile: path.join(logDir, 'emulator.log') },
    );
    emulator = proc;
    await admin.waitUntilUp(60_000, () => !proc.done);
    if (mix) await admin.setFaults(faultConfig(mix, faultSeeds.int(1, 0x7fffffff)));
  };

  // The worker: restarted whenever it exits without us having killed it.
  let expectWorkerExit = false;
  const startWorker = () => {
    const [script, args] =
      opts.workerEntry === 'cli' ? ['src/cli/main.ts', ['worker']] : ['src/worker-main.ts', []];
    const proc = spawnTsx('worker', script, args, {
      env: cliEnv(),
      logFile: path.join(logDir, 'worker.log'),
    });
    worker = proc;
    void proc.exited.then((exit) => {
      if (shuttingDown || expectWorkerExit || worker !== proc) return;
      stats.unexpectedWorkerExits += 1;
      log(`worker exited on its own (code ${exit.code}, signal ${exit.signal}); restarting it`);
      void sleep(1000).then(() => {
        if (!shuttingDown && worker === proc) {
          stats.workerRestarts += 1;
          startWorker();
        }
      });
    });
  };

  /** `temporal-mturk pay --yes` on the campaign's file, writing `report`. */
  const spawnPay = (name: string, report: string, job: string) => {
    const [script, args] =
      opts.client === 'cli'
        ? [
            'src/cli/main.ts',
            ['pay', '--yes', '--concurrency', String(concurrency), '--report', report, csvFile],
          ]
        : ['scripts/chaos/pay-client.ts', ['--job', job]];
    return spawnTsx(name, script, args, {
      env: cliEnv(),
      logFile: path.join(logDir, `${name}.log`),
    });
  };

  // The paying client: rerun whenever it exits without a result.
  let expectClientExit = false;
  let batchDone = false;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));
  const startClient = () => {
    stats.clientRuns += 1;
    const proc = spawnPay('client', reportFile, jobFile);
    client = proc;
    void proc.exited.then((exit) => {
      if (client !== proc || shuttingDown) return;
      // 0: every row paid; 1: the batch finished with rows not paid; 2-4: refused (invalid
      // file, balance, not confirmed): running it again would not change anything.
      if (exit.code !== null && exit.code >= 0 && exit.code <= 4) {
        payExitCode = exit.code;
        batchDone = true;
        resolveDone();
        return;
      }
      if (expectClientExit) return;
      stats.unexpectedClientExits += 1;
      log(`client exited without a result (code ${exit.code}); running it again`);
      void sleep(2000).then(() => {
        if (!shuttingDown && client === proc && !batchDone) startClient();
      });
    });
  };

  let ledgerCount = 0;
  const readProgress = async (): Promise<number> => {
    try {
      ledgerCount = (await admin.ledger()).bonuses.length;
    } catch {
      // Emulator down: progress stands still.
    }
    return ledgerCount;
  };

  const perform = async (event: ChaosEvent) => {
    const downMs = Math.round(eventRng.between(500, 3000));
    event.downMs = downMs;
    switch (event.kind) {
      case 'worker-kill': {
        expectWorkerExit = true;
        const exit = await worker!.stop('SIGKILL');
        stats.workerKills += 1;
        log(`worker SIGKILLed (${exit.signal}); down for ${downMs} ms`);
        await sleep(downMs);
        expectWorkerExit = false;
        stats.workerRestarts += 1;
        startWorker();
        break;
      }
      case 'dev-server-restart': {
        log('stopping the Temporal dev server');
        await server!.stop();
        stats.devServerRestarts += 1;
        await sleep(downMs);
        await startServer();
        log(`Temporal dev server back after ${downMs} ms down`);
        break;
      }
      case 'emulator-restart': {
        log('stopping the emulator');
        await emulator!.stop('SIGTERM');
        stats.emulatorRestarts += 1;
        await sleep(downMs);
        await startEmulatorProcess();
        log(`emulator back on its state file after ${downMs} ms down`);
        break;
      }
      case 'client-kill': {
        expectClientExit = true;
        await client!.stop('SIGKILL');
        stats.clientKills += 1;
        log(`client SIGKILLed; rerunning it in ${downMs} ms`);
        await sleep(downMs);
        expectClientExit = false;
        if (!batchDone) startClient();
        break;
      }
    }
  };

  /** Past MTurk's 24 h token memory, so only the ledger can tell the new runs what was paid. */
  const resetPhase = async (temporal: Client, ids: string[]): Promise<ResetPhaseResult> => {
    const phaseStart = Date.now();
    const clockAdvancedMs = 25 * 3_600_000;
    await admin.advanceClock(clockAdvancedMs);
    const before = await admin.ledger();
    log(`emulator clock moved 25 h on; resetting ${ids.length} payment workflows`);
    const outcome = await resetAndWait(temporal, ids, 120_000);
    const after = await admin.ledger();
    const result: ResetPhaseResult = {
      planned: ids.length,
      clockAdvancedMs,
      ...outcome,
      sendBonusCalls: (after.requests.SendBonus ?? 0) - (before.requests.SendBonus ?? 0),
      newBonuses: after.bonuses.length - before.bonuses.length,
      timeMs: Date.now() - phaseStart,
    };
    log(
      `resets: ${result.done}/${result.planned} new runs finished, ${result.alreadyPaid} already-paid ` +
        `${JSON.stringify(result.foundBy)}; ${result.sendBonusCalls} SendBonus, ${result.newBonuses} new bonuses`,
    );
    if (result.alreadyPaid !== result.planned) {
      problems.push(
        `${result.planned - result.alreadyPaid} of ${result.planned} resets did not end already-paid: ` +
          result.failures.map((f) => `${f.workflowId}: ${f.problem}`).join('; '),
      );
    }
    if (result.sendBonusCalls > 0)
      problems.push(`the resets sent ${result.sendBonusCalls} SendBonus requests`);
    return result;
  };

  /** As after the namespace's retention: only MTurk's ledger remembers what was paid. */
  const rerunPhase = async (temporal: Client, ids: string[]): Promise<RerunPhaseResult> => {
    const deletion = await deleteWorkflows(temporal, ids, { timeoutMs: 180_000, log });
    log(
      `deleted ${deletion.executionsDeleted} executions; all gone after ${(deletion.deletionWaitMs / 1000).toFixed(1)} s` +
        (deletion.notDeleted > 0 ? ` except ${deletion.notDeleted}` : ''),
    );
    const result: RerunPhaseResult = {
      workflowIds: ids.length,
      ...deletion,
      exitCode: null,
      report: null,
      sendBonusCalls: 0,
      newBonuses: 0,
      timeMs: 0,
    };
    if (deletion.notDeleted > 0) {
      problems.push(`${deletion.notDeleted} workflows were still there 180 s after their deletion`);
      return result;
    }
    const before = await admin.ledger();
    const rerunStart = Date.now();
    log('running pay on the same file again');
    const proc = spawnPay('rerun', rerunReportFile, rerunJobFile);
    // The rerun still approves (already approved) and looks up every payment, at the pace the
    // worker's rate limiter allows: give it 0.6 s a payment, at least 5 minutes.
    const rerunTimeoutMs = Math.max(300_000, payments.length * 600);
    const exit = await Promise.race([proc.exited, sleep(rerunTimeoutMs).then(() => null)]);
    result.timeMs = Date.now() - rerunStart;
    if (exit === null) {
      await proc.stop('SIGKILL');
      problems.push(`the rerun did not finish within ${rerunTimeoutMs / 1000} s`);
    }
    result.exitCode = exit?.code ?? null;
    const after = await admin.ledger();
    result.sendBonusCalls = (after.requests.SendBonus ?? 0) - (before.requests.SendBonus ?? 0);
    result.newBonuses = after.bonuses.length - before.bonuses.length;
    result.report = rerunReportOf(rerunReportFile);
    log(
      `rerun: exit ${result.exitCode} in ${(result.timeMs / 1000).toFixed(1)} s, ` +
        `${JSON.stringify(result.report)}; ${result.sendBonusCalls} SendBonus, ${result.newBonuses} new bonuses`,
    );
    const n = payments.length;
    const r = result.report;
    if (exit !== null && result.exitCode !== 0)
      problems.push(`the rerun exited with ${result.exitCode}`);
    if (!r) problems.push('the rerun wrote no report');
    else if (r.paid !== 0 || r.alreadyPaid !== n || r.alreadyPaidByListing !== n) {
      problems.push(
        `the rerun reported paid ${r.paid}, already paid ${r.alreadyPaid} ` +
          `(${r.alreadyPaidByListing} on the listing); expected 0 and ${n} (${n})`,
      );
    }
    if (result.sendBonusCalls > 0)
      problems.push(`the rerun sent ${result.sendBonusCalls} SendBonus requests`);
    if (result.newBonuses > 0) problems.push(`the rerun paid ${result.newBonuses} bonuses again`);
    return result;
  };

  let finalLedger: Ledger | undefined;
  let statusExitCode: number | null = null;
  let statusOutput = '';
  let batchResult: PayBatchResult | undefined;
  let balanceBefore = 0;
  let afterBatch: Ledger | undefined;
  let resets: ResetPhaseResult | null = null;
  let rerun: RerunPhaseResult | null = null;
  try {
    await startServer();
    await startEmulatorProcess();

    // Enough money for everything plus a margin: the run tests exactly-once, not funds waiting.
    // With the rerun, twice that: its preview cannot know the deleted workflows paid (only
    // MTurk's ledger does) and refuses a file the balance does not cover.
    const needed = payments.reduce((sum, p) => sum + p.cents + referenceFeeCents(p.cents), 0);
    balanceBefore = needed * (rerunPlanned ? 2 : 1) + 100_00;
    await seedAssignments(admin, payments, balanceBefore);
    const ledgerAtStart = await admin.ledger();
    balanceBefore = ledgerCents(ledgerAtStart.balance);
    log(`emulator seeded: ${payments.length} assignments, balance ${ledgerAtStart.balance}`);

    writeFileSync(
      csvFile,
      stringify(
        payments.map((p) => [
          p.assignmentId,
          p.workerId,
          p.bonusAmount,
          p.reason,
          p.bonusKey ?? '',
        ]),
        { header: true, columns: ['assignmentId', 'workerId', 'amount', 'reason', 'bonusKey'] },
      ),
    );
    const job: PayJob = {
      csv: csvFile,
      report: reportFile,
      concurrency,
      paymentOptions: CHAOS_WORKFLOW_OPTIONS,
    };
    writeFileSync(jobFile, JSON.stringify(job));
    writeFileSync(rerunJobFile, JSON.stringify({ ...job, report: rerunReportFile }));
    workflowId = planBatch(readBonusFile(csvFile)).batchId;

    startWorker();
    payingStarted = Date.now();
    startClient();
    log(
      `worker and client started; planned: ${events.map((e) => `${e.kind}@${Math.round(e.plannedAt * 100)}%`).join(', ')}`,
    );

    const deadline = started + timeoutMs;
    let lastReport = 0;
    let lastEventProgress = 0;
    // Let each restarted part do some work before the next blow (at least 1 % of the payments).
    const minGap = Math.max(1, Math.ceil(opts.count * 0.01));
    for (const event of events) {
      const target = Math.ceil(event.plannedAt * opts.count);
      for (;;) {
        if (batchDone || Date.now() > deadline) break;
        const progress = await readProgress();
        if (Date.now() - lastReport > 10_000) {
          lastReport = Date.now();
          log(`progress: ${progress}/${opts.count} bonuses in the ledger`);
        }
        if (progress >= target && progress >= lastEventProgress + minGap) break;
        await sleep(250);
      }
      if (batchDone || Date.now() > deadline) break;
      await sleep(Math.round(eventRng.between(0, 1000)));
      event.progress = await readProgress();
      event.atMs = Date.now() - payingStarted;
      log(`event ${event.kind} at ${event.progress}/${opts.count} paid`);
      await perform(event);
      event.done = true;
      lastEventProgress = event.progress;
    }

    const remaining = deadline - Date.now();
    const timedOut = await Promise.race([
      done.then(() => false),
      sleep(Math.max(remaining, 0)).then(() => true),
    ]);
    payingTimeMs = Date.now() - payingStarted;
    if (timedOut) {
      problems.push(`the batch did not finish within ${timeoutMs} ms`);
      log(`timed out; ${await readProgress()}/${opts.count} bonuses in the ledger`);
    } else {
      log(`pay finished in ${(payingTimeMs / 1000).toFixed(1)} s with exit code ${payExitCode}`);
      if (payExitCode !== 0) problems.push(`temporal-mturk pay exited with ${payExitCode}`);
      if (payExitCode === 0 || payExitCode === 1) {
        batchResult = await batchResultOf(rt.temporalAddress, rt.namespace, workflowId);
        log(
          `batch ${workflowId}: ${JSON.stringify(batchResult.counts)} in ${batchResult.runs} runs`,
        );
      }
    }

    // As an operator would after a crash: `temporal-mturk status <file>` must say all is paid.
    const status = spawnTsx('status', 'src/cli/main.ts', ['status', csvFile], {
      env: cliEnv(),
      logFile: path.join(logDir, 'status.log'),
    });
    const statusExit = await status.exited;
    statusExitCode = statusExit.code;
    statusOutput = status.output().trim();
    log(`status: exit ${statusExitCode}: ${statusOutput.split('\n').slice(0, 2).join(' / ')}`);
    if (statusExitCode !== 0) problems.push(`temporal-mturk status exited with ${statusExitCode}`);
    afterBatch = await admin.ledger();

    // Over time: only on a batch that finished paying, or there is nothing to come back to.
    const finished = !timedOut && payExitCode === 0;
    const paymentIds = payments.map((p) => bonusWorkflowId(p.assignmentId, p.bonusKey));
    if ((resetCount > 0 || rerunPlanned) && !finished) {
      problems.push('the over-time phases did not run: the batch did not finish paying');
    } else if (resetCount > 0 || rerunPlanned) {
      const connection = await Connection.connect({
        address: rt.temporalAddress,
        connectTimeout: 10_000,
      });
      try {
        const temporal = new Client({ connection, namespace: rt.namespace });
        if (resetCount > 0) {
          resets = await resetPhase(temporal, sample(paymentIds, resetCount, resetRng.next));
        }
        if (rerunPlanned) rerun = await rerunPhase(temporal, [workflowId, ...paymentIds]);
      } finally {
        await connection.close();
      }
    }

    // Let the worker finish anything in flight, so a late duplicate would show in the ledger.
    shuttingDown = true;
    await worker?.stop('SIGTERM', 15_000);
    await client?.stop('SIGKILL');
    finalLedger = await admin.ledger();
  } catch (err) {
    problems.push(
      `campaign error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    try {
      finalLedger ??= await admin.ledger();
    } catch {
      // Nothing more to read.
    }
  } finally {
    shuttingDown = true;
    await worker?.stop('SIGKILL');
    await client?.stop('SIGKILL');
    await emulator?.stop('SIGTERM');
    await server?.stop().catch(() => undefined);
  }

  const comparison = finalLedger
    ? compareLedger(payments, finalLedger, balanceBefore)
    : compareLedger(payments, emptyLedger(), balanceBefore);
  if (!finalLedger) problems.push('no ledger could be read');
  if (comparison.duplicated > 0) problems.push(`${comparison.duplicated} duplicate payments`);
  if (comparison.missing > 0) problems.push(`${comparison.missing} missing payments`);
  if (comparison.wrong > 0)
    problems.push(`${comparison.wrong} payments with a wrong amount, worker, reason or fee`);
  if (comparison.unexpected > 0)
    problems.push(`${comparison.unexpected} payments nobody asked for`);
  if (comparison.totals.paidBonus !== comparison.totals.expectedBonus) {
    problems.push(
      `paid ${comparison.totals.paidBonus} in bonuses, expected ${comparison.totals.expectedBonus}`,
    );
  }
  if (!comparison.totals.balanceConsistent)
    problems.push('balance does not match bonuses plus fees');
  if (batchResult && batchResult.counts.failed > 0) {
    problems.push(`the batch reports ${batchResult.counts.failed} failed rows`);
  }
  for (const e of events)
    if (!e.done) problems.push(`event ${e.kind} planned at ${e.plannedAt} did not happen`);
  const exact = ledgerIsExact(comparison);

  const report = reportCheck(reportFile, comparison);
  const keep = opts.keepWorkDir || problems.length > 0;
  if (!keep && !opts.workDir) rmSync(workDir, { recursive: true, force: true });
  const { totals, examples, ...counts } = comparison;
  const finished = Date.now();
  return {
    seed: opts.seed,
    count: opts.count,
    startedAt,
    finishedAt: new Date(finished).toISOString(),
    wallTimeMs: finished - started,
    payingTimeMs,
    payments: counts,
    totals,
    examples,
    faults: finalLedger?.faults ?? { serviceFault: 0, throttle: 0, dropAfterCommit: 0 },
    faultMix: mix,
    requests: finalLedger?.requests ?? {},
    listingLagMs,
    mturkRateLimit,
    rateLimited: finalLedger?.rateLimited ?? {},
    callsPerPayment: afterBatch ? callsPerPayment(afterBatch, opts.count) : null,
    resets,
    rerun,
    chaos: { ...stats, events },
    batch: {
      workflowId,
      counts: batchResult?.counts ?? null,
      runs: batchResult?.runs ?? null,
    },
    cli: { payExitCode, statusExitCode, statusOutput },
    report,
    exact,
    problems,
    ...(keep && { workDir }),
  };
}

async function seedAssignments(
  admin: EmulatorAdmin,
  payments: readonly ChaosPayment[],
  balanceCents: number,
): Promise<void> {
  const perHit = 100;
  const unique = [...new Map(payments.map((p) => [p.assignmentId, p])).values()];
  const hits = [];
  for (let i = 0; i < unique.length; i += perHit) {
    hits.push({
      title: `Chaos HIT ${i / perHit + 1}`,
      maxAssignments: perHit,
      assignments: unique
        .slice(i, i + perHit)
        .map((p) => ({ assignmentId: p.assignmentId, workerId: p.workerId })),
    });
  }
  await admin.seed({ balance: dollars(balanceCents), hits });
}

/** The `pay` report's own account of the money, next to the ledger's. */
function reportCheck(file: string, comparison: LedgerComparison): CampaignSummary['report'] {
  let summary: { paid: number; alreadyPaid: number; paidNow: string; feesNow: string };
  try {
    summary = (JSON.parse(readFileSync(file, 'utf8')) as { summary: typeof summary }).summary;
  } catch {
    return null;
  }
  const plain = (s: string) => s.replace(/[$,]/g, '');
  return {
    paid: summary.paid,
    alreadyPaid: summary.alreadyPaid,
    paidNow: plain(summary.paidNow),
    feesNow: plain(summary.feesNow),
    ledgerPaid: comparison.totals.paidBonus,
    ledgerFees: comparison.totals.paidFees,
    agrees:
      plain(summary.paidNow) === comparison.totals.paidBonus &&
      plain(summary.feesNow) === comparison.totals.paidFees,
  };
}

/** The rerun's report summary, or null when it wrote none. */
function rerunReportOf(file: string): RerunPhaseResult['report'] {
  try {
    const s = (JSON.parse(readFileSync(file, 'utf8')) as { summary: RerunPhaseResult['report'] })
      .summary!;
    return {
      payments: s.payments,
      paid: s.paid,
      alreadyPaid: s.alreadyPaid,
      alreadyPaidByListing: s.alreadyPaidByListing,
      alreadyPaidByToken: s.alreadyPaidByToken,
      alreadyPaidByWorkflow: s.alreadyPaidByWorkflow,
      failed: s.failed,
      conflicts: s.conflicts,
      unconfirmed: s.unconfirmed,
      paidNow: s.paidNow,
    };
  } catch {
    return null;
  }
}

/** Requests by operation ÷ payments (operations never called left out), to 3 decimals. */
function callsPerPayment(ledger: Ledger, payments: number): CampaignSummary['callsPerPayment'] {
  const round = (n: number) => Math.round((n / payments) * 1000) / 1000;
  const byOperation: Record<string, number> = {};
  let total = 0;
  for (const [op, n] of Object.entries(ledger.requests)) {
    if (n === 0) continue;
    byOperation[op] = round(n);
    total += n;
  }
  return { total: round(total), byOperation };
}

async function batchResultOf(
  address: string,
  namespace: string,
  workflowId: string,
): Promise<PayBatchResult> {
  const connection = await Connection.connect({ address, connectTimeout: 10_000 });
  try {
    const client = new Client({ connection, namespace });
    return (await client.workflow.getHandle(workflowId).result()) as PayBatchResult;
  } finally {
    await connection.close();
  }
}

function emptyLedger(): Ledger {
  return {
    balance: '0.00',
    onHoldBalance: '0.00',
    now: new Date().toISOString(),
    bonuses: [],
    approvals: [],
    rejections: [],
    notifications: [],
    requests: {},
    faults: { serviceFault: 0, throttle: 0, dropAfterCommit: 0 },
    rateLimited: {},
    totals: { bonusCount: 0, bonuses: '0.00', fees: '0.00' },
  };
}
