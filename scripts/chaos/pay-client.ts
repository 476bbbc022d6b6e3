/**
 * The paying client of a chaos run: `temporal-mturk pay --yes <file.csv>` in its own process,
 * so it can be killed mid-batch and run again. It runs the CLI's own `runPay` (CSV check,
 * preview, batch ID from the file's payments, start or attach, follow, report), adding only
 * what the command line cannot say: short activity timeouts and quick retries, so a killed
 * worker costs seconds instead of the production 30 s per activity.
 *
 *   node --import tsx scripts/chaos/pay-client.ts --job job.json
 *
 * job.json: { "csv", "report", "concurrency", "paymentOptions" }. Temporal and MTurk come from
 * the environment as for the CLI. Exits with the CLI's exit code.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { runPay } from '../../src/cli/pay-command';
import type { ApproveAndBonusOptions } from '../../src/workflows';

export interface PayJob {
  csv: string;
  report: string;
  concurrency: number;
  paymentOptions: ApproveAndBonusOptions;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { job: { type: 'string' } }, strict: true });
  if (!values.job) throw new Error('usage: pay-client --job FILE');
  const job = JSON.parse(readFileSync(values.job, 'utf8')) as PayJob;
  return runPay(job.csv, {
    yes: true,
    concurrency: job.concurrency,
    report: job.report,
    paymentOptions: job.paymentOptions,
  });
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(`pay-client: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 5;
  },
);
