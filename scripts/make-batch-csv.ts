/**
 * Writes a bonus CSV of N rows for `temporal-mturk pay`, and optionally seeds a running MTurk
 * emulator with the matching submitted assignments and enough balance, for load runs:
 *
 *   npx tsx scripts/make-batch-csv.ts --rows 1000 --out /tmp/batch-1000.csv \
 *     [--seed http://127.0.0.1:4566] [--balance 5000.00]
 *
 * IDs are random, so each file is a new batch. Amounts cycle through a fixed list (cents only,
 * from 0.01 to 15.00); --balance sets the balance, otherwise the batch's cost is added to it.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bonusCostCents, formatCents, parseDollarsToCents } from '../src/common/money';

const AMOUNTS = ['0.05', '1.00', '10.10', '0.01', '2.50', '0.75', '15.00', '3.33', '0.10', '7.25'];
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function randomId(length: number): string {
  return [...randomBytes(length)].map((b) => ALPHABET[b % ALPHABET.length]).join('');
}

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const answer: unknown = await response.json();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000' },
      out: { type: 'string' },
      seed: { type: 'string' },
      balance: { type: 'string' },
    },
    strict: true,
  });
  const count = Number(values.rows);
  if (!Number.isInteger(count) || count < 1) throw new Error('--rows must be a positive integer');
  if (!values.out) throw new Error('--out <file.csv> is required');

  const rows = Array.from({ length: count }, (_, i) => ({
    assignmentId: `3${randomId(29)}`,
    workerId: `A${randomId(13)}`,
    amount: AMOUNTS[i % AMOUNTS.length]!,
    reason: 'Thanks for taking part in our study',
  }));
  const csv = [
    'assignmentId,workerId,amount,reason',
    ...rows.map((r) => `${r.assignmentId},${r.workerId},${r.amount},${r.reason}`),
  ];
  writeFileSync(values.out, `${csv.join('\n')}\n`);
  const costCents = rows.reduce((sum, r) => sum + bonusCostCents(parseDollarsToCents(r.amount)), 0);
  console.log(`${values.out}: ${count} rows, ${formatCents(costCents)} with fees`);

  if (values.seed) {
    const admin = `${values.seed.replace(/\/+$/, '')}/_emulator`;
    await post(`${admin}/seed`, {
      hits: [
        {
          title: 'Load test HIT',
          assignments: rows.map((r) => ({ assignmentId: r.assignmentId, workerId: r.workerId })),
        },
      ],
    });
    const balance = (await post(
      `${admin}/balance`,
      values.balance !== undefined ? { balance: values.balance } : { add: formatCents(costCents) },
    )) as { balance: string };
    console.log(
      `seeded ${count} submitted assignments into ${values.seed}; balance ${balance.balance}`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
