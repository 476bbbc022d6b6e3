/**
 * SendBonus throughput of the emulator on loopback, through the real @aws-sdk/client-mturk.
 *   npx tsx tools/emulator-throughput.ts [--n 10000] [--concurrency 50] [--state FILE] [--url URL]
 *                                      [--raw]
 * Without --url an emulator is started in this process (client and server share one event loop,
 * so the figure is a lower bound); with --url an already running emulator is seeded over HTTP.
 * --raw sends the same JSON 1.1 requests with bare node:http instead of the SDK, which measures
 * the emulator rather than the SDK's per-request cost (signing, middleware).
 */
import { Agent, request } from 'node:http';
import { parseArgs } from 'node:util';
import { MTurkClient, SendBonusCommand, type SendBonusCommandInput } from '@aws-sdk/client-mturk';
import {
  startEmulator,
  type RunningEmulator,
  type SeedRequest,
  type SeedResult,
} from '../src/emulator/index';

type Assignment = SeedResult['hits'][number]['assignments'][number];

async function main(): Promise<void> {
  const { values, n, concurrency } = parseOptions();
  const emu = values.url ? undefined : await startEmulator({ port: 0, statePath: values.state });
  const url = emu ? emu.url : values.url!;
  const assignments = await seedAssignments(emu, url, n);

  const client = new MTurkClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const target = new URL(url);
  const send = values.raw
    ? (input: SendBonusCommandInput) => rawSendBonus(target, agent, input)
    : (input: SendBonusCommandInput) => client.send(new SendBonusCommand(input));
  const { seconds, failures } = await sendBonuses(assignments, n, concurrency, send);

  const bonusCount = await bonusesInLedger(emu, url);
  console.log(
    `SendBonus x ${n}, concurrency ${concurrency}, ${values.raw ? 'raw node:http' : 'MTurk SDK'}` +
      `${values.state ? ', with state file' : ''}: ` +
      `${seconds.toFixed(2)} s, ${Math.round(n / seconds)} requests/s, ` +
      `${failures} failures, ${bonusCount} bonuses in the ledger`,
  );
  client.destroy();
  agent.destroy();
  await emu?.stop();
}

function parseOptions() {
  const { values } = parseArgs({
    options: {
      n: { type: 'string', default: '10000' },
      concurrency: { type: 'string', default: '50' },
      state: { type: 'string' },
      url: { type: 'string' },
      raw: { type: 'boolean', default: false },
    },
  });
  const n = Number(values.n);
  const concurrency = Number(values.concurrency);
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
    throw new Error('--n and --concurrency must be positive integers');
  }
  return { values, n, concurrency };
}

/** A fresh emulator state with `n` submitted assignments and the balance to pay them all. */
async function seedAssignments(
  emu: RunningEmulator | undefined,
  url: string,
  n: number,
): Promise<Assignment[]> {
  const seedReq: SeedRequest = {
    balance: String(n * 10),
    hits: [{ assignments: Array.from({ length: n }, (_, i) => ({ workerId: `AW${i}` })) }],
  };
  let seeded: SeedResult;
  if (emu) {
    emu.reset();
    seeded = emu.seed(seedReq);
  } else {
    await fetch(`${url}/_emulator/reset`, { method: 'POST' });
    const res = await fetch(`${url}/_emulator/seed`, {
      method: 'POST',
      body: JSON.stringify(seedReq),
    });
    seeded = (await res.json()) as SeedResult;
  }
  return seeded.hits[0]!.assignments;
}

/** SendBonus as the SDK would send it, over bare node:http: no signing, no middleware. */
function rawSendBonus(target: URL, agent: Agent, input: SendBonusCommandInput): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const body = JSON.stringify(input);
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        method: 'POST',
        path: '/',
        agent,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'x-amz-target': 'MTurkRequesterServiceV20170117.SendBonus',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error('failed'))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** One $1.00 bonus for each of the first `n` assignments, `concurrency` calls at a time, timed. */
async function sendBonuses(
  assignments: Assignment[],
  n: number,
  concurrency: number,
  send: (input: SendBonusCommandInput) => Promise<unknown>,
): Promise<{ seconds: number; failures: number }> {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    for (let i = next++; i < n; i = next++) {
      const a = assignments[i]!;
      const input = {
        WorkerId: a.workerId,
        AssignmentId: a.assignmentId,
        BonusAmount: '1.00',
        Reason: 'throughput',
        UniqueRequestToken: `tp-${i}`,
      };
      try {
        await send(input);
      } catch {
        failures++;
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { seconds: (performance.now() - t0) / 1000, failures };
}

async function bonusesInLedger(emu: RunningEmulator | undefined, url: string): Promise<number> {
  const ledger = emu
    ? emu.ledger()
    : ((await (await fetch(`${url}/_emulator/ledger`)).json()) as { bonuses: unknown[] });
  return ledger.bonuses.length;
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
