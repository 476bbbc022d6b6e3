/**
 * Safety checks: what listens where, what can never be reached by accident, what is never said.
 *
 * - The emulator and the Temporal dev server bind loopback only (read from /proc, not from
 *   what they print).
 * - MTurk production is refused without MTURK_TARGET=production AND MTURK_CONFIRM_PRODUCTION=yes,
 *   before any connection: child processes run with a preload (support/net-guard.cjs) that
 *   refuses and records every non-loopback connection before DNS or SYN, and a stand-in for
 *   production listens on 127.0.0.2 and counts connections. No traffic ever leaves loopback.
 * - A recognisable fake AWS secret given to the worker never appears in anything it prints.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { payBonus } from '../../src/client';
import { startDevServer } from '../../tools/devserver/dev-server';
import { startEmulator } from '../../src/emulator';
import { mturkConfigFromEnv, PRODUCTION_ENDPOINT } from '../../src/mturk/client';
import {
  childEnv,
  sleep,
  spawnManaged,
  spawnTsx,
  startEmulatorChild,
  type EmulatorChild,
  type ManagedProcess,
} from '../../scripts/chaos/processes';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';
import { isLoopbackAddress, listeningSockets } from './support/sockets';

const GUARD = path.join(__dirname, 'support', 'net-guard.cjs');
const FAKE_SECRET = 'FAKESECRETdoNotLog1234567890abcdefghijkl';
const FAKE_SESSION_TOKEN = 'FAKESESSIONdoNotLogIQoJb3JpZ2luX2VjEJr0123456789';
const FAKE_KEY_ID = 'AKIAFAKEDONOTLOG0001';

let env: TestWorkflowEnvironment;
let tmp: string;

beforeAll(async () => {
  env = await connectToDevServer();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'safety-'));
});
afterAll(async () => {
  await env?.teardown();
  rmSync(tmp, { recursive: true, force: true });
});

/** Non-loopback connections the guard refused in a child, one record per attempt. */
function guardRecords(file: string): { host: string; port: number }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { host: string; port: number });
}

let guardFiles = 0;
function guardFile(): string {
  return path.join(tmp, `net-guard-${++guardFiles}.jsonl`);
}

/** `npm run worker` as a child, behind the network guard. */
function workerProcess(taskQueue: string, extra: Record<string, string>, guard: string) {
  return spawnTsx('worker', 'src/worker-main.ts', [], {
    nodeArgs: ['--require', GUARD],
    env: childEnv({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      NET_GUARD_FILE: guard,
      ...extra,
    }),
  });
}

async function exitWithin(proc: ManagedProcess, ms: number) {
  const exit = await Promise.race([proc.exited, sleep(ms).then(() => undefined)]);
  if (!exit) await proc.stop('SIGKILL');
  return exit;
}

/** A stand-in for MTurk production on 127.0.0.2 that counts every connection it gets. */
async function standIn(): Promise<{ server: Server; url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: 'ServiceFault', Message: 'stand-in' }));
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.2', () => resolve());
  });
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.2:${port}`, connections: () => connections };
}

/** A payment waiting on `taskQueue`: a worker that accepted its MTurk config would call MTurk. */
async function pendingPayment(taskQueue: string, suffix: string) {
  return payBonus(
    env.client,
    {
      assignmentId: `3SAFETY${suffix}`,
      workerId: 'ASAFETYWORKER01',
      bonusAmount: '1.00',
      reason: 'safety check',
      skipApproval: true,
    },
    {
      taskQueue,
      workflowOptions: { retryInitialInterval: '100ms', retryMaximumInterval: '200ms' },
    },
  );
}

describe('loopback only', () => {
  it('the emulator binds loopback only, and refuses another host unless explicitly allowed', async () => {
    const emu: EmulatorChild = await startEmulatorChild();
    try {
      const sockets = listeningSockets(emu.proc.pid);
      expect(sockets.length).toBeGreaterThan(0);
      for (const s of sockets) expect(isLoopbackAddress(s.address), JSON.stringify(s)).toBe(true);
      expect(new URL(emu.url).hostname).toBe('127.0.0.1');
    } finally {
      await emu.proc.stop('SIGTERM');
    }

    await expect(startEmulator({ host: '0.0.0.0', port: 0 })).rejects.toThrow(/non-loopback/);
    await expect(startEmulator({ host: '::', port: 0 })).rejects.toThrow(/non-loopback/);
    const refused = spawnTsx(
      'emulator',
      'src/emulator/main.ts',
      ['--port', '0', '--host', '0.0.0.0'],
      {
        env: childEnv({}),
      },
    );
    const exit = await exitWithin(refused, 30_000);
    expect(exit?.code).toBe(1);
    expect(refused.output()).toMatch(/refuses to listen on non-loopback host "0\.0\.0\.0"/);
  });

  it('the Temporal dev server binds loopback only (every listening socket)', async () => {
    const server = await startDevServer({ log: () => undefined });
    try {
      expect(server.address).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(server.pid).toBeDefined();
      const sockets = listeningSockets(server.pid!);
      // gRPC frontend and the server's internal services: all of them.
      expect(sockets.length).toBeGreaterThan(0);
      expect(sockets.map((s) => s.port)).toContain(Number(server.address.split(':')[1]));
      for (const s of sockets) expect(isLoopbackAddress(s.address), JSON.stringify(s)).toBe(true);
    } finally {
      await server.stop();
    }
  });
});

describe('MTurk production is never reached by accident', () => {
  it('the network guard refuses and records a non-loopback connection before it leaves', async () => {
    const guard = guardFile();
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never routed, and the guard stops it before a SYN.
    const probe = spawnManaged(
      'probe',
      process.execPath,
      [
        '--require',
        GUARD,
        '-e',
        `const s = require('node:net').connect(443, '192.0.2.1');
         s.on('connect', () => { console.log('CONNECTED'); process.exit(3); });
         s.on('error', (e) => { console.log('refused', e.code); process.exit(0); });`,
      ],
      { env: childEnv({ NET_GUARD_FILE: guard }) },
    );
    const exit = await exitWithin(probe, 20_000);
    expect(exit?.code).toBe(0);
    expect(probe.output()).toContain('refused ECONNREFUSED');
    expect(guardRecords(guard)).toEqual([
      expect.objectContaining({ host: '192.0.2.1', port: 443 }),
    ]);
  });

  it('refuses MTURK_TARGET=production without MTURK_CONFIRM_PRODUCTION, and unless it is exactly "yes"', () => {
    for (const confirm of [undefined, '', 'no', 'YES', 'yes ', 'true', '1']) {
      const e = { MTURK_TARGET: 'production', MTURK_CONFIRM_PRODUCTION: confirm };
      expect(() => mturkConfigFromEnv(e), String(confirm)).toThrow(
        expect.objectContaining({ type: 'ProductionNotConfirmed', nonRetryable: true }),
      );
    }
    expect(() =>
      mturkConfigFromEnv({ MTURK_TARGET: ' production ', MTURK_CONFIRM_PRODUCTION: undefined }),
    ).toThrow(ApplicationFailure);
    // The spelling of the target is not a way around it either.
    expect(() => mturkConfigFromEnv({ MTURK_TARGET: 'Production' })).toThrow(
      expect.objectContaining({ type: 'InvalidMTurkConfig' }),
    );
    expect(
      mturkConfigFromEnv({ MTURK_TARGET: 'production', MTURK_CONFIRM_PRODUCTION: 'yes' }).endpoint,
    ).toBe(PRODUCTION_ENDPOINT);
  });

  it('refuses the production endpoint under another target, however it is spelled', () => {
    const spellings = [
      PRODUCTION_ENDPOINT,
      `${PRODUCTION_ENDPOINT}/`,
      'https://MTURK-REQUESTER.US-EAST-1.AMAZONAWS.COM',
      'https://mturk-requester.us-east-1.amazonaws.com:443',
      'http://mturk-requester.us-east-1.amazonaws.com',
      'https://mturk-requester.us-east-1.amazonaws.com/some/path',
      // A fully qualified name with its trailing root dot resolves to the same servers.
      'https://mturk-requester.us-east-1.amazonaws.com.',
      'https://mturk-requester.us-east-1.amazonaws.com..',
      'https://mturk%2Drequester.us-east-1.amazonaws.com',
    ];
    for (const target of ['local', 'sandbox', undefined]) {
      for (const endpoint of spellings) {
        expect(
          () => mturkConfigFromEnv({ MTURK_TARGET: target, MTURK_ENDPOINT: endpoint }),
          `${String(target)} ${endpoint}`,
        ).toThrow(expect.objectContaining({ type: 'ProductionNotConfirmed' }));
      }
    }
  });

  it('the worker process refuses production without confirmation before any connection', async () => {
    const production = await standIn();
    try {
      const cases: Record<string, string>[] = [
        // The real production endpoint: the guard would catch any attempt before DNS.
        { MTURK_TARGET: 'production' },
        { MTURK_TARGET: 'production', MTURK_CONFIRM_PRODUCTION: 'YES' },
        // The production target pointed at the stand-in: it must see no connection.
        { MTURK_TARGET: 'production', MTURK_ENDPOINT: production.url },
        // The production host under the local target.
        { MTURK_TARGET: 'local', MTURK_ENDPOINT: PRODUCTION_ENDPOINT },
        {
          MTURK_TARGET: 'local',
          MTURK_ENDPOINT: 'https://mturk-requester.us-east-1.amazonaws.com.',
        },
      ];
      for (const [i, extra] of cases.entries()) {
        const taskQueue = uniqueTaskQueue('prod-refused');
        const payment = await pendingPayment(taskQueue, `REFUSED${i}`);
        const guard = guardFile();
        const worker = workerProcess(
          taskQueue,
          { AWS_ACCESS_KEY_ID: FAKE_KEY_ID, AWS_SECRET_ACCESS_KEY: FAKE_SECRET, ...extra },
          guard,
        );
        const exit = await exitWithin(worker, 30_000);
        const label = JSON.stringify(extra);
        expect(exit?.code, `${label}\n${worker.output()}`).toBe(1);
        expect(worker.output(), label).toMatch(/MTURK_CONFIRM_PRODUCTION=yes/);
        expect(worker.output(), label).not.toContain(FAKE_SECRET);
        expect(guardRecords(guard), label).toEqual([]);
        await payment.terminate('safety test done');
      }
      expect(production.connections()).toBe(0);
    } finally {
      production.server.close();
    }
  });

  it('the temporal-mturk command refuses production without confirmation, before Temporal or MTurk', async () => {
    const production = await standIn();
    const temporal = await standIn();
    const csv = path.join(tmp, 'production.csv');
    writeFileSync(
      csv,
      'assignmentId,workerId,amount,reason\n3PRODUCTIONCHECK0001,APRODUCTION0001,1.00,Thanks\n',
    );
    const address = new URL(temporal.url).host;
    try {
      const cases: { args: string[]; env: Record<string, string> }[] = [
        { args: ['pay', '--yes', '--target', 'production', csv], env: {} },
        { args: ['pay', '--yes', csv], env: { MTURK_TARGET: 'production' } },
        {
          args: ['pay', '--yes', '--target', 'production', '--endpoint', production.url, csv],
          env: { MTURK_CONFIRM_PRODUCTION: 'y' },
        },
        {
          args: [
            'pay',
            '--yes',
            '--endpoint',
            'https://mturk-requester.us-east-1.amazonaws.com.',
            csv,
          ],
          env: {},
        },
        { args: ['status', csv], env: { MTURK_TARGET: 'production' } },
        { args: ['worker', '--target', 'production'], env: {} },
      ];
      for (const c of cases) {
        const guard = guardFile();
        const run = spawnTsx('cli', 'src/cli/main.ts', c.args, {
          nodeArgs: ['--require', GUARD],
          env: childEnv({
            TEMPORAL_ADDRESS: address,
            NET_GUARD_FILE: guard,
            AWS_ACCESS_KEY_ID: FAKE_KEY_ID,
            AWS_SECRET_ACCESS_KEY: FAKE_SECRET,
            ...c.env,
          }),
        });
        const exit = await exitWithin(run, 30_000);
        const label = `${c.args.join(' ')} ${JSON.stringify(c.env)}`;
        // 4: not confirmed.
        expect(exit?.code, `${label}\n${run.output()}`).toBe(4);
        expect(run.output(), label).toMatch(/MTURK_CONFIRM_PRODUCTION=yes/);
        expect(run.output(), label).not.toContain(FAKE_SECRET);
        expect(guardRecords(guard), label).toEqual([]);
      }
      expect(production.connections()).toBe(0);
      expect(temporal.connections()).toBe(0);
    } finally {
      production.server.close();
      temporal.server.close();
    }
  });

  it('with MTURK_CONFIRM_PRODUCTION=yes the same worker does reach production (the stand-in)', async () => {
    // The control for the test above: the refusal is what kept the stand-in silent.
    const production = await standIn();
    const taskQueue = uniqueTaskQueue('prod-confirmed');
    const payment = await pendingPayment(taskQueue, 'CONFIRMED');
    const guard = guardFile();
    const worker = workerProcess(
      taskQueue,
      {
        MTURK_TARGET: 'production',
        MTURK_CONFIRM_PRODUCTION: 'yes',
        MTURK_ENDPOINT: production.url,
        AWS_ACCESS_KEY_ID: FAKE_KEY_ID,
        AWS_SECRET_ACCESS_KEY: FAKE_SECRET,
      },
      guard,
    );
    try {
      const deadline = Date.now() + 45_000;
      while (production.connections() === 0 && Date.now() < deadline && !worker.done) {
        await sleep(100);
      }
      expect(production.connections(), worker.output()).toBeGreaterThan(0);
      expect(worker.output()).toContain('production (real money) at http://127.0.0.2:');
      expect(guardRecords(guard)).toEqual([]);
    } finally {
      await payment.terminate('safety test done');
      await worker.stop('SIGTERM');
      production.server.close();
    }
    expect(worker.output()).not.toContain(FAKE_SECRET);
  });
});

describe('secrets', () => {
  it('a fake AWS secret given to the worker appears in none of its output, through faults and failures', async () => {
    const emu = await startEmulatorChild();
    const taskQueue = uniqueTaskQueue('secret');
    const guard = guardFile();
    const worker = workerProcess(
      taskQueue,
      {
        MTURK_TARGET: 'local',
        MTURK_ENDPOINT: emu.url,
        AWS_ACCESS_KEY_ID: FAKE_KEY_ID,
        AWS_SECRET_ACCESS_KEY: FAKE_SECRET,
        AWS_SESSION_TOKEN: FAKE_SESSION_TOKEN,
      },
      guard,
    );
    try {
      const seeded = await emu.admin.seed({
        balance: '1.50',
        hits: [
          {
            assignments: [
              { workerId: 'ASECRET000001' },
              { workerId: 'ASECRET000002' },
              { workerId: 'ASECRET000003', status: 'Rejected' },
            ],
          },
        ],
      });
      const [paid, poor, rejected] = seeded.hits[0]!.assignments.map((a) => ({
        assignmentId: a.assignmentId,
        workerId: a.workerId,
      }));
      // Every kind of trouble the worker logs: faults, a lost response, refusals, no funds.
      await emu.admin.setFaults({
        seed: 3,
        operations: {
          SendBonus: { serviceFaultRate: 0.3, throttleRate: 0.3, dropAfterCommitRate: 0.3 },
          ApproveAssignment: { serviceFaultRate: 0.5 },
        },
      });
      const fast = {
        taskQueue,
        workflowOptions: {
          retryInitialInterval: '50ms',
          retryMaximumInterval: '200ms',
          fundsRecheckInterval: '1s',
        },
      };
      const ok = await payBonus(
        env.client,
        { ...paid!, bonusAmount: '1.00', reason: 'secret test' },
        fast,
      );
      const noFunds = await payBonus(
        env.client,
        { ...poor!, bonusAmount: '5.00', reason: 'secret test' },
        fast,
      );
      const refused = await payBonus(
        env.client,
        { ...rejected!, bonusAmount: '1.00', reason: 'secret test' },
        fast,
      );
      const missing = await payBonus(
        env.client,
        {
          assignmentId: '3DOESNOTEXIST',
          workerId: 'ANOBODY00001',
          bonusAmount: '1.00',
          reason: 'x',
        },
        fast,
      );
      expect((await ok.result()).bonus.status).toMatch(/paid/);
      await expect(refused.result()).rejects.toThrow();
      await expect(missing.result()).rejects.toThrow();
      await sleep(1500); // the no-funds payment re-checks and logs while it waits
      await noFunds.terminate('secret test done');
    } finally {
      await worker.stop('SIGTERM');
      await emu.proc.stop('SIGTERM');
    }
    const output = worker.output() + emu.proc.output();
    // The worker did log, and with details: otherwise this test would prove nothing.
    expect(output).toContain('MTurk bonus paid');
    expect(output).toMatch(/ServiceFault|Rate exceeded|AssignmentNotApprovable/);
    for (const secret of [FAKE_SECRET, FAKE_SESSION_TOKEN, FAKE_SECRET.slice(10, 30)]) {
      expect(output).not.toContain(secret);
    }
    expect(guardRecords(guard)).toEqual([]);
  });

  it('nor in anything `temporal-mturk worker`, `pay` and `status` print or write (reports included)', async () => {
    const emu = await startEmulatorChild();
    const taskQueue = uniqueTaskQueue('secret-cli');
    const secrets = {
      AWS_ACCESS_KEY_ID: FAKE_KEY_ID,
      AWS_SECRET_ACCESS_KEY: FAKE_SECRET,
      AWS_SESSION_TOKEN: FAKE_SESSION_TOKEN,
    };
    const cliEnv = (guard: string) =>
      childEnv({
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        TEMPORAL_NAMESPACE: inject('temporalNamespace'),
        TEMPORAL_TASK_QUEUE: taskQueue,
        MTURK_TARGET: 'local',
        MTURK_ENDPOINT: emu.url,
        NET_GUARD_FILE: guard,
        ...secrets,
      });
    const guard = guardFile();
    const cli = (args: string[]) =>
      spawnTsx('cli', 'src/cli/main.ts', args, {
        nodeArgs: ['--require', GUARD],
        env: cliEnv(guard),
      });
    const worker = cli(['worker']);
    const outputs: string[] = [];
    const csv = path.join(tmp, 'secret-bonuses.csv');
    const jsonReport = path.join(tmp, 'secret-report.json');
    try {
      const seeded = await emu.admin.seed({
        balance: '100.00',
        hits: [
          {
            assignments: [
              { workerId: 'ASECRETCLI0001' },
              { workerId: 'ASECRETCLI0002', status: 'Rejected' },
            ],
          },
        ],
      });
      const [good, rejected] = seeded.hits[0]!.assignments;
      await emu.admin.setFaults({
        seed: 5,
        operations: { SendBonus: { serviceFaultRate: 0.4, dropAfterCommitRate: 0.4 } },
      });
      writeFileSync(
        csv,
        'assignmentId,workerId,amount,reason\n' +
          `${good!.assignmentId},${good!.workerId},2.50,Thanks\n` +
          `${rejected!.assignmentId},${rejected!.workerId},1.00,Thanks\n` +
          '3NOTANAMOUNT,ASECRETCLI0003,$5,Thanks\n',
      );
      for (const args of [
        ['pay', '--yes', '--skip-invalid', '--report', jsonReport, csv],
        ['pay', '--yes', '--skip-invalid', csv], // the finished batch, reported again (CSV report)
        ['status', csv],
      ]) {
        const run = cli(args);
        const exit = await exitWithin(run, 90_000);
        outputs.push(run.output());
        // 1: a row is not paid (the rejected assignment; the invalid line).
        expect(exit?.code, run.output()).toBe(1);
      }
    } finally {
      await worker.stop('SIGTERM');
      await emu.proc.stop('SIGTERM');
    }
    outputs.push(worker.output(), emu.proc.output());
    outputs.push(readFileSync(jsonReport, 'utf8'), readFileSync(`${csv}.report.csv`, 'utf8'));
    const everything = outputs.join('\n');
    // The good row is paid (reported "already-paid" when a dropped answer made a retry find it).
    expect(everything).toMatch(/"status": "(already-)?paid"/);
    expect(everything).toMatch(/AssignmentNotApprovable/);
    for (const secret of [FAKE_SECRET, FAKE_SESSION_TOKEN, FAKE_SECRET.slice(10, 30)]) {
      expect(everything).not.toContain(secret);
    }
    expect(guardRecords(guard)).toEqual([]);
  });
});
