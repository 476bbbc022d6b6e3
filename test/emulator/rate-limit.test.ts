import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { GetAccountBalanceCommand, SendBonusCommand } from '@aws-sdk/client-mturk';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index';
import { client, failure, useEmulator } from './helpers';

// A rate so low that no token comes back while a test runs: the tests count, never time.
const NEVER = 0.0001;

let assignmentId = '';

const bed = useEmulator((emu) => {
  emu.configure({ rateLimit: null });
  const r = emu.seed({ balance: '100.00', hits: [{ assignments: [{ workerId: 'ARATEWORKER' }] }] });
  assignmentId = r.hits[0]!.assignments[0]!.assignmentId;
});

const balance = () => bed.mturk.send(new GetAccountBalanceCommand({}));
const bonus = (token: string) =>
  bed.mturk.send(
    new SendBonusCommand({
      WorkerId: 'ARATEWORKER',
      AssignmentId: assignmentId,
      BonusAmount: '1.00',
      Reason: 'r',
      UniqueRequestToken: token,
    }),
  );

describe('account-wide rate limit', () => {
  it('answers calls over the burst ThrottlingException "Rate exceeded", as MTurk does', async () => {
    bed.emu.configure({ rateLimit: { rate: NEVER, burst: 2 } });
    await balance();
    await balance();
    const e = await failure(balance());
    expect(e.name).toBe('ThrottlingException');
    expect(e.message).toBe('Rate exceeded');
    expect(e.$metadata!.httpStatusCode).toBe(400);
    const l = bed.emu.ledger();
    expect(l.requests.GetAccountBalance).toBe(3);
    expect(l.rateLimited.GetAccountBalance).toBe(1);
    // Not an injected fault: those counters stay apart.
    expect(l.faults).toEqual({ serviceFault: 0, throttle: 0, dropAfterCommit: 0 });
  });

  it('a refused SendBonus does nothing: no bonus, no charge, its token not used', async () => {
    bed.emu.configure({ rateLimit: { rate: NEVER, burst: 1 } });
    await balance(); // the one token
    const e = await failure(bonus('tok-refused'));
    expect(e.name).toBe('ThrottlingException');
    let l = bed.emu.ledger();
    expect(l.bonuses).toEqual([]);
    expect(l.balance).toBe('100.00');
    expect(l.rateLimited.SendBonus).toBe(1);
    // The same token pays once the limit allows it: the refused call did not consume it.
    bed.emu.configure({ rateLimit: null });
    await bonus('tok-refused');
    l = bed.emu.ledger();
    expect(l.bonuses).toHaveLength(1);
    expect(l.balance).toBe('98.80');
  });

  it('refills on real time only: advancing the MTurk clock by a day gives no token', async () => {
    bed.emu.configure({ rateLimit: { rate: NEVER, burst: 1 } });
    await balance();
    bed.emu.advanceClock(24 * 3600_000);
    expect((await failure(balance())).name).toBe('ThrottlingException');
  });

  it('per-operation limits apply on top of the account limit', async () => {
    bed.emu.configure({
      rateLimit: { rate: 1000, burst: 1000, operations: { SendBonus: { rate: NEVER, burst: 1 } } },
    });
    await bonus('tok-1');
    expect((await failure(bonus('tok-2'))).name).toBe('ThrottlingException');
    await balance();
    await balance();
    const l = bed.emu.ledger();
    expect(l.bonuses).toHaveLength(1);
    expect(l.rateLimited).toMatchObject({ SendBonus: 1, GetAccountBalance: 0 });
  });

  it('reset fills the buckets again and zeroes the counter; the limit is kept', async () => {
    bed.emu.configure({ rateLimit: { rate: NEVER, burst: 1 } });
    await balance();
    await failure(balance());
    bed.emu.reset();
    expect(bed.emu.ledger().rateLimited.GetAccountBalance).toBe(0);
    await balance();
    expect((await failure(balance())).name).toBe('ThrottlingException');
    expect(bed.emu.config().rateLimit).toEqual({ rate: NEVER, burst: 1 });
  });

  it('is set over the admin API, burst defaulting to 2 x rate; bad values are refused', async () => {
    const post = async (body: unknown) => {
      const res = await fetch(`${bed.emu.url}/_emulator/config`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const ok = await post({ rateLimit: { rate: 5 } });
    expect(ok.status).toBe(200);
    expect(ok.body.rateLimit).toEqual({ rate: 5, burst: 10 });
    for (const bad of [{ rate: 0 }, { rate: -1 }, { rate: 'ten' }, { rate: 5, burst: 0.5 }, 7]) {
      const r = await post({ rateLimit: bad, tokenTtlMs: 1 });
      expect(r.status).toBe(400);
      expect(String(r.body.error)).toMatch(/rateLimit/);
    }
    // A refused change changes nothing, not even the other fields of the same request.
    expect(bed.emu.config()).toMatchObject({
      rateLimit: { rate: 5, burst: 10 },
      tokenTtlMs: 86400000,
    });
    expect((await post({ rateLimit: null })).body.rateLimit).toBeNull();
  });

  it('keeps its counter in the state file', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'emu-rate-'));
    const statePath = path.join(dir, 'state.json');
    try {
      const first = await startEmulator({ statePath, rateLimit: { rate: NEVER, burst: 1 } });
      const c = client(first.url);
      await c.send(new GetAccountBalanceCommand({}));
      await failure(c.send(new GetAccountBalanceCommand({})));
      c.destroy();
      await first.stop();
      const second = await startEmulator({ statePath });
      expect(second.ledger().rateLimited.GetAccountBalance).toBe(1);
      expect(second.config().rateLimit).toBeNull(); // configuration, not state
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('npm run emulator -- --rate-limit', () => {
  const run = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/emulator/main.ts', '--port', '0', ...args],
        { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      const onData = (b: Buffer) => {
        out += b.toString();
        // Started: enough seen, stop it.
        if (out.includes('admin API')) child.kill('SIGTERM');
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => resolve({ code, out }));
    });

  it('starts with the limit and burst given', async () => {
    const r = await run(['--rate-limit', '10', '--burst', '20']);
    expect(r.out).toContain('rate limit: 10 requests/s, burst 20');
  });

  it('refuses bad values, naming the flag', async () => {
    for (const args of [
      ['--rate-limit', '0'],
      ['--rate-limit', '-3'],
      ['--rate-limit', 'fast'],
      ['--rate-limit', '10', '--burst', '0'],
      ['--burst', '5'],
    ]) {
      const r = await run(args);
      expect(r.code).toBe(1);
      expect(r.out).toMatch(/--(rate-limit|burst)/);
    }
  });
});
