/**
 * Bad input never moves money and never crashes anything: every malformed input gets a clear,
 * typed refusal, and the MTurk emulator counts ZERO requests.
 *
 * The corpus (test/fixtures/bad-input/) covers the approveAndBonus workflow input started by
 * name with a raw client (so client-side checks are bypassed), the payBonus helper, the payBatch
 * workflow input, and CSV files for `temporal-mturk pay` (amounts, encodings, IDs, control
 * characters, structure). A 50 MB file is generated here, in a temp dir. The amount parser is
 * checked property by property against an independent reference in integer cents.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMTurkActivities } from '../../src/activities';
import { createBatchActivities } from '../../src/activities/batch-activities';
import { runPay } from '../../src/cli/pay-command';
import { bonusWorkflowId, payBonus } from '../../src/client';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import {
  MAX_SAFE_CENTS,
  MoneyFormatError,
  formatCents,
  mturkFeeCents,
  tryParseDollarsToCents,
} from '../../src/common/money';
import type { ApproveAndBonusInput } from '../../src/common/types';
import { DEFAULT_MAX_BONUS_CENTS, checkBonusAmount } from '../../src/common/validation';
import { spawnTsx, childEnv } from '../../scripts/chaos/processes';
import { emulatorClient, workflowBundle } from '../harness/mturk';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'bad-input');

interface InputCase {
  name: string;
  field: string;
  patch?: Record<string, unknown>;
  remove?: string[];
  input?: unknown;
  workflowOnly?: boolean;
}

interface Corpus {
  base: Record<string, unknown>;
  cases: InputCase[];
}

interface CsvCase {
  file: string;
  line: number | number[];
  column: string | null;
  message: string;
}

let env: TestWorkflowEnvironment;
let emu: RunningEmulator;
let worker: Worker;
let running: Promise<void>;
let taskQueue: string;
let tmp: string;
/** A loopback TCP listener standing in for Temporal in the CSV tests: it must hear nothing. */
let temporalStandIn: { server: Server; address: string; connections: () => number };
let payable: { assignmentId: string; workerId: string };

function loadJson<T>(file: string): T {
  return JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8')) as T;
}

/** Placeholders → the seeded, payable assignment; {"$repeat"} / {"$rows"} → generated values. */
function expand(value: unknown): unknown {
  if (value === '$ASSIGNMENT') return payable.assignmentId;
  if (value === '$WORKER') return payable.workerId;
  if (Array.isArray(value)) return value.map(expand);
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.$repeat === 'string') return o.$repeat.repeat(o.times as number);
    if (typeof o.$rows === 'number') {
      return Array.from({ length: o.$rows }, (_, i) => [
        `3ROWS${String(i).padStart(25, '0')}`,
        `AROWS${String(i).padStart(9, '0')}`,
        '1.00',
        0,
      ]);
    }
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, expand(v)]));
  }
  return value;
}

function buildInput(corpus: Corpus, c: InputCase): unknown {
  if ('input' in c) return expand(c.input);
  const input = expand({ ...corpus.base, ...c.patch }) as Record<string, unknown>;
  for (const field of c.remove ?? []) delete input[field];
  return input;
}

/** "InvalidBonusRequest naming <field>", or what happened instead. */
function describeRefusal(err: unknown, field: string): string {
  let e: unknown = err;
  while (e instanceof Error && !(e instanceof ApplicationFailure)) {
    e = (e as Error & { cause?: unknown }).cause;
  }
  if (!(e instanceof ApplicationFailure)) {
    return `not an ApplicationFailure: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
  if (e.type !== 'InvalidBonusRequest' || !e.nonRetryable) {
    return `${e.type ?? 'untyped'} (nonRetryable ${e.nonRetryable}): ${e.message}`;
  }
  const details = e.details?.[0] as { issues?: { field: string; message: string }[] } | undefined;
  const fields = (details?.issues ?? []).map((i) => i.field);
  if (!fields.some((f) => f === field || f.startsWith(`${field}.`))) {
    return `InvalidBonusRequest without ${field}: ${fields.join(', ')}`;
  }
  if (!e.message.includes(field)) return `message does not name ${field}: ${e.message}`;
  return `InvalidBonusRequest naming ${field}`;
}

function totalRequests(): number {
  return Object.values(emu.ledger().requests).reduce((a, b) => a + b, 0);
}

beforeAll(async () => {
  env = await connectToDevServer();
  emu = await startEmulator({ port: 0 });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'bad-input-'));
  // One real, payable assignment: input that slipped through validation would really be paid.
  const { hits } = emu.seed({
    balance: '1000.00',
    hits: [{ assignments: [{ workerId: 'ABADINPUT00001' }] }],
  });
  payable = hits[0]!.assignments[0]!;
  taskQueue = uniqueTaskQueue('bad-input');
  worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      ...createMTurkActivities({ client: emulatorClient(emu.url) }),
      ...createBatchActivities({ client: env.client }),
    },
  });
  running = worker.run();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  temporalStandIn = { server, address: `127.0.0.1:${port}`, connections: () => connections };
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  temporalStandIn?.server.close();
  await emu?.stop();
  await env?.teardown();
  rmSync(tmp, { recursive: true, force: true });
});

/** Starts `workflowType` by name with each case's input; how each run ended, by case name. */
function refusalsByName(workflowType: string, corpus: Corpus): Promise<string[]> {
  return Promise.all(
    corpus.cases.map(async (c, i) => {
      const handle = await env.client.workflow.start(workflowType, {
        taskQueue,
        workflowId: `bad-${workflowType}-${taskQueue}-${i}`,
        args: [buildInput(corpus, c)],
        // A workflow task failing in a loop would hang here; fail fast instead.
        workflowExecutionTimeout: '30s',
      });
      const err = await handle.result().then(
        () => new Error(`${workflowType} completed`),
        (e: unknown) => e,
      );
      const refusal =
        err instanceof WorkflowFailedError ? describeRefusal(err, c.field) : String(err);
      return `${c.name}: ${refusal}`;
    }),
  );
}

describe('the approveAndBonus workflow, started by name with a raw client', () => {
  const corpus = loadJson<Corpus>('approve-and-bonus-inputs.json');

  it(`refuses each of ${corpus.cases.length} malformed inputs as InvalidBonusRequest, before any MTurk call`, async () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(40);
    const outcomes = await refusalsByName('approveAndBonus', corpus);
    expect(outcomes).toEqual(
      corpus.cases.map((c) => `${c.name}: InvalidBonusRequest naming ${c.field}`),
    );
    expect(totalRequests()).toBe(0);
  });
});

describe('the payBonus helper', () => {
  const corpus = loadJson<Corpus>('approve-and-bonus-inputs.json');
  const cases = corpus.cases.filter((c) => !c.workflowOnly);

  it(`refuses each of ${cases.length} malformed inputs before talking to Temporal`, async () => {
    const outcomes = await Promise.all(
      cases.map(async (c) => {
        const err = await payBonus(env.client, buildInput(corpus, c) as ApproveAndBonusInput, {
          taskQueue,
        }).then(
          () => new Error('payBonus started a payment'),
          (e: unknown) => e,
        );
        return `${c.name}: ${describeRefusal(err, c.field)}`;
      }),
    );
    expect(outcomes).toEqual(cases.map((c) => `${c.name}: InvalidBonusRequest naming ${c.field}`));
    // Nothing was started for the payable assignment the valid fields pointed at.
    const handle = env.client.workflow.getHandle(bonusWorkflowId(payable.assignmentId));
    await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(totalRequests()).toBe(0);
  });

  it('refuses a malformed cap with a typed error', async () => {
    const good = { ...payable, bonusAmount: '1.00', reason: 'Thank you' };
    for (const maxBonusAmount of ['abc', '1.234', '-1', '']) {
      await expect(payBonus(env.client, good, { taskQueue, maxBonusAmount })).rejects.toThrow(
        MoneyFormatError,
      );
    }
    expect(totalRequests()).toBe(0);
  });
});

describe('the payBatch workflow, started by name with a raw client', () => {
  const corpus = loadJson<Corpus>('pay-batch-inputs.json');

  it(`refuses each of ${corpus.cases.length} malformed batches as InvalidBonusRequest, before any payment`, async () => {
    const outcomes = await refusalsByName('payBatch', corpus);
    expect(outcomes).toEqual(
      corpus.cases.map((c) => `${c.name}: InvalidBonusRequest naming ${c.field}`),
    );
    const handle = env.client.workflow.getHandle(bonusWorkflowId(payable.assignmentId));
    await expect(handle.describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(totalRequests()).toBe(0);
  });
});

/** `temporal-mturk pay --yes <file>` in-process: the command's own code, with captured output. */
async function pay(file: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runPay(
    file,
    { yes: true },
    {
      stdout,
      stderr,
      stdin: new PassThrough(),
      env: {
        TEMPORAL_ADDRESS: temporalStandIn.address,
        MTURK_TARGET: 'local',
        MTURK_ENDPOINT: emu.url,
      },
    },
  );
  return { code, stdout: out, stderr: err };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `<file>:<line>: <column> ...<message>`, or `<file>: <message>` for the file as a whole. */
function issuePattern(file: string, c: CsvCase): RegExp {
  const lines = Array.isArray(c.line) ? c.line : [c.line];
  const where = lines.map((l) => escapeRegExp(l > 0 ? `${file}:${l}: ` : `${file}: `)).join('|');
  const column = c.column ? `${escapeRegExp(c.column)} ` : '';
  return new RegExp(`^(?:${where})${column}.*${c.message}`, 'm');
}

describe('CSV files for `temporal-mturk pay`', () => {
  const manifest = loadJson<{ cases: CsvCase[] }>('csv-cases.json');

  it(`exits 2 naming line and column for each of ${manifest.cases.length} malformed files, sending nothing`, async () => {
    expect(manifest.cases.length).toBeGreaterThanOrEqual(40);
    const outcomes: string[] = [];
    for (const c of manifest.cases) {
      const file = path.join(FIXTURES, 'csv', c.file);
      const result = await pay(file);
      const named = issuePattern(file, c).test(result.stderr);
      outcomes.push(
        `${c.file}: exit ${result.code}${named ? '' : `, stderr ${JSON.stringify(result.stderr.slice(0, 300))}`}`,
      );
    }
    expect(outcomes).toEqual(manifest.cases.map((c) => `${c.file}: exit 2`));
    expect(totalRequests()).toBe(0);
    expect(temporalStandIn.connections()).toBe(0);
  });

  it('exits 2 on a 50 MB file (a 50 MB reason cell) within seconds, sending nothing', async () => {
    const file = path.join(tmp, 'fifty-megabytes.csv');
    const reason = 'x'.repeat(50 * 1024 * 1024);
    writeFileSync(
      file,
      `assignmentId,workerId,amount,reason\n${payable.assignmentId},${payable.workerId},1.00,"${reason}"\n`,
    );
    const started = Date.now();
    const result = await pay(file);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^${escapeRegExp(file)}:2: reason must be at most 4096 characters, got 52428800`,
        'm',
      ),
    );
    // The 50 MB cell is not echoed back.
    expect(result.stderr.length).toBeLessThan(2000);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(totalRequests()).toBe(0);
    expect(temporalStandIn.connections()).toBe(0);
  });

  it('exits 2 from the real command line too (latin-1 bytes, UTF-16)', async () => {
    for (const name of ['encoding-latin1.csv', 'encoding-utf16le-bom.csv']) {
      const file = path.join(FIXTURES, 'csv', name);
      const proc = spawnTsx('cli', 'src/cli/main.ts', ['pay', '--yes', file], {
        env: childEnv({
          TEMPORAL_ADDRESS: temporalStandIn.address,
          MTURK_TARGET: 'local',
          MTURK_ENDPOINT: emu.url,
        }),
      });
      const exit = await proc.exited;
      expect(exit.code, proc.output()).toBe(2);
      expect(proc.output()).toMatch(/:\d+: is not valid UTF-8/);
    }
    expect(totalRequests()).toBe(0);
    expect(temporalStandIn.connections()).toBe(0);
  });
});

/**
 * Reference: dollars text → cents, reading one character at a time (no regular expression),
 * with BigInt so no digit count can lose precision. undefined = not an amount.
 */
function referenceCents(text: string): bigint | undefined {
  const isDigit = (ch: string | undefined) =>
    ch !== undefined && ch.length === 1 && ch.charCodeAt(0) >= 48 && ch.charCodeAt(0) <= 57;
  let i = 0;
  let whole = '';
  while (isDigit(text[i])) whole += text[i++];
  if (whole === '') return undefined;
  let fraction = '';
  if (i < text.length) {
    if (text[i] !== '.') return undefined;
    i += 1;
    while (isDigit(text[i])) fraction += text[i++];
    if (fraction.length < 1 || fraction.length > 2 || i !== text.length) return undefined;
  }
  return BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'));
}

/** Every way a person might write `cents` that we accept: leading zeros, one or two decimals. */
const writtenAmount = fc
  .record({
    cents: fc.oneof(
      fc.bigInt({ min: 0n, max: 10_000n }),
      fc.bigInt({ min: 0n, max: BigInt(MAX_SAFE_CENTS) + 1000n }),
      fc.bigInt({ min: 0n, max: 10n ** 30n }),
    ),
    zeros: fc.nat({ max: 3 }),
    style: fc.constantFrom('two', 'one-if-possible', 'none-if-possible'),
  })
  .map(({ cents, zeros, style }) => {
    const whole = '0'.repeat(zeros) + (cents / 100n).toString();
    const rest = cents % 100n;
    if (style === 'none-if-possible' && rest === 0n) return whole;
    if (style === 'one-if-possible' && rest % 10n === 0n) return `${whole}.${rest / 10n}`;
    return `${whole}.${rest.toString().padStart(2, '0')}`;
  });

/** Characters that make amounts wrong in real files. */
const NASTY = [
  ...'0123456789.,-+eE$€£ _x',
  '\u00a0',
  '\u2009',
  '\uff10',
  '\uff0e',
  '\u0665',
  '\u06f5',
  '\u0000',
  '\n',
  '\t',
  '\ufeff',
];

const mutatedAmount = fc
  .tuple(writtenAmount, fc.nat(), fc.constantFrom(...NASTY), fc.constantFrom('insert', 'replace'))
  .map(([text, at, ch, how]) => {
    const i = at % (text.length + 1);
    return how === 'insert'
      ? text.slice(0, i) + ch + text.slice(i)
      : text.slice(0, i) + ch + text.slice(i + 1);
  });

const anyText = fc.oneof(
  fc.string({ unit: fc.constantFrom(...NASTY), maxLength: 24 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
);

describe('the amount parser (src/common/money.ts) against an integer-cent reference', () => {
  const MAX = BigInt(MAX_SAFE_CENTS);

  it('parses exactly what the reference parses, to the cent, and refuses the rest', () => {
    fc.assert(
      fc.property(fc.oneof(writtenAmount, mutatedAmount, anyText), (text) => {
        const expected = referenceCents(text);
        const actual = tryParseDollarsToCents(text);
        if (expected === undefined || expected > MAX) {
          expect(actual.ok, JSON.stringify(text)).toBe(false);
        } else {
          expect(actual, JSON.stringify(text)).toEqual({ ok: true, cents: Number(expected) });
        }
      }),
      { numRuns: 4000 },
    );
  });

  it('accepts a bonus exactly when 1 cent <= amount <= the cap, and says why not', () => {
    fc.assert(
      fc.property(
        fc.oneof(writtenAmount, mutatedAmount),
        fc.integer({ min: 1, max: 1_000_000 }),
        (text, cap) => {
          const expected = referenceCents(text);
          const result = checkBonusAmount(text, { maxBonusCents: cap });
          const acceptable = expected !== undefined && expected >= 1n && expected <= BigInt(cap);
          expect(result.ok, JSON.stringify(text)).toBe(acceptable);
          if (result.ok) expect(result.cents).toBe(Number(expected));
          else expect(result.message.length).toBeGreaterThan(10);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('normalises every accepted spelling to the one MTurk receives, and charges the reference fee', () => {
    fc.assert(
      fc.property(writtenAmount, (text) => {
        const expected = referenceCents(text)!;
        fc.pre(expected >= 1n && expected <= BigInt(DEFAULT_MAX_BONUS_CENTS));
        const result = checkBonusAmount(text);
        expect(result.ok).toBe(true);
        const cents = (result as { cents: number }).cents;
        const canonical = `${expected / 100n}.${(expected % 100n).toString().padStart(2, '0')}`;
        expect(formatCents(cents)).toBe(canonical);
        // 20 % rounded half up, at least one cent, in integers.
        const fee = (expected * 2n + 5n) / 10n;
        expect(BigInt(mturkFeeCents(cents))).toBe(fee < 1n ? 1n : fee);
      }),
      { numRuns: 2000 },
    );
  });
});
