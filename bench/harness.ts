/**
 * The benchmark: pays N bonuses (approve + bonus) against the MTurk emulator four ways, with a
 * fixed latency injected on every MTurk operation, and measures throughput, per-bonus latency,
 * worker memory and Temporal server CPU. See bench/README.md.
 *
 * Layout: this process runs the emulator (in process) and the Temporal client; every case's
 * client side (worker or script) runs in a child process of its own (bench/child.ts), started
 * fresh for each run, so its peak RSS is its own.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, bundleWorkflowCode } from '@temporalio/worker';
import { searchAttributesRegistered } from '../src/client';
import { startDevServer, type DevServer } from '../tools/devserver/dev-server';
import { startEmulator, type RunningEmulator } from '../src/emulator';
import type { ApproveAndBonusInput } from '../src/common/types';
import type { PayBatchInput, PayBatchResult } from '../src/common/batch';
import { DEFAULT_BATCH_CONCURRENCY, encodeBatchRows } from '../src/common/batch';
import { WORKER_ENV, WORKER_NODE_FLAGS } from '../src/worker-memory';
import { renderChart } from './chart';
import { NODE_MODULES, transpileChild } from './compile';
import { cpuSeconds, findDevServerPid, statusMB } from './proc';
import type {
  BaselineRow,
  ChildConfig,
  ChildLaunch,
  ChildMessage,
  ParentMessage,
} from './protocol';
import {
  CASES,
  resultSchema,
  type BenchResult,
  type CaseName,
  type CaseSummary,
  type RunRecord,
  type Target,
} from './schema';
import { peakInWindow, percentile, round, spread } from './stats';
import { formatTable } from './table';

const ROOT = path.join(__dirname, '..');
export const POOL_CONCURRENCY = 50;
const BONUS_AMOUNT = '1.00';
const REASON = 'Thank you for taking part in the study';

export interface BenchOptions {
  /** Bonuses per run (default 1000). */
  n?: number;
  /** Repetitions of each case and latency (default 3). */
  reps?: number;
  /** Injected MTurk latencies, ms (default [0, 100]). */
  latenciesMs?: number[];
  /** Cases to run (default all). */
  cases?: CaseName[];
  /** Where `<date>.json` and `<date>.svg` go. */
  outDir: string;
  /** Bonuses of the scaling run (default 10 × n). */
  scalingN?: number;
  /** Latency of the scaling and rate-limited runs (default the smallest of latenciesMs). */
  extraLatencyMs?: number;
  /** The rate-limited run (default 20/s, 200 bonuses). */
  rateLimit?: { perSecond: number; n: number };
  /**
   * mturk-rate-limited: an account limit on the emulator (req/s, burst 2 × rate) per rate, with
   * each number of worker processes sharing it (default rates 5, 10, 20; 1 and 3 workers; N).
   */
  mturkRateLimited?: { rates: number[]; workers: number[]; n: number };
  /** Use this Temporal server instead of starting one (e.g. the test run's shared server). */
  temporalAddress?: string;
  namespace?: string;
  /** Extra Worker options for temporal-mturk and floor (experiments with the defaults). */
  workerOptions?: Record<string, number>;
  /** How worker processes (temporal-mturk, floor) are started: node flags, environment. */
  workerLaunch?: ChildLaunch;
  /** Batch window of temporal-mturk and floor (default: the product's, DEFAULT_BATCH_CONCURRENCY). */
  batchConcurrency?: number;
  /** Experiment: start batches without search attributes (default: as the CLI, when registered). */
  searchAttributes?: boolean;
  /** Experiment: bundler preloadModules (shared across workflows in the reused V8 context). */
  preloadModules?: string[];
  /** Longest a single run may take (default 30 minutes). */
  runTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface BenchOutput {
  result: BenchResult;
  jsonPath: string;
  svgPath: string;
  table: string;
}

interface RunSpec {
  case: CaseName;
  implementation: RunRecord['implementation'];
  latencyMs: number;
  n: number;
  rep: number;
  rateLimit?: number;
  /** The emulator's account limit (req/s), and worker processes sharing it. */
  mturkLimit?: number;
  workers?: number;
}

/** A child process speaking bench/protocol.ts. */
class BenchChild {
  private readonly queue: ChildMessage[] = [];
  private readonly waiters: ((m: ChildMessage | undefined) => void)[] = [];
  private exited = false;
  readonly exit: Promise<number | null>;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (m) => this.push(m as ChildMessage));
    this.exit = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exited = true;
        for (const w of this.waiters.splice(0)) w(undefined);
        resolve(code);
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private push(m: ChildMessage): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(m);
    else this.queue.push(m);
  }

  send(m: ParentMessage): void {
    this.child.send(m);
  }

  /** The next message, which must be of `type`; throws on an error message, exit or timeout. */
  async next<T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    let timer: NodeJS.Timeout | undefined;
    const message = await Promise.race([
      new Promise<ChildMessage | undefined>((resolve) => {
        const queued = this.queue.shift();
        if (queued) resolve(queued);
        else if (this.exited) resolve(undefined);
        else this.waiters.push(resolve);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`bench child: no "${type}" within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    if (!message) throw new Error(`bench child exited before "${type}"`);
    if (message.type === 'error') throw new Error(`bench child failed: ${message.message}`);
    if (message.type !== type)
      throw new Error(`bench child: expected "${type}", got "${message.type}"`);
    return message as Extract<ChildMessage, { type: T }>;
  }

  kill(): void {
    if (!this.exited) this.child.kill('SIGKILL');
  }
}

/**
 * Worker processes start as `temporal-mturk worker` starts its worker (worker-memory.ts: node
 * flags and MALLOC_ARENA_MAX), unless an experiment says otherwise.
 */
function workerLaunchOf(options: BenchOptions): ChildLaunch {
  return {
    nodeArgs: options.workerLaunch?.nodeArgs ?? [...WORKER_NODE_FLAGS],
    env: { ...WORKER_ENV, ...options.workerLaunch?.env },
  };
}

/** As the result records it: variables removed from the environment are left out. */
function recordedLaunch(launch: ChildLaunch): {
  nodeArgs?: string[];
  env?: Record<string, string>;
} {
  const env = Object.entries(launch.env ?? {}).filter(
    (entry): entry is [string, string] => entry[1] !== undefined,
  );
  return { nodeArgs: launch.nodeArgs, env: Object.fromEntries(env) };
}

/** Runs the transpiled bench/child.ts (see compile.ts) with `node`, as production runs dist/. */
async function startChild(
  childPath: string,
  config: ChildConfig,
  launch: ChildLaunch = {},
): Promise<BenchChild> {
  const child = spawn(process.execPath, [...(launch.nodeArgs ?? []), childPath], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...launch.env,
      NODE_PATH: NODE_MODULES,
      BENCH_CHILD: JSON.stringify(config),
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const wrapped = new BenchChild(child);
  try {
    await wrapped.next('ready', 120_000);
  } catch (err) {
    wrapped.kill();
    throw err;
  }
  return wrapped;
}

/** CPU seconds used so far by the dev server and a child (null where unreadable). */
function cpuNow(ctx: Context, child: BenchChild) {
  return { server: cpuSeconds(ctx.serverPid), child: cpuSeconds(child.pid) };
}

/** Server and child CPU since `cpu0`, the child's peak RSS, then the child stopped. */
async function finishChild(ctx: Context, child: BenchChild, cpu0: ReturnType<typeof cpuNow>) {
  const cpu1 = cpuNow(ctx, child);
  const since = (a: number | null, b: number | null) => (a !== null && b !== null ? b - a : null);
  const peakRss = statusMB(child.pid, 'VmHWM');
  const stopped = await stopChild(child);
  return {
    serverCpuS: since(cpu0.server, cpu1.server),
    workerCpuS: since(cpu0.child, cpu1.child),
    rss: peakRss ?? stopped.maxRssMB,
    stopped,
  };
}

async function stopChild(child: BenchChild) {
  try {
    child.send({ type: 'stop' });
    const stopped = await child.next('stopped', 60_000);
    await child.exit;
    return stopped;
  } finally {
    child.kill();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentiles(values: number[]) {
  if (values.length === 0) return null;
  return {
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    max: round(Math.max(...values)),
  };
}

function loadAvg(): number[] {
  return os.loadavg().map((v) => round(v, 2));
}

function gitDescribe(): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    return `${head.trim()}${dirty.trim() ? ' (src modified)' : ''}`;
  } catch {
    return null;
  }
}

interface Context {
  client: Client;
  address: string;
  namespace: string;
  serverPid: number | undefined;
  emulator: RunningEmulator;
  bundlePath: string;
  childPath: string;
  workerLaunch: ChildLaunch;
  batchConcurrency: number;
  searchAttributes: boolean;
  workerOptions: Record<string, number>;
  runTimeoutMs: number;
  log: (line: string) => void;
}

/** Fresh emulator state: N submitted assignments, enough balance, the latency on every op. */
function prepareEmulator(ctx: Context, spec: RunSpec): ApproveAndBonusInput[] {
  const { emulator } = ctx;
  emulator.reset();
  // Kept across reset (configuration): set for every run.
  emulator.configure({
    rateLimit:
      spec.mturkLimit === undefined ? null : { rate: spec.mturkLimit, burst: 2 * spec.mturkLimit },
  });
  const { hits } = emulator.seed({
    balance: String(spec.n * 2 + 100),
    hits: [
      {
        assignments: Array.from({ length: spec.n }, (_, i) => ({
          workerId: `ABENCH${String(i).padStart(8, '0')}`,
        })),
      },
    ],
  });
  if (spec.latencyMs > 0) {
    emulator.setFaults({ seed: 1, operations: { '*': { latencyMs: spec.latencyMs } } });
  }
  return hits[0]!.assignments.map((a) => ({
    assignmentId: a.assignmentId,
    workerId: a.workerId,
    bonusAmount: BONUS_AMOUNT,
    reason: REASON,
  }));
}

/** Exactly one bonus of the right amount per row, each row approved: else the run is void. */
function checkLedger(
  ctx: Context,
  spec: RunSpec,
  rows: ApproveAndBonusInput[],
  paidRows: number,
): RunRecord['ledger'] {
  const ledger = ctx.emulator.ledger();
  const requests = Object.values(ledger.requests).reduce((a, b) => a + b, 0);
  const base = {
    bonuses: ledger.bonuses.length,
    approvals: ledger.approvals.length,
    requests,
    paidRows,
  };
  if (spec.implementation === 'floor') {
    const verified = ledger.bonuses.length === 0 && requests === 0 && paidRows === spec.n;
    return {
      ...base,
      verified,
      note: verified
        ? `no-op activities: nothing sent to MTurk; the batch reports ${paidRows} paid`
        : `expected no MTurk calls and ${spec.n} paid rows`,
    };
  }
  const problems: string[] = [];
  const perAssignment = new Map<string, number>();
  for (const b of ledger.bonuses) {
    perAssignment.set(b.assignmentId, (perAssignment.get(b.assignmentId) ?? 0) + 1);
    if (b.amount !== BONUS_AMOUNT) problems.push(`bonus of ${b.amount} for ${b.assignmentId}`);
  }
  const unpaid = rows.filter((r) => perAssignment.get(r.assignmentId) !== 1).length;
  if (ledger.bonuses.length !== spec.n) problems.push(`${ledger.bonuses.length} bonuses`);
  if (unpaid > 0) problems.push(`${unpaid} rows without exactly one bonus`);
  const approved = new Set(ledger.approvals.map((a) => a.assignmentId));
  if (approved.size !== spec.n) problems.push(`${approved.size} approvals`);
  if (paidRows !== spec.n) problems.push(`${paidRows} rows reported paid`);
  return {
    ...base,
    verified: problems.length === 0,
    note:
      problems.length === 0
        ? `exactly ${spec.n} bonuses of $${BONUS_AMOUNT}, one per row, ${spec.n} approvals`
        : `VOID: expected ${spec.n} bonuses, one per row: ${problems.slice(0, 5).join('; ')}`,
  };
}

async function runBaseline(ctx: Context, spec: RunSpec): Promise<RunRecord> {
  const rows = prepareEmulator(ctx, spec);
  const concurrency = spec.implementation === 'sequential' ? 1 : POOL_CONCURRENCY;
  const child = await startChild(ctx.childPath, {
    role: 'baseline',
    emulatorUrl: ctx.emulator.url,
    concurrency,
  });
  let done: Extract<ChildMessage, { type: 'done' }>;
  let workerCpuS: number | null = null;
  let serverCpuS: number | null = null;
  const harness0 = process.cpuUsage();
  const load = loadAvg();
  let rss: number | null;
  try {
    const cpu0 = cpuNow(ctx, child);
    const baselineRows: BaselineRow[] = rows.map(
      ({ assignmentId, workerId, bonusAmount, reason }) => ({
        assignmentId,
        workerId,
        bonusAmount,
        reason,
      }),
    );
    child.send({ type: 'run', rows: baselineRows });
    done = await child.next('done', ctx.runTimeoutMs);
    ({ serverCpuS, workerCpuS, rss } = await finishChild(ctx, child, cpu0));
  } finally {
    child.kill();
  }
  const harnessCpu = process.cpuUsage(harness0);
  const wallMs = done.finishedAt - done.startedAt;
  const paidRows = spec.n - done.failures;
  const ledger = checkLedger(ctx, spec, rows, paidRows);
  if (done.firstError !== undefined) ledger.note += `; first error: ${done.firstError}`;
  return {
    case: spec.case,
    implementation: spec.implementation,
    latencyMs: spec.latencyMs,
    n: spec.n,
    rep: spec.rep,
    taskQueue: null,
    wallMs,
    throughput: round((spec.n / wallMs) * 1000, 2),
    completionMs: percentiles(done.completedAt.map((t) => t - done.startedAt)),
    paymentMs: null,
    workerPeakRssMB: rss === null ? null : round(rss),
    workerMemoryMB: null,
    workerCpuS: workerCpuS === null ? null : round(workerCpuS, 2),
    serverCpuS: serverCpuS === null ? null : round(serverCpuS, 2),
    harnessCpuS: round((harnessCpu.user + harnessCpu.system) / 1e6, 2),
    batchRuns: null,
    batchHistoryEvents: null,
    activities: null,
    ledger,
    loadAvg: load,
    loadAvgEnd: loadAvg(),
  };
}

/** Start and close times (ms) of the batch's payment workflows, from the server's visibility. */
async function paymentTimes(
  client: Client,
  taskQueue: string,
  n: number,
): Promise<{ start: number; close: number }[]> {
  const query = `WorkflowType = 'approveAndBonus' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`;
  // Visibility is written asynchronously: wait until every payment is listed.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { count } = await client.workflow.count(query);
    if (count >= n) break;
    await sleep(250);
  }
  const times: { start: number; close: number }[] = [];
  for await (const info of client.workflow.list({ query, pageSize: 1000 })) {
    if (info.closeTime)
      times.push({ start: info.startTime.getTime(), close: info.closeTime.getTime() });
  }
  return times;
}

async function batchHistory(client: Client, workflowId: string) {
  let runs = 0;
  let events = 0;
  for await (const info of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs += 1;
    events += info.historyLength;
  }
  return { runs, events };
}

async function runTemporal(ctx: Context, spec: RunSpec): Promise<RunRecord> {
  const rows = prepareEmulator(ctx, spec);
  const taskQueue = `bench-${spec.case}-${spec.latencyMs}ms-${spec.rep}-${randomUUID().slice(0, 8)}`;
  const workflowId = `bench-batch/${taskQueue}`;
  const childConfig: ChildConfig = {
    role: spec.implementation === 'floor' ? 'floor' : 'worker',
    address: ctx.address,
    namespace: ctx.namespace,
    taskQueue,
    emulatorUrl: ctx.emulator.url,
    bundlePath: ctx.bundlePath,
    ...(spec.rateLimit !== undefined && { maxTaskQueueActivitiesPerSecond: spec.rateLimit }),
    workerOptions: ctx.workerOptions,
  };
  const child = await startChild(ctx.childPath, childConfig, ctx.workerLaunch);
  // More worker processes on the same task queue (and the one emulator account): measured as a
  // whole by the emulator; CPU and memory figures are the first one's.
  const others: BenchChild[] = [];
  for (let i = 1; i < (spec.workers ?? 1); i++) {
    others.push(await startChild(ctx.childPath, childConfig, ctx.workerLaunch));
  }
  const idleRss = statusMB(child.pid, 'VmRSS');
  // As `temporal-mturk pay` starts it: default window, default payment options.
  const input: PayBatchInput = {
    ...encodeBatchRows(rows),
    concurrency: ctx.batchConcurrency,
    options: {},
    searchAttributes: ctx.searchAttributes,
  };
  let result: PayBatchResult;
  let t0: number;
  let t1: number;
  let serverCpuS: number | null = null;
  let workerCpuS: number | null = null;
  let rss: number | null;
  let activityStarts: number[];
  let workerMemoryMB: Record<string, number> | null = null;
  const harness0 = process.cpuUsage();
  const load = loadAvg();
  try {
    const cpu0 = cpuNow(ctx, child);
    t0 = Date.now();
    const handle = await ctx.client.workflow.start('payBatch', {
      taskQueue,
      workflowId,
      args: [input],
    });
    result = await withTimeout(
      handle.result() as Promise<PayBatchResult>,
      ctx.runTimeoutMs,
      `${spec.case} (${spec.n} bonuses)`,
    );
    t1 = Date.now();
    const finished = await finishChild(ctx, child, cpu0);
    await Promise.all(others.map((o) => stopChild(o)));
    ({ serverCpuS, workerCpuS, rss } = finished);
    const { stopped } = finished;
    activityStarts = stopped.activityStarts;
    workerMemoryMB = stopped.memory ? { ...stopped.memory, idleRss: round(idleRss ?? 0) } : null;
  } finally {
    child.kill();
    for (const o of others) o.kill();
  }
  const harnessCpu = process.cpuUsage(harness0);
  const wallMs = t1 - t0;
  const times = await paymentTimes(ctx.client, taskQueue, spec.n);
  const history = await batchHistory(ctx.client, workflowId);
  const paidRows = result.counts.paid + result.counts.alreadyPaid;
  const ledger = checkLedger(ctx, spec, rows, paidRows);
  if (times.length !== spec.n) {
    ledger.note += `; visibility listed ${times.length} of ${spec.n} payments`;
  }
  let activities: RunRecord['activities'] = null;
  if (activityStarts.length > 0) {
    const first = Math.min(...activityStarts);
    const last = Math.max(...activityStarts);
    activities = {
      count: activityStarts.length,
      avgPerSecond: round(
        last > first ? ((activityStarts.length - 1) / (last - first)) * 1000 : 0,
        2,
      ),
      peak1s: peakInWindow(activityStarts, 1000),
      limitPerSecond: spec.rateLimit ?? null,
    };
  }
  return {
    case: spec.case,
    implementation: spec.implementation,
    latencyMs: spec.latencyMs,
    n: spec.n,
    rep: spec.rep,
    taskQueue,
    wallMs,
    throughput: round((spec.n / wallMs) * 1000, 2),
    completionMs: percentiles(times.map((t) => t.close - t0)),
    paymentMs: percentiles(times.map((t) => t.close - t.start)),
    workerPeakRssMB: rss === null ? null : round(rss),
    workerMemoryMB,
    workerCpuS: workerCpuS === null ? null : round(workerCpuS, 2),
    serverCpuS: serverCpuS === null ? null : round(serverCpuS, 2),
    harnessCpuS: round((harnessCpu.user + harnessCpu.system) / 1e6, 2),
    batchRuns: history.runs,
    batchHistoryEvents: history.events,
    activities,
    ledger,
    ...(spec.mturkLimit !== undefined && {
      mturk: mturkFigures(ctx, spec, (spec.n / wallMs) * 1000),
    }),
    loadAvg: load,
    loadAvgEnd: loadAvg(),
  };
}

/** What a run made of the emulator's account limit, from the emulator's own counters. */
function mturkFigures(ctx: Context, spec: RunSpec, throughput: number): RunRecord['mturk'] {
  const l = ctx.emulator.ledger();
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  const requests = sum(l.requests);
  const throttled = sum(l.rateLimited);
  const callsPerPayment = (requests - throttled) / spec.n;
  const achievable = spec.mturkLimit! / callsPerPayment;
  return {
    limitPerSecond: spec.mturkLimit!,
    workers: spec.workers ?? 1,
    requests,
    throttled,
    callsPerPayment: round(callsPerPayment, 3),
    achievablePerSecond: round(achievable, 3),
    fractionOfAchievable: round(throughput / achievable, 3),
    throttledShare: round(requests > 0 ? throttled / requests : 0, 4),
  };
}

function plan(
  opts: Required<Pick<BenchOptions, 'n' | 'reps' | 'latenciesMs' | 'cases'>> & {
    scalingN: number;
    extraLatencyMs: number;
    rateLimit: { perSecond: number; n: number };
    mturkRateLimited: { rates: number[]; workers: number[]; n: number };
  },
): RunSpec[] {
  const specs: RunSpec[] = [];
  const main = ['sequential', 'promise-pool', 'temporal-mturk', 'floor'] as const;
  // Repetitions interleave the cases, so a change of load on the machine hits all of them, in
  // alternating order, so that neither temporal-mturk nor floor always meets the server later
  // (it keeps every finished workflow in memory and slows down a little as they accumulate).
  for (const latencyMs of opts.latenciesMs) {
    for (let rep = 1; rep <= opts.reps; rep++) {
      for (const c of rep % 2 === 1 ? main : [...main].reverse()) {
        if (opts.cases.includes(c)) {
          specs.push({ case: c, implementation: c, latencyMs, n: opts.n, rep });
        }
      }
    }
  }
  if (opts.cases.includes('scaling')) {
    // A reference run of N right before the big one: the server accumulates every finished
    // workflow of the run (in memory), so both should meet it in the same state.
    for (const rows of [opts.n, opts.scalingN]) {
      specs.push({
        case: 'scaling',
        implementation: 'temporal-mturk',
        latencyMs: opts.extraLatencyMs,
        n: rows,
        rep: 1,
      });
    }
  }
  if (opts.cases.includes('rate-limited')) {
    specs.push({
      case: 'rate-limited',
      implementation: 'temporal-mturk',
      latencyMs: opts.extraLatencyMs,
      n: opts.rateLimit.n,
      rep: 1,
      rateLimit: opts.rateLimit.perSecond,
    });
  }
  if (opts.cases.includes('mturk-rate-limited')) {
    for (const rate of opts.mturkRateLimited.rates) {
      for (const workers of opts.mturkRateLimited.workers) {
        specs.push({
          case: 'mturk-rate-limited',
          implementation: 'temporal-mturk',
          latencyMs: opts.extraLatencyMs,
          n: opts.mturkRateLimited.n,
          rep: 1,
          mturkLimit: rate,
          workers,
        });
      }
    }
  }
  return specs;
}

export function summarize(runs: RunRecord[]): CaseSummary[] {
  const groups = new Map<string, RunRecord[]>();
  for (const run of runs) {
    if (!run.ledger.verified) continue; // a run that paid wrong measures nothing
    if (run.mturk) continue; // one run per limit and worker count: reported run by run
    const key = `${run.case}|${run.latencyMs}|${run.n}`;
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.values()].map((group) => {
    const first = group[0]!;
    return {
      case: first.case,
      latencyMs: first.latencyMs,
      n: first.n,
      reps: group.length,
      throughput: spread(group.map((r) => r.throughput))!,
      wallMs: spread(group.map((r) => r.wallMs))!,
      completionP50Ms: spread(group.map((r) => r.completionMs?.p50)),
      completionP99Ms: spread(group.map((r) => r.completionMs?.p99)),
      workerPeakRssMB: spread(group.map((r) => r.workerPeakRssMB)),
      serverCpuS: spread(group.map((r) => r.serverCpuS)),
      workerCpuS: spread(group.map((r) => r.workerCpuS)),
    };
  });
}

function target(
  name: string,
  description: string,
  measured: number | null | undefined,
  comparator: '>=' | '<=',
  threshold: number,
  detail?: string,
): Target {
  const value =
    measured === undefined || measured === null || !Number.isFinite(measured) ? null : measured;
  return {
    name,
    description,
    measured: value === null ? null : round(value, 3),
    comparator,
    threshold,
    met: value === null ? null : comparator === '>=' ? value >= threshold : value <= threshold,
    ...(detail !== undefined && { detail }),
  };
}

/**
 * The same comparison two more ways, less exposed to a shared machine's changing load: the
 * ratio within each repetition (the two runs are adjacent in time), and the ratio of CPU spent
 * per bonus (server + worker), which is what the throughput ratio tends to when CPU-bound.
 */
function floorDetail(runs: RunRecord[], latencyMs: number, n: number): string | undefined {
  const pick = (c: CaseName) =>
    runs.filter((r) => r.case === c && r.latencyMs === latencyMs && r.n === n && r.ledger.verified);
  const tm = pick('temporal-mturk');
  const floor = pick('floor');
  const paired = tm
    .map((r) => {
      const f = floor.find((x) => x.rep === r.rep);
      return f ? r.throughput / f.throughput : undefined;
    })
    .filter((v): v is number => v !== undefined);
  if (paired.length === 0) return undefined;
  const cpu = (rs: RunRecord[]) =>
    spread(rs.map((r) => ((r.serverCpuS ?? NaN) + (r.workerCpuS ?? NaN)) / r.n))?.median;
  const cpuTm = cpu(tm);
  const cpuFloor = cpu(floor);
  return (
    `per-repetition ratios ${paired.map((v) => v.toFixed(2)).join(', ')} (median ${spread(paired)!.median.toFixed(2)})` +
    (cpuTm && cpuFloor
      ? `; CPU per bonus (server + worker) ${Math.round(cpuTm * 1000)} ms vs floor ${Math.round(cpuFloor * 1000)} ms (ratio ${(cpuFloor / cpuTm).toFixed(2)})`
      : '')
  );
}

/** The scaling ratio in CPU (server + worker): insensitive to other load on the machine. */
function scalingDetail(runs: RunRecord[], n: number): string | undefined {
  const scaling = runs.filter((r) => r.case === 'scaling' && r.ledger.verified);
  const big = scaling.find((r) => r.n !== n);
  const ref = scaling.find((r) => r.n === n);
  if (!big || !ref) return undefined;
  const cpu = (r: RunRecord) =>
    r.serverCpuS === null || r.workerCpuS === null ? null : r.serverCpuS + r.workerCpuS;
  const [cpuBig, cpuRef] = [cpu(big), cpu(ref)];
  return (
    `throughput ${big.throughput} vs ${ref.throughput} bonuses/s; load average ${big.loadAvg[0]}-${big.loadAvgEnd?.[0] ?? '?'} and ${ref.loadAvg[0]}-${ref.loadAvgEnd?.[0] ?? '?'} (start-end)` +
    (cpuBig !== null && cpuRef !== null
      ? `; CPU (server + worker) ${round(cpuBig)} s vs ${round(cpuRef)} s (ratio ${(cpuBig / cpuRef).toFixed(2)})`
      : '')
  );
}

export function evaluateTargets(
  summary: CaseSummary[],
  runs: RunRecord[],
  n: number,
  latenciesMs: number[],
): Target[] {
  const find = (c: CaseName, latencyMs: number, rows = n) =>
    summary.find((s) => s.case === c && s.latencyMs === latencyMs && s.n === rows);
  // The issue's targets are for 100 ms; a run without it uses its highest latency.
  const high = latenciesMs.includes(100) ? 100 : Math.max(...latenciesMs);
  const low = Math.min(...latenciesMs);
  const tm = find('temporal-mturk', high);
  const seq = find('sequential', high);
  const floor = find('floor', high);
  const scaling = summary.find((s) => s.case === 'scaling' && s.n !== n);
  const scalingRef = summary.find((s) => s.case === 'scaling' && s.n === n);
  const temporalRuns = runs.filter(
    (r) => r.implementation === 'temporal-mturk' && r.ledger.verified,
  );
  const rss = temporalRuns.map((r) => r.workerPeakRssMB).filter((v): v is number => v !== null);
  const limited = runs.find((r) => r.case === 'rate-limited' && r.ledger.verified);
  const paced = runs.filter((r) => r.mturk && r.ledger.verified).map((r) => r.mturk!);
  return [
    target(
      'speedup-vs-sequential',
      `temporal-mturk / sequential median throughput, ${high} ms latency, N=${n}`,
      tm && seq ? tm.throughput.median / seq.throughput.median : null,
      '>=',
      20,
    ),
    target(
      'share-of-floor',
      `temporal-mturk / floor median throughput, ${high} ms latency, N=${n}`,
      tm && floor ? tm.throughput.median / floor.throughput.median : null,
      '>=',
      0.9,
      floorDetail(runs, high, n),
    ),
    target(
      'scaling',
      `wall time of ${scaling?.n ?? 10 * n} bonuses / wall time of ${n} run just before, ` +
        `temporal-mturk, ${scaling?.latencyMs ?? low} ms`,
      scaling && scalingRef ? scaling.wallMs.median / scalingRef.wallMs.median : null,
      '<=',
      (scaling?.n ?? 10 * n) / n + 1,
      scalingDetail(runs, n),
    ),
    target(
      'worker-rss',
      'largest worker peak RSS (VmHWM) over temporal-mturk runs, MB',
      rss.length > 0 ? Math.max(...rss) : null,
      '<=',
      300,
    ),
    target(
      'rate-limit',
      `activity starts per second with maxTaskQueueActivitiesPerSecond ${limited?.activities?.limitPerSecond ?? 20}`,
      limited?.activities?.avgPerSecond ?? null,
      '<=',
      limited?.activities?.limitPerSecond ?? 20,
    ),
    target(
      'mturk-limit-use',
      'lowest payments/s ÷ achievable (limit ÷ accepted MTurk calls per payment), mturk-rate-limited runs',
      paced.length > 0 ? Math.min(...paced.map((m) => m.fractionOfAchievable)) : null,
      '>=',
      0.9,
      paced
        .map((m) => `${m.limitPerSecond}/s × ${m.workers}w: ${m.fractionOfAchievable}`)
        .join(', ') || undefined,
    ),
    target(
      'mturk-throttled-share',
      'highest share of MTurk calls throttled, mturk-rate-limited runs',
      paced.length > 0 ? Math.max(...paced.map((m) => m.throttledShare)) : null,
      '<=',
      0.05,
      paced.map((m) => `${m.limitPerSecond}/s × ${m.workers}w: ${m.throttledShare}`).join(', ') ||
        undefined,
    ),
  ];
}

function stamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
}

export async function runBench(options: BenchOptions): Promise<BenchOutput> {
  const log = options.log ?? ((line: string) => console.log(line));
  const n = options.n ?? 1000;
  const reps = options.reps ?? 3;
  const latenciesMs = options.latenciesMs ?? [0, 100];
  const cases = options.cases ?? [...CASES];
  const scalingN = options.scalingN ?? 10 * n;
  const extraLatencyMs = options.extraLatencyMs ?? Math.min(...latenciesMs);
  const rateLimit = options.rateLimit ?? { perSecond: 20, n: Math.min(200, n) };
  const mturkRateLimited = options.mturkRateLimited ?? { rates: [5, 10, 20], workers: [1, 3], n };
  const workerOptions = options.workerOptions ?? {};
  for (const c of cases) if (!CASES.includes(c)) throw new Error(`unknown case ${c}`);
  if (latenciesMs.length === 0) throw new Error('no latency to run');
  const specs = plan({
    n,
    reps,
    latenciesMs,
    cases,
    scalingN,
    extraLatencyMs,
    rateLimit,
    mturkRateLimited,
  });

  const startedAt = new Date();
  const loadAvgStart = loadAvg();
  // Now, not at the end: other work may be committed while the benchmark runs.
  const git = gitDescribe();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'temporal-mturk-bench-'));
  let server: DevServer | undefined;
  let emulator: RunningEmulator | undefined;
  let connection: Connection | undefined;
  const runs: RunRecord[] = [];
  let address: string;
  let namespace: string;
  let searchAttributes = false;
  try {
    if (options.temporalAddress) {
      address = options.temporalAddress;
      namespace = options.namespace ?? 'default';
    } else {
      server = await startDevServer({ log });
      address = server.address;
      namespace = server.namespace;
    }
    const serverPid = server?.pid ?? findDevServerPid(Number(address.split(':').pop()));
    log(
      `bench: Temporal ${address}${serverPid ? ` (pid ${serverPid})` : ' (pid unknown: no server CPU)'}`,
    );
    emulator = await startEmulator({ port: 0 });
    const bundle = await bundleWorkflowCode({
      workflowsPath: path.join(ROOT, 'src', 'workflows'),
      logger: new DefaultLogger('WARN'),
      ...(options.preloadModules && { preloadModules: options.preloadModules }),
    });
    const bundlePath = path.join(tmp, 'workflow-bundle.js');
    writeFileSync(bundlePath, bundle.code);
    connection = await Connection.connect({ address });
    const client = new Client({ connection, namespace });
    const ctx: Context = {
      client,
      address,
      namespace,
      serverPid,
      emulator,
      bundlePath,
      childPath: transpileChild(path.join(tmp, 'js')),
      workerLaunch: workerLaunchOf(options),
      batchConcurrency: options.batchConcurrency ?? DEFAULT_BATCH_CONCURRENCY,
      searchAttributes:
        (options.searchAttributes ?? true) && (await searchAttributesRegistered(client)),
      workerOptions,
      runTimeoutMs: options.runTimeoutMs ?? 30 * 60_000,
      log,
    };

    searchAttributes = ctx.searchAttributes;
    for (const [i, spec] of specs.entries()) {
      log(
        `bench: [${i + 1}/${specs.length}] ${spec.case}, ${spec.latencyMs} ms, N=${spec.n}, rep ${spec.rep} (load ${loadAvg()[0]})`,
      );
      const run =
        spec.implementation === 'sequential' || spec.implementation === 'promise-pool'
          ? await runBaseline(ctx, spec)
          : await runTemporal(ctx, spec);
      runs.push(run);
      log(
        `bench:   ${run.throughput} bonuses/s, ${(run.wallMs / 1000).toFixed(1)} s` +
          (run.completionMs
            ? `, p50 ${run.completionMs.p50} ms, p99 ${run.completionMs.p99} ms`
            : '') +
          (run.workerPeakRssMB !== null ? `, RSS ${run.workerPeakRssMB} MB` : '') +
          (run.workerMemoryMB
            ? ` (idle ${run.workerMemoryMB.idleRss}, heap ${run.workerMemoryMB.heapTotal} MB, ` +
              `${run.workerMemoryMB.peakCachedWorkflows} cached workflows)`
            : '') +
          (run.serverCpuS !== null ? `, server CPU ${run.serverCpuS} s` : '') +
          (run.workerCpuS !== null ? `, worker CPU ${run.workerCpuS} s` : '') +
          (run.activities?.limitPerSecond
            ? `, ${run.activities.avgPerSecond} activities/s (peak ${run.activities.peak1s} in 1 s)`
            : '') +
          (run.mturk
            ? `, limit ${run.mturk.limitPerSecond}/s × ${run.mturk.workers} workers: ` +
              `${run.mturk.callsPerPayment} calls/payment, ${run.mturk.fractionOfAchievable} of ` +
              `achievable ${run.mturk.achievablePerSecond}/s, ${run.mturk.throttled}/${run.mturk.requests} throttled`
            : '') +
          `; ${run.ledger.verified ? 'ledger ok' : run.ledger.note}`,
      );
    }
  } finally {
    await connection?.close();
    await emulator?.stop();
    await server?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }

  const finishedAt = new Date();
  const summary = summarize(runs);
  const cpus = os.cpus();
  const result = resultSchema.parse({
    schemaVersion: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationS: round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine: {
      cpus: cpus.length,
      cpuModel: cpus[0]?.model ?? 'unknown',
      memTotalMB: Math.round(os.totalmem() / 2 ** 20),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      loadAvgStart,
      loadAvgEnd: loadAvg(),
    },
    config: {
      n,
      reps,
      latenciesMs,
      cases,
      scalingN,
      rateLimit,
      ...(cases.includes('mturk-rate-limited') && { mturkRateLimited }),
      poolConcurrency: POOL_CONCURRENCY,
      batchConcurrency: options.batchConcurrency ?? DEFAULT_BATCH_CONCURRENCY,
      searchAttributes,
      ...(options.preloadModules && { preloadModules: options.preloadModules }),
      devServer: options.temporalAddress ? 'existing' : 'started',
      temporalAddress: address,
      git,
      workerOptions,
      workerLaunch: recordedLaunch(workerLaunchOf(options)),
    },
    runs,
    summary,
    targets: evaluateTargets(summary, runs, n, latenciesMs),
  } satisfies BenchResult);

  mkdirSync(options.outDir, { recursive: true });
  const base = path.join(options.outDir, stamp(startedAt));
  const jsonPath = `${base}.json`;
  const svgPath = `${base}.svg`;
  writeFileSync(jsonPath, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(svgPath, renderChart(result));
  return { result, jsonPath, svgPath, table: formatTable(result) };
}
