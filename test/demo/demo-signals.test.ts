/**
 * `npm start` (tsx tools/demo/main.ts) as its own process tree: SIGTERM stops everything it
 * started, and a busy default port is replaced by a free one with a message. Ports and the state
 * folder are the test's own, so a demo someone runs on this machine is not touched.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../tools/devserver/dev-server';

const ROOT = path.join(__dirname, '..', '..');
const stateDir = mkdtempSync(path.join(tmpdir(), 'temporal-mturk-demo-'));
let demo: ChildProcess | undefined;
let blocker: Server | undefined;

afterAll(async () => {
  // Only if the test failed half-way: the demo's own process group, by its ID.
  if (demo?.pid && demo.exitCode === null && demo.signalCode === null) {
    try {
      process.kill(-demo.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  rmSync(stateDir, { recursive: true, force: true });
});

/** Parent of each live process, from /proc. */
function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') out.set(Number(entry), Number(fields[1]));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function descendantsOf(pid: number): number[] {
  const table = parents();
  const found: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of table) {
      if (parent === p) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

async function until(
  check: () => boolean,
  what: string | (() => string),
  timeoutMs = 120_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('npm start', () => {
  it('moves off a busy port with a message, and SIGTERM stops it with nothing left running', async () => {
    const [temporalPort, uiPort, emulatorPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    // Something that is not an emulator holds the emulator's port.
    blocker = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => blocker!.listen(emulatorPort, '127.0.0.1', resolve));

    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of Object.keys(env)) {
      if (key.startsWith('MTURK_') || key.startsWith('TEMPORAL_MTURK_')) delete env[key];
    }
    demo = spawn(
      path.join(ROOT, 'node_modules', '.bin', 'tsx'),
      [
        'tools/demo/main.ts',
        '--temporal-port',
        String(temporalPort),
        '--ui-port',
        String(uiPort),
        '--emulator-port',
        String(emulatorPort),
        '--state-dir',
        stateDir,
      ],
      { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
    );
    let output = '';
    demo.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    demo.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      demo!.once('exit', (code, signal) => resolve({ code, signal })),
    );

    await until(
      () => output.includes('Everything keeps running'),
      () => `the demo to pay its batch; its output:\n${output}`,
    );
    expect(output).toContain(`port ${emulatorPort} (MTurk emulator) is in use by another program`);
    expect(output).toMatch(/pay exited with 0/);

    const tree = descendantsOf(demo.pid!);
    // The tsx launcher's node process and the Temporal dev server at least.
    expect(tree.some((pid) => cmdline(pid).includes('tools/demo/main.ts'))).toBe(true);
    expect(tree.some((pid) => cmdline(pid).includes('start-dev'))).toBe(true);

    demo.kill('SIGTERM'); // the launcher only, as `kill <pid>` would
    let result: { code: number | null } | undefined;
    void exited.then((r) => (result = r));
    // Without its own SIGTERM handler the demo never exits: fail with a message, not a hang.
    await until(
      () => result !== undefined,
      () => `the demo to exit on SIGTERM; output:\n${output}`,
      60_000,
    );
    expect(result?.code).toBe(143);
    expect(output).toContain('SIGTERM: stopping the worker, the emulator and the dev server');
    await until(
      () => tree.every((pid) => !parents().has(pid)),
      'every process of the demo to exit',
      20_000,
    );
  }, 240_000); // a Temporal dev server with its UI, a worker and 25 payments, on a shared machine
});
