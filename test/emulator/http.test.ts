import { request } from 'node:http';
import { GetAccountBalanceCommand } from '@aws-sdk/client-mturk';
import { describe, expect, it } from 'vitest';
import { startEmulator, type Ledger } from '../../src/emulator/index';
import { UUID, useEmulator } from './helpers';

const bed = useEmulator();

async function admin(method: 'GET' | 'POST', path: string, body?: unknown) {
  const res = await fetch(`${bed.emu.url}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function api(body: string | Buffer, headers: Record<string, string>) {
  const res = await fetch(bed.emu.url + '/', { method: 'POST', headers, body });
  return {
    status: res.status,
    requestId: res.headers.get('x-amzn-requestid'),
    body: (await res.json()) as Record<string, unknown>,
  };
}

const JSON11 = 'application/x-amz-json-1.1';
const target = (op: string) => `MTurkRequesterServiceV20170117.${op}`;

async function stillServes() {
  const r = await bed.mturk.send(new GetAccountBalanceCommand({}));
  expect(r.$metadata.httpStatusCode).toBe(200);
}

describe('admin HTTP API', () => {
  it('seed -> faults -> ledger -> reset with the documented shapes', async () => {
    const seeded = await admin('POST', 'seed', {
      balance: '100.00',
      hits: [{ assignments: [{ workerId: 'AXXXX' }, { workerId: 'AYYYY', status: 'Approved' }] }],
    });
    expect(seeded.status).toBe(200);
    const hits = seeded.body.hits as {
      hitId: string;
      assignments: { assignmentId: string; workerId: string }[];
    }[];
    expect(hits).toHaveLength(1);
    expect(hits[0]!.hitId).toMatch(/^[A-Z0-9]{30}$/);
    expect(hits[0]!.assignments[0]).toMatchObject({ workerId: 'AXXXX', status: 'Submitted' });
    expect(hits[0]!.assignments[0]!.assignmentId).toMatch(/^[A-Z0-9]{30}$/);

    const custom = await admin('POST', 'seed', {
      hits: [
        {
          hitId: hits[0]!.hitId,
          assignments: [{ workerId: 'AZZZZ', assignmentId: 'MYASSIGNMENT1' }],
        },
        { hitId: 'MYHIT1', title: 'Custom', reward: '0.10', assignments: [] },
      ],
    });
    expect(custom.body).toMatchObject({
      balance: '100.00',
      hits: [
        {
          hitId: hits[0]!.hitId,
          assignments: [{ assignmentId: 'MYASSIGNMENT1', workerId: 'AZZZZ' }],
        },
        { hitId: 'MYHIT1', assignments: [] },
      ],
    });
    const dupe = await admin('POST', 'seed', {
      hits: [{ assignments: [{ assignmentId: 'MYASSIGNMENT1' }] }],
    });
    expect(dupe.status).toBe(400);
    expect(dupe.body.error).toMatch(/already exists/);

    expect((await admin('POST', 'balance', { balance: '50.00' })).body).toEqual({
      balance: '50.00',
    });
    expect((await admin('POST', 'balance', { add: '10.5' })).body).toEqual({ balance: '60.50' });
    expect((await admin('POST', 'balance', { balance: 12.5 })).status).toBe(400);

    const faults = await admin('POST', 'faults', {
      seed: 1,
      operations: {
        GetAccountBalance: {
          latencyMs: [1, 2],
          serviceFaultRate: 1,
          throttleRate: 0,
          dropAfterCommitRate: 0,
        },
      },
    });
    expect(faults.status).toBe(200);
    const faulted = await api('{}', {
      'content-type': JSON11,
      'x-amz-target': target('GetAccountBalance'),
    });
    expect(faulted.status).toBe(500);
    expect(faulted.body.__type).toBe('ServiceFault');
    expect(
      (await admin('POST', 'faults', { operations: { X: { serviceFaultRate: 3 } } })).status,
    ).toBe(400);
    expect((await admin('POST', 'faults', {})).status).toBe(200);
    await stillServes();

    const ledger = (await admin('GET', 'ledger')).body as unknown as Ledger;
    expect(ledger.balance).toBe('60.50');
    expect(ledger.bonuses).toEqual([]);
    expect(ledger.approvals).toEqual([]);
    expect(ledger.rejections).toEqual([]);
    expect(ledger.requests.GetAccountBalance).toBe(2);
    expect(ledger.requests.SendBonus).toBe(0);
    expect(ledger.faults).toEqual({ serviceFault: 1, throttle: 0, dropAfterCommit: 0 });

    expect((await admin('POST', 'reset')).status).toBe(200);
    const empty = (await admin('GET', 'ledger')).body as unknown as Ledger;
    expect(empty.balance).toBe('0.00');
    expect(empty.requests.GetAccountBalance).toBe(0);
    expect(empty.faults).toEqual({ serviceFault: 0, throttle: 0, dropAfterCommit: 0 });
    expect((await admin('GET', 'faults')).body).toEqual({ faults: {} });
  });

  it('config and clock', async () => {
    const cfg = await admin('POST', 'config', {
      tokenTtlMs: 5000,
      consumeTokenOnFailure: true,
      feeRounding: 'up',
    });
    expect(cfg.body).toEqual({
      tokenTtlMs: 5000,
      consumeTokenOnFailure: true,
      feeRounding: 'up',
      listingLagMs: 0,
      normaliseReasons: false,
      rateLimit: null,
    });
    const lagged = await admin('POST', 'config', { listingLagMs: 60_000, normaliseReasons: true });
    expect(lagged.body).toMatchObject({ listingLagMs: 60_000, normaliseReasons: true });
    expect((await admin('POST', 'config', { listingLagMs: -1 })).status).toBe(400);
    expect((await admin('POST', 'config', { normaliseReasons: 'yes' })).status).toBe(400);
    expect((await admin('POST', 'config', { feeRounding: 'sideways' })).status).toBe(400);
    const before = (await admin('GET', 'clock')).body.nowMs as number;
    const after = (await admin('POST', 'clock', { advanceMs: 3_600_000 })).body.nowMs as number;
    expect(after - before).toBeGreaterThanOrEqual(3_600_000);
    expect((await admin('POST', 'clock', { advanceMs: -1 })).status).toBe(400);
    bed.emu.configure({
      tokenTtlMs: 24 * 3600_000,
      consumeTokenOnFailure: false,
      feeRounding: 'half-up',
      listingLagMs: 0,
      normaliseReasons: false,
    });
  });

  it('unknown admin routes are 404 and bad JSON is 400', async () => {
    expect((await admin('GET', 'nope')).status).toBe(404);
    const res = await fetch(`${bed.emu.url}/_emulator/seed`, { method: 'POST', body: '{nope' });
    expect(res.status).toBe(400);
  });
});

describe('robustness of the MTurk endpoint', () => {
  it('every response carries x-amzn-RequestId', async () => {
    const r = await api('{}', {
      'content-type': JSON11,
      'x-amz-target': target('GetAccountBalance'),
    });
    expect(r.status).toBe(200);
    expect(r.requestId).toMatch(UUID);
    expect(r.body).toEqual({ AvailableBalance: '0.00', OnHoldBalance: '0.00' });
  });

  it('missing or unknown target: 400 UnknownOperationException', async () => {
    const missing = await api('{}', { 'content-type': JSON11 });
    expect(missing.status).toBe(400);
    expect(missing.body.__type).toBe('UnknownOperationException');
    expect(missing.requestId).toMatch(UUID);
    const unknown = await api('{}', {
      'content-type': JSON11,
      'x-amz-target': target('DeleteEverything'),
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.__type).toBe('UnknownOperationException');
    expect(bed.emu.ledger().requests.DeleteEverything).toBe(1);
    await stillServes();
  });

  it('malformed JSON, non-object JSON and wrong content type: 400', async () => {
    const headers = { 'content-type': JSON11, 'x-amz-target': target('GetAccountBalance') };
    for (const body of ['{"unterminated', '[1,2]', 'null']) {
      const r = await api(body, headers);
      expect(r.status).toBe(400);
      expect(r.body.__type).toBe('SerializationException');
    }
    const wrongType = await api('{}', { ...headers, 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(400);
    const wrongMember = await api('{"MaxResults":"ten","HITId":"X"}', {
      ...headers,
      'x-amz-target': target('ListAssignmentsForHIT'),
    });
    expect(wrongMember.status).toBe(400);
    expect(wrongMember.body.__type).toBe('SerializationException');
    await stillServes();
  });

  it('a 2 MB body: 400, and the server still serves', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x20);
    const r = await api(big, {
      'content-type': JSON11,
      'x-amz-target': target('GetAccountBalance'),
    });
    expect(r.status).toBe(400);
    expect(String(r.body.Message ?? r.body.message)).toMatch(/must not exceed/);
    await stillServes();
  });

  it('a client that disconnects mid-body does not hurt the server', async () => {
    await new Promise<void>((resolve) => {
      const req = request(bed.emu.url, {
        method: 'POST',
        headers: { 'content-type': JSON11, 'content-length': '1000' },
      });
      req.on('error', () => resolve());
      req.write('{"partial":', () => {
        req.destroy();
        resolve();
      });
    });
    await stillServes();
  });

  it('GET / is a clean 404', async () => {
    const res = await fetch(bed.emu.url + '/');
    expect(res.status).toBe(404);
    await res.text();
  });
});

describe('listening host', () => {
  it('refuses a non-loopback host unless allowed', async () => {
    await expect(startEmulator({ host: '0.0.0.0', port: 0 })).rejects.toThrow(/non-loopback/);
    await expect(startEmulator({ host: '10.1.2.3', port: 0 })).rejects.toThrow(/allowNonLoopback/);
    const other = await startEmulator({ host: '0.0.0.0', port: 0, allowNonLoopback: true });
    expect(other.url).toBe(`http://127.0.0.1:${other.port}`);
    await other.stop();
  });
});
