/**
 * Memory settings of the worker launchers (`temporal-mturk worker`, `npm run worker`).
 *
 * With Node's defaults a worker paying a 1,000-row batch peaks at 530-600 MB resident, and not
 * because it needs it: V8 sizes the workflow thread's heap from the machine's memory and lets
 * garbage pile up, and glibc keeps an allocation arena per thread. The benchmark
 * (bench/README.md) measured the same run at about 270 MB with the settings below, for about
 * 10 % more worker CPU. 512 MB of old space is far above what the worker keeps alive (under
 * 100 MB per thread at 10,000 rows), so it bounds garbage, not work.
 *
 * Node flags must be given when a process starts, so a launcher starts the worker again as a
 * child process with them, unless the user chose their own heap flags or opted out.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

export const WORKER_NODE_FLAGS: readonly string[] = [
  '--max-old-space-size=512',
  '--max-semi-space-size=4',
];
/** Environment of the relaunched worker (only where the user has not set it). */
export const WORKER_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '2' };

/** Set in the relaunched child, so it does not relaunch again. */
const RELAUNCHED = 'TEMPORAL_MTURK_WORKER_RELAUNCHED';
/** `off` keeps Node's own settings (no relaunch). */
export const WORKER_MEMORY_ENV = 'TEMPORAL_MTURK_WORKER_MEMORY';
const HEAP_FLAG = /--max-(old|semi)-space-size/;
const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGQUIT', 'SIGUSR2', 'SIGHUP'];

export type WorkerMemoryPlan =
  | { relaunch: true; nodeArgs: string[]; env: NodeJS.ProcessEnv }
  | { relaunch: false; reason: string };

/** Whether this process should start the worker again with {@link WORKER_NODE_FLAGS}, and how. */
export function planWorkerMemory(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
): WorkerMemoryPlan {
  if (env[RELAUNCHED] === '1') return { relaunch: false, reason: 'already relaunched' };
  if (env[WORKER_MEMORY_ENV] === 'off') {
    return { relaunch: false, reason: `${WORKER_MEMORY_ENV}=off: Node's own memory settings` };
  }
  if (execArgv.some((arg) => HEAP_FLAG.test(arg)) || HEAP_FLAG.test(env.NODE_OPTIONS ?? '')) {
    return { relaunch: false, reason: 'heap flags given by the user' };
  }
  const childEnv: NodeJS.ProcessEnv = { ...env, [RELAUNCHED]: '1' };
  for (const [name, value] of Object.entries(WORKER_ENV)) childEnv[name] ??= value;
  return { relaunch: true, nodeArgs: [...WORKER_NODE_FLAGS], env: childEnv };
}

/**
 * Runs this same command again in a child process with the worker's memory settings, and
 * resolves with its exit code. Signals sent to this process are passed on once (the child has
 * its own process group, so a Ctrl-C in the terminal does not reach it twice: a second signal
 * would skip the SDK's graceful shutdown).
 */
export function relaunchWorker(
  plan: Extract<WorkerMemoryPlan, { relaunch: true }>,
): Promise<number> {
  const child = spawn(
    process.execPath,
    [...plan.nodeArgs, ...process.execArgv, ...process.argv.slice(1)],
    { env: plan.env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'], detached: true },
  );
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const handlers = FORWARDED_SIGNALS.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      for (const [name, handler] of handlers) process.off(name, handler);
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
    });
  });
}

/**
 * In a relaunched worker: exit with the launcher. A launcher that is killed outright (SIGKILL)
 * cannot pass a signal on; without this its worker would keep running, unseen.
 */
export function exitWithLauncher(): void {
  if (process.env[RELAUNCHED] !== '1' || !process.channel) return;
  const exit = () => process.kill(process.pid, 'SIGKILL');
  // The launcher may already be gone (killed while this process was loading).
  if (!process.connected) exit();
  process.channel.unref();
  process.once('disconnect', exit);
}

/** One line for the launcher's log: which memory settings the worker runs with. */
export function describeWorkerMemory(plan: Extract<WorkerMemoryPlan, { relaunch: true }>): string {
  const env = Object.keys(WORKER_ENV).map((name) => `${name}=${plan.env[name]}`);
  return (
    `worker process with ${[...plan.nodeArgs, ...env].join(' ')} ` +
    `(${WORKER_MEMORY_ENV}=off keeps Node's own)`
  );
}

/**
 * An entry point's first step: a worker relaunches itself with the memory settings (this
 * process then only waits for it and exits with its code); anything else, or the relaunched
 * worker, runs `run`.
 */
export function runWorkerEntry(entry: { isWorker: boolean; run: () => Promise<void> }): void {
  const fail = (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  };
  const plan = entry.isWorker ? planWorkerMemory() : undefined;
  if (plan?.relaunch) {
    console.log(`temporal-mturk worker: ${describeWorkerMemory(plan)}`);
    relaunchWorker(plan).then((code) => process.exit(code), fail);
    return;
  }
  if (entry.isWorker) exitWithLauncher();
  entry.run().catch(fail);
}
