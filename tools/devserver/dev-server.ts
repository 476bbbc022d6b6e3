import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Connection } from '@temporalio/client';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/common/search-attributes';
import { resolveTemporalCli, type ResolvedCli } from './temporal-cli';
import { killOnExit } from '../kill-on-exit';

export interface DevServerOptions {
  /** gRPC port; 0 or absent picks a free loopback port. */
  port?: number;
  /** Web UI port; absent means headless. */
  uiPort?: number;
  /** SQLite file so the server's state survives a restart; absent means in memory. */
  dbFilename?: string;
  namespace?: string;
  log?: (line: string) => void;
  /** Reuse an already resolved CLI (e.g. to restart a server quickly). */
  cli?: ResolvedCli;
}

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl?: string;
  cli: ResolvedCli;
  pid?: number;
  /** Stop the server and wait until it has exited. */
  stop(): Promise<void>;
  /** Kill it hard (SIGKILL), as a crash would. */
  kill(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(
  address: string,
  child: ChildProcess,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `temporal server exited early (code ${child.exitCode}, signal ${child.signalCode})`,
      );
    }
    try {
      const conn = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await conn.workflowService.getSystemInfo({});
        return;
      } finally {
        await conn.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error(
    `temporal server at ${address} did not answer within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

function waitForExit(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Dynamic configuration of the local dev server (`npm start`, tests, benchmarks, chaos runs).
 * Eager activity dispatch, off in the server by default: the activity a workflow task schedules
 * goes back to the worker with the task's answer instead of through matching. Measured with
 * `npm run bench` (1,000 bonuses, 2 cores): about 35 → 40 bonuses/s and 13 % less server CPU per
 * payment. Workers with a task-queue rate limit (maxTaskQueueActivitiesPerSecond) do not take
 * eager activities, so the limit still holds.
 *
 * Tried and left out: one task-queue partition instead of four (another ~10 % faster, but the
 * rate-limited run then averaged 21 activity starts/s under a 20/s limit). Production servers
 * are configured by their operators (docs/production.md).
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, boolean | number>> = {
  'system.enableActivityEagerExecution': true,
};

function dynamicConfigArgs(): string[] {
  return Object.entries(DEV_SERVER_DYNAMIC_CONFIG).flatMap(([key, value]) => [
    '--dynamic-config-value',
    `${key}=${JSON.stringify(value)}`,
  ]);
}

/** The `temporal` command line of a dev server: loopback only, our search attributes. */
function devServerArgs(opts: {
  port: number;
  namespace: string;
  metricsPort: number;
  uiPort?: number;
  dbFilename?: string;
}): string[] {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace,
  ];
  args.push('--log-level', 'error');
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1');
  else args.push('--headless');
  if (opts.dbFilename) args.push('--db-filename', opts.dbFilename);
  for (const key of ALL_SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  args.push('--metrics-port', String(opts.metricsPort));
  args.push(...dynamicConfigArgs());
  return args;
}

/**
 * Starts `temporal server start-dev` on loopback with the project's search attributes
 * registered, and waits until it answers.
 */
export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const log = opts.log ?? ((l: string) => console.error(l));
  const namespace = opts.namespace ?? 'default';
  const cli = opts.cli ?? (await resolveTemporalCli({ log }));
  const port = opts.port || (await freePort());
  const where: ServerPlace = {
    port,
    address: `127.0.0.1:${port}`,
    namespace,
    uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : undefined,
  };
  if (cli.source === 'sdk-download') return await startDownloadedServer(cli, opts, where);
  return await startLocalCliServer(cli, opts, where, log);
}

/** Where a server being started listens, and its namespace. */
interface ServerPlace {
  port: number;
  address: string;
  namespace: string;
  uiUrl: string | undefined;
}

/** The dev server the Temporal SDK downloads and runs, when no local CLI was found. */
async function startDownloadedServer(
  cli: Extract<ResolvedCli, { source: 'sdk-download' }>,
  opts: DevServerOptions,
  { port, address, namespace, uiUrl }: ServerPlace,
): Promise<DevServer> {
  // Loaded only here: users with a local CLI never need the SDK's downloader.
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download', downloadDir: cli.downloadDir },
      ip: '127.0.0.1',
      port,
      namespace,
      ui: opts.uiPort !== undefined,
      uiPort: opts.uiPort,
      dbFilename: opts.dbFilename,
      searchAttributes: ALL_SEARCH_ATTRIBUTES,
      extraArgs: dynamicConfigArgs(),
    },
  });
  const stop = () => env.teardown();
  return { address, namespace, uiUrl, cli, stop, kill: stop };
}

/** `temporal server start-dev` run by the local CLI, as our child process. */
async function startLocalCliServer(
  cli: Exclude<ResolvedCli, { source: 'sdk-download' }>,
  opts: DevServerOptions,
  { port, address, namespace, uiUrl }: ServerPlace,
  log: (line: string) => void,
): Promise<DevServer> {
  // Metrics are off by default in our harness: a fixed metrics port would collide between servers.
  const args = devServerArgs({ ...opts, port, namespace, metricsPort: await freePort() });

  const child = spawn(cli.path, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  killOnExit(child);
  await waitUntilStarted(child, address);
  log(
    `temporal dev server: ${address} (pid ${child.pid}${opts.dbFilename ? `, db ${opts.dbFilename}` : ', in memory'})`,
  );
  return {
    address,
    namespace,
    uiUrl,
    cli,
    pid: child.pid,
    async stop() {
      child.kill('SIGTERM');
      await waitForExit(child, 10_000);
    },
    async kill() {
      child.kill('SIGKILL');
      await waitForExit(child, 10_000);
    },
  };
}

/** Waits until the server answers; if it does not, kills it and throws with its last stderr. */
async function waitUntilStarted(child: ChildProcess, address: string): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  try {
    await waitUntilServing(address, child, 60_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}\nserver stderr:\n${stderr}`);
  }
}
