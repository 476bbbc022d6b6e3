/**
 * The processes a chaos run breaks: the MTurk emulator and the worker as child processes (so
 * they can be SIGKILLed and restarted like crashed machines), with their output kept in log
 * files, and the emulator's admin API over HTTP.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { FaultConfig, Ledger, SeedRequest, SeedResult } from '../../src/emulator';
import { killOnExit } from '../../tools/kill-on-exit';

export const ROOT = path.join(__dirname, '..', '..');

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<Exit>;
  /** Everything the process wrote to stdout and stderr, as one string. */
  output(): string;
  /** True once it has exited. */
  readonly done: boolean;
  /** Sends `signal` (default SIGKILL) and waits for the exit; SIGKILL after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<Exit>;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  /** Appends the process's output to this file as well. */
  logFile?: string;
  cwd?: string;
  /** Called with each complete output line. */
  onLine?: (line: string) => void;
  /** Extra Node options before `--import tsx` (e.g. `--require` a preload). */
  nodeArgs?: string[];
}

/** `node --import tsx <script> ...args`, the way `npm run` starts our TypeScript entry points. */
export function spawnTsx(name: string, script: string, args: string[], opts: SpawnOptions) {
  return spawnManaged(
    name,
    process.execPath,
    [...(opts.nodeArgs ?? []), '--import', 'tsx', path.join(ROOT, script), ...args],
    opts,
  );
}

export function spawnManaged(
  name: string,
  command: string,
  args: string[],
  opts: SpawnOptions,
): ManagedProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd ?? ROOT,
    env: opts.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  killOnExit(child);
  const chunks: string[] = [];
  let log: WriteStream | undefined;
  if (opts.logFile) log = createWriteStream(opts.logFile, { flags: 'a' });
  log?.write(`--- ${new Date().toISOString()} ${name} started (pid ${child.pid})\n`);
  let partial = '';
  const onData = (data: Buffer) => {
    const text = data.toString('utf8');
    chunks.push(text);
    log?.write(text);
    if (opts.onLine) {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) opts.onLine(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  let done = false;
  const exited = new Promise<Exit>((resolve) => {
    child.once('error', (err) => {
      chunks.push(`spawn error: ${err.message}\n`);
    });
    child.once('close', (code, signal) => {
      done = true;
      if (partial && opts.onLine) opts.onLine(partial);
      log?.end(`--- ${new Date().toISOString()} ${name} exited (code ${code}, signal ${signal})\n`);
      resolve({ code, signal });
    });
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const managed: ManagedProcess = {
    name,
    child,
    pid: child.pid,
    exited,
    output: () => chunks.join(''),
    get done() {
      return done;
    },
    async stop(signal: NodeJS.Signals = 'SIGKILL', graceMs = 10_000) {
      if (done) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return managed;
}

/** The environment of a child: ours without credentials or Temporal/MTurk settings, plus `extra`. */
export function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(AWS_|MTURK_|TEMPORAL_)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The emulator's admin API (`/_emulator/...`) over loopback HTTP. */
export class EmulatorAdmin {
  constructor(readonly url: string) {}

  private async call<T>(method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/_emulator/${route}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const json = (await res.json()) as T & { error?: string };
    if (!res.ok) throw new Error(`emulator ${method} ${route}: ${res.status} ${json.error ?? ''}`);
    return json;
  }

  health(): Promise<{ ok: boolean }> {
    return this.call('GET', 'health');
  }
  seed(req: SeedRequest): Promise<SeedResult> {
    return this.call('POST', 'seed', req);
  }
  setFaults(cfg: FaultConfig): Promise<{ faults: FaultConfig }> {
    return this.call('POST', 'faults', cfg);
  }
  ledger(): Promise<Ledger> {
    return this.call('GET', 'ledger');
  }
  /** Moves the emulator's MTurk clock forward (token memory, listing lag and auto-approval). */
  advanceClock(advanceMs: number): Promise<{ now: string; nowMs: number }> {
    return this.call('POST', 'clock', { advanceMs });
  }

  /** Waits until the emulator answers, or throws after `timeoutMs`. */
  async waitUntilUp(timeoutMs = 30_000, alive?: () => boolean): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (alive && !alive()) throw new Error(`emulator at ${this.url} exited while starting`);
      try {
        await this.health();
        return;
      } catch (err) {
        last = err;
        await sleep(100);
      }
    }
    throw new Error(
      `emulator at ${this.url} did not answer within ${timeoutMs} ms: ${String(last)}`,
    );
  }
}

/** Total MTurk API requests the emulator received (every operation, failed ones included). */
export function totalRequests(ledger: Pick<Ledger, 'requests'>): number {
  return Object.values(ledger.requests).reduce((a, b) => a + b, 0);
}

export interface EmulatorChild {
  proc: ManagedProcess;
  url: string;
  admin: EmulatorAdmin;
}

/**
 * `npm run emulator` as a child process (`--port 0` picks a free port), resolved once it says
 * where it listens and answers its health check.
 */
export async function startEmulatorChild(
  opts: { port?: number; statePath?: string; args?: string[] } & Partial<SpawnOptions> = {},
): Promise<EmulatorChild> {
  let announce: (url: string) => void = () => undefined;
  const announced = new Promise<string>((resolve) => (announce = resolve));
  const args = ['--port', String(opts.port ?? 0)];
  if (opts.statePath) args.push('--state', opts.statePath);
  args.push(...(opts.args ?? []));
  const proc = spawnTsx('emulator', 'src/emulator/main.ts', args, {
    env: opts.env ?? childEnv({}),
    logFile: opts.logFile,
    nodeArgs: opts.nodeArgs,
    onLine: (line) => {
      const match = /listening on (http:\/\/\S+)/.exec(line);
      if (match) announce(match[1]!);
      opts.onLine?.(line);
    },
  });
  const url = await Promise.race([
    announced,
    proc.exited.then((exit) => {
      throw new Error(`emulator exited at start (code ${exit.code}): ${proc.output()}`);
    }),
    sleep(60_000).then(() => {
      throw new Error(`emulator did not start within 60 s: ${proc.output()}`);
    }),
  ]);
  const admin = new EmulatorAdmin(url);
  await admin.waitUntilUp(30_000, () => !proc.done);
  return { proc, url, admin };
}
