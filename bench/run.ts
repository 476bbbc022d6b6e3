/**
 * `npm run bench [-- --n 1000 --reps 3 --quick --out dir --cases a,b --latencies 0,100]`:
 * runs the benchmark (bench/harness.ts), writes `<out>/<date>.json` and `<out>/<date>.svg`,
 * prints the table. Exits 1 when a run paid wrong (void) or a case failed.
 */
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { runBench } from './harness';
import { CASES, type CaseName } from './schema';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function numberList(value: string): number[] {
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new InvalidArgumentError('must be comma-separated numbers >= 0');
  }
  return list;
}

function caseList(value: string): CaseName[] {
  const list = value.split(',').map((v) => v.trim());
  const unknown = list.filter((c) => !(CASES as readonly string[]).includes(c));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown case ${unknown.join(', ')} (cases: ${CASES.join(', ')})`,
    );
  }
  return list as CaseName[];
}

function workerOptionList(value: string): Record<string, number> {
  const entries = value.split(',').map((pair) => {
    const [key, v] = pair.split('=');
    const n = Number(v);
    if (!key || !Number.isFinite(n)) throw new InvalidArgumentError('must be name=number,...');
    return [key.trim(), n] as const;
  });
  return Object.fromEntries(entries);
}

async function main(): Promise<void> {
  const program = new Command('bench')
    .description(
      'Throughput and overhead of temporal-mturk against a sequential script and the Temporal floor',
    )
    .option('--n <count>', 'bonuses per run', positiveInt, 1000)
    .option('--reps <count>', 'repetitions per case and latency', positiveInt, 3)
    .option('--quick', 'smoke run: N=50, 1 repetition', false)
    .option('--out <dir>', 'output directory', path.join(__dirname, 'results'))
    .option('--cases <list>', `comma-separated, of: ${CASES.join(', ')}`, caseList)
    .option('--latencies <ms>', 'injected MTurk latencies, ms', numberList, [0, 100])
    .option('--scaling-n <count>', 'bonuses of the scaling run (default 10 x N)', positiveInt)
    .option(
      '--rate-limit <perSecond>',
      'maxTaskQueueActivitiesPerSecond of the rate-limited run',
      positiveInt,
      20,
    )
    .option(
      '--rate-limit-n <count>',
      'bonuses of the rate-limited run (default min(200, N))',
      positiveInt,
    )
    .option(
      '--mturk-rates <list>',
      'mturk-rate-limited: emulator account limits, req/s (burst 2x)',
      numberList,
      [5, 10, 20],
    )
    .option(
      '--mturk-workers <list>',
      'mturk-rate-limited: worker processes sharing the account',
      numberList,
      [1, 3],
    )
    .option('--mturk-n <count>', 'bonuses of each mturk-rate-limited run (default N)', positiveInt)
    .option('--temporal-address <host:port>', 'use this Temporal server instead of starting one')
    .option(
      '--worker-options <list>',
      'extra Worker options for experiments, name=number,...',
      workerOptionList,
    )
    .option(
      '--worker-node-args <args>',
      'node flags of worker processes (experiments), space-separated',
    )
    .option('--worker-env <list>', 'environment of worker processes (experiments), NAME=value,...')
    .option(
      '--no-worker-memory',
      "experiment: workers on Node's own memory settings, not temporal-mturk worker's",
    )
    .option('--concurrency <count>', 'batch window (default: the product default)', positiveInt)
    .option('--no-search-attributes', 'experiment: batches without search attributes')
    .option('--preload-modules <list>', 'experiment: bundler preloadModules, comma-separated')
    .parse();
  const opts = program.opts<{
    n: number;
    reps: number;
    quick: boolean;
    out: string;
    cases?: CaseName[];
    latencies: number[];
    scalingN?: number;
    rateLimit: number;
    rateLimitN?: number;
    mturkRates: number[];
    mturkWorkers: number[];
    mturkN?: number;
    temporalAddress?: string;
    workerOptions?: Record<string, number>;
    workerNodeArgs?: string;
    workerEnv?: string;
    preloadModules?: string;
    concurrency?: number;
    searchAttributes: boolean;
    workerMemory: boolean;
  }>();
  const n = opts.quick ? 50 : opts.n;
  const reps = opts.quick ? 1 : opts.reps;
  const output = await runBench({
    n,
    reps,
    latenciesMs: opts.latencies,
    cases: opts.cases,
    outDir: path.resolve(opts.out),
    scalingN: opts.scalingN,
    rateLimit: { perSecond: opts.rateLimit, n: opts.rateLimitN ?? Math.min(200, n) },
    mturkRateLimited: {
      rates: opts.mturkRates,
      workers: opts.mturkWorkers.map((w) => Math.max(1, Math.round(w))),
      n: opts.mturkN ?? n,
    },
    temporalAddress: opts.temporalAddress,
    workerOptions: opts.workerOptions,
    batchConcurrency: opts.concurrency,
    searchAttributes: opts.searchAttributes,
    ...(opts.preloadModules && { preloadModules: opts.preloadModules.split(',') }),
    workerLaunch: {
      ...(!opts.workerMemory && { nodeArgs: [], env: { MALLOC_ARENA_MAX: undefined } }),
      ...(opts.workerNodeArgs && { nodeArgs: opts.workerNodeArgs.split(/\s+/).filter(Boolean) }),
      ...(opts.workerEnv && {
        env: Object.fromEntries(
          opts.workerEnv.split(',').map((kv) => {
            const at = kv.indexOf('=');
            return [kv.slice(0, at), kv.slice(at + 1)] as [string, string];
          }),
        ),
      }),
    },
  });
  console.log('');
  console.log(output.table);
  console.log('');
  console.log(`results: ${output.jsonPath}`);
  console.log(`chart:   ${output.svgPath}`);
  if (output.result.runs.some((r) => !r.ledger.verified)) {
    console.error('bench: some runs paid wrong (see VOID above): their numbers are void');
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
