import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { collect, runCli, spawnCli, waitFor } from './helpers';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
});
afterAll(async () => {
  await emu.stop();
});

describe('temporal-mturk worker --rate-limit', () => {
  it('refuses 0, negatives, non-numbers and Infinity with exit 2, naming the flag', async () => {
    for (const bad of ['0', '-5', 'fast', 'Infinity']) {
      const r = await runCli(['worker', '--endpoint', emu.url, '--rate-limit', bad]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--rate-limit must be a finite number of MTurk calls per second/);
    }
    const env = await runCli(['worker', '--endpoint', emu.url], { MTURK_RATE_LIMIT: '0' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/MTURK_RATE_LIMIT must be/);
  });

  it('reaches the worker', async () => {
    const child = spawnCli(['worker', '--endpoint', emu.url, '--rate-limit', '3']);
    const out = collect(child);
    try {
      await waitFor(() => /running/.test(out.output().stdout), 60_000);
      expect(out.output().stdout).toContain('MTurk rate at most 3 calls/s');
    } finally {
      child.kill('SIGINT');
      await out.exited;
    }
  });
});
