/**
 * The package as users get it: `npm run build`, `npm pack`, then a separate project
 * (test/fixtures/consumer) installs the tarball, type-checks against its declarations and runs
 * its own workflow, which composes approveAndBonus as a child, on its own worker.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { uniqueTaskQueue } from '../harness/temporal';

const execFileAsync = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const FIXTURE = path.join(ROOT, 'test', 'fixtures', 'consumer');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

let tmp: string;
let emu: RunningEmulator;

beforeAll(async () => {
  tmp = mkdtempSync(path.join(tmpdir(), 'temporal-mturk-package-'));
  emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emu?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/**
 * The environment without what `npm test` adds (npm_config_local_prefix and friends would
 * point a nested npm at this repository) and without NODE_ENV (it would skip devDependencies).
 */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'INIT_CWD' || key === 'NODE_ENV') continue;
    if (/^(TEMPORAL|MTURK)_/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

const timings: Record<string, number> = {};
async function run(step: string, cmd: string, args: string[], cwd: string, env = cleanEnv()) {
  const started = Date.now();
  try {
    return await execFileAsync(cmd, args, { cwd, env, maxBuffer: 32 * 1024 * 1024 });
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${step} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  } finally {
    timings[step] = Date.now() - started;
  }
}

it('installs from the tarball and runs a consumer workflow that composes approveAndBonus', async () => {
  await run('build', NPM, ['run', 'build'], ROOT);

  // The build just ran: skip prepack's second build.
  const packed = await run(
    'pack',
    NPM,
    ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp],
    ROOT,
  );
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  const files = info.files.map((f) => f.path);
  // Only what users need: compiled code with declarations, README, LICENSE, package.json.
  const unexpected = files.filter(
    (f) =>
      !/^dist\/.+\.(js|d\.ts|js\.map)$/.test(f) &&
      !['README.md', 'LICENSE', 'package.json'].includes(f),
  );
  expect(unexpected).toEqual([]);
  for (const entry of [
    'index',
    'common/index',
    'activities/index',
    'workflows/index',
    'emulator/index',
  ]) {
    expect(files).toContain(`dist/${entry}.js`);
    expect(files).toContain(`dist/${entry}.d.ts`);
  }
  expect(files.filter((f) => /^dist\/(demo|devserver)\/|\.test\./.test(f))).toEqual([]);
  renameSync(path.join(tmp, info.filename), path.join(tmp, 'temporal-mturk.tgz'));

  const consumer = path.join(tmp, 'consumer');
  cpSync(FIXTURE, consumer, {
    recursive: true,
    filter: (src) => !/[\\/](node_modules|lib)([\\/]|$)/.test(path.relative(FIXTURE, src)),
  });
  // Temporal and AWS packages come from npm's cache when this repository was installed.
  await run(
    'install',
    NPM,
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'],
    consumer,
  );
  // Type-checks the consumer against the tarball's declarations (exports map, types).
  await run('consumer build', NPM, ['run', 'build'], consumer);

  const { hits } = emu.seed({
    balance: '10.00',
    hits: [{ assignments: [{ workerId: 'ACONSUMER0001' }] }],
  });
  const assignmentId = hits[0]!.assignments[0]!.assignmentId;
  const { stdout } = await run(
    'consumer run',
    process.execPath,
    ['lib/main.js', assignmentId, 'ACONSUMER0001', 'four words of answer'],
    consumer,
    cleanEnv({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_CONFIG_FILE: path.join(tmp, 'no-such-temporal.toml'),
      MTURK_TARGET: 'local',
      MTURK_ENDPOINT: emu.url,
      TASK_QUEUE: uniqueTaskQueue('consumer'),
    }),
  );
  console.log(`package test steps (ms): ${JSON.stringify(timings)}`);

  const output = JSON.parse(stdout.trim().split('\n').at(-1)!) as {
    result: {
      score: number;
      payment: { workerId: string; bonus: { status: string; amount: string } };
    };
    workflowsPath: string;
    emulator: string;
  };
  expect(output.result.score).toBe(4);
  expect(output.result.payment).toMatchObject({
    workerId: 'ACONSUMER0001',
    bonus: { status: 'paid', amount: '0.20' },
  });
  expect(output.workflowsPath).toBe(
    path.join(consumer, 'node_modules', 'temporal-mturk', 'dist', 'workflows', 'index.js'),
  );
  expect(output.emulator).toBe('function');
  const ledger = emu.ledger();
  expect(ledger.approvals).toHaveLength(1);
  expect(ledger.bonuses).toHaveLength(1);
  expect(ledger.bonuses[0]).toMatchObject({ workerId: 'ACONSUMER0001', amount: '0.20' });
}, 240_000);
