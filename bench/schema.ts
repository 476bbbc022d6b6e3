/** The result file `bench/results/<date>.json`: its schema, checked before it is written. */
import { z } from 'zod';

export const CASES = [
  'sequential',
  'promise-pool',
  'temporal-mturk',
  'floor',
  'scaling',
  'rate-limited',
  'mturk-rate-limited',
] as const;
export type CaseName = (typeof CASES)[number];

const num = z.number().finite();
const spreadSchema = z.object({ median: num, min: num, max: num });
const percentilesSchema = z.object({ p50: num, p99: num, max: num });

export const runSchema = z.object({
  case: z.enum(CASES),
  /** What ran: scaling and rate-limited are temporal-mturk runs. */
  implementation: z.enum(['sequential', 'promise-pool', 'temporal-mturk', 'floor']),
  latencyMs: num,
  n: z.number().int().positive(),
  rep: z.number().int().positive(),
  taskQueue: z.string().nullable(),
  wallMs: num,
  /** Bonuses (approve + bonus) per second of wall time. */
  throughput: num,
  /** From the start of the batch to each bonus's completion. */
  completionMs: percentilesSchema.nullable(),
  /** Each payment workflow's own start-to-close (Temporal cases). */
  paymentMs: percentilesSchema.nullable(),
  workerPeakRssMB: num.nullable(),
  /** The worker's process.memoryUsage() (MB) at its highest sampled RSS: main-thread V8 heap vs the rest. */
  workerMemoryMB: z.record(z.string(), num).nullable(),
  workerCpuS: num.nullable(),
  /** CPU of the temporal dev server process during the case. */
  serverCpuS: num.nullable(),
  /** CPU of the harness process (the in-process emulator and the Temporal client). */
  harnessCpuS: num,
  /** Continue-as-new runs of the batch workflow. */
  batchRuns: z.number().int().nullable(),
  /** Events in the batch's run histories (all runs together). */
  batchHistoryEvents: z.number().int().nullable(),
  activities: z
    .object({
      count: z.number().int(),
      /** Activity starts per second over the case (first start to last start). */
      avgPerSecond: num,
      /** Most activity starts in any 1-second window. */
      peak1s: z.number().int(),
      limitPerSecond: num.nullable(),
    })
    .nullable(),
  ledger: z.object({
    bonuses: z.number().int(),
    approvals: z.number().int(),
    /** MTurk API requests the emulator received. */
    requests: z.number().int(),
    /** Paid rows according to the client side (the batch result, or the script's count). */
    paidRows: z.number().int(),
    verified: z.boolean(),
    note: z.string(),
  }),
  /** mturk-rate-limited runs: the emulator's account limit and what the run made of it. */
  mturk: z
    .object({
      limitPerSecond: num,
      workers: z.number().int().positive(),
      /** API requests the emulator received, and of these refused by its rate limit. */
      requests: z.number().int(),
      throttled: z.number().int(),
      /** Accepted MTurk calls per payment, from the emulator's counters. */
      callsPerPayment: num,
      /** limitPerSecond / callsPerPayment: payments/s the limit allows. */
      achievablePerSecond: num,
      fractionOfAchievable: num,
      throttledShare: num,
    })
    .optional(),
  loadAvg: z.array(num).length(3),
  /** Load average when the run ended (absent in files from before it was recorded). */
  loadAvgEnd: z.array(num).length(3).optional(),
});
export type RunRecord = z.infer<typeof runSchema>;

export const summarySchema = z.object({
  case: z.enum(CASES),
  latencyMs: num,
  n: z.number().int(),
  reps: z.number().int(),
  throughput: spreadSchema,
  wallMs: spreadSchema,
  completionP50Ms: spreadSchema.nullable(),
  completionP99Ms: spreadSchema.nullable(),
  workerPeakRssMB: spreadSchema.nullable(),
  serverCpuS: spreadSchema.nullable(),
  workerCpuS: spreadSchema.nullable(),
});
export type CaseSummary = z.infer<typeof summarySchema>;

export const targetSchema = z.object({
  name: z.string(),
  description: z.string(),
  measured: num.nullable(),
  comparator: z.enum(['>=', '<=']),
  threshold: num,
  /** null when the cases it needs did not run. */
  met: z.boolean().nullable(),
  /** More views of the same comparison. */
  detail: z.string().optional(),
});
export type Target = z.infer<typeof targetSchema>;

export const resultSchema = z.object({
  schemaVersion: z.literal(1),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationS: num,
  machine: z.object({
    cpus: z.number().int(),
    cpuModel: z.string(),
    memTotalMB: num,
    node: z.string(),
    platform: z.string(),
    loadAvgStart: z.array(num).length(3),
    loadAvgEnd: z.array(num).length(3),
  }),
  config: z.object({
    n: z.number().int().positive(),
    reps: z.number().int().positive(),
    latenciesMs: z.array(num),
    cases: z.array(z.enum(CASES)),
    scalingN: z.number().int().positive(),
    rateLimit: z.object({ perSecond: num, n: z.number().int().positive() }),
    mturkRateLimited: z
      .object({
        rates: z.array(num),
        workers: z.array(z.number().int().positive()),
        n: z.number().int().positive(),
      })
      .optional(),
    poolConcurrency: z.number().int().positive(),
    batchConcurrency: z.number().int().positive(),
    /** Whether batches gave payments the MTurk* search attributes (as the CLI does when registered). */
    searchAttributes: z.boolean(),
    preloadModules: z.array(z.string()).optional(),
    devServer: z.enum(['started', 'existing']),
    temporalAddress: z.string(),
    git: z.string().nullable(),
    workerOptions: z.record(z.string(), num),
    workerLaunch: z.object({
      nodeArgs: z.array(z.string()).optional(),
      env: z.record(z.string(), z.string()).optional(),
    }),
  }),
  runs: z.array(runSchema),
  summary: z.array(summarySchema),
  targets: z.array(targetSchema),
});
export type BenchResult = z.infer<typeof resultSchema>;
