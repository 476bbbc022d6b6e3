/**
 * `npm run chaos`: the reliability campaign. Pays `--count` bonuses (default 1,000) through the
 * payBatch workflow while the MTurk emulator injects faults (10 % commit-then-drop, 5 %
 * ServiceFault, 20-200 ms latency on SendBonus and ApproveAssignment, an account rate limit of
 * 20 requests/s answered with MTurk's throttling error), the
 * worker process is SIGKILLed and restarted, the Temporal dev server and the emulator are
 * stopped and restarted on their state, and the paying client is killed and run again, while
 * MTurk's listing lags 5 s behind its ledger. Then, over time: the emulator's clock moves 25 h
 * on (past MTurk's token memory) and 20 payment workflows are reset to their first workflow
 * task (each must end already-paid); the batch and payment workflows are deleted, as retention
 * would, and `pay` runs on the same file again (it must pay nothing and report every row
 * already paid). Then it compares the emulator's ledger with the input cent by cent and writes
 * a JSON summary to bench/results/chaos/<timestamp>-seed<N>.json.
 *
 * Exit code: 0 when nobody was paid twice and nobody was missed (and every cent adds up) and
 * every planned kill and restart happened; 1 when a payment is duplicated, missing or wrong
 * (a reset or rerun that paid anything included); 2 for bad arguments; 3 when the money is exact
 * but the campaign itself fell short (a planned event did not happen, the client or status could
 * not be read, a reset run did not end already-paid, the rerun exited non-zero or did not report
 * every row already paid).
 *
 *   npm run chaos -- [--count 1000] [--seed N] [--worker-kills 3] [--concurrency 50]
 *                    [--timeout-minutes 20] [--out DIR] [--keep] [--no-faults]
 *                    [--client pay|cli] [--worker-entry worker|cli] [--bonus-key-pairs N]
 *                    [--listing-lag-ms 5000] [--mturk-rate-limit 20] [--resets 20] [--no-rerun]

--mturk-rate-limit N: MTurk's throttling, as MTurk does it: an account-wide limit of N
  requests/s (burst 2N) at the emulator; 0 for none. (Random throttles are not injected: the
  worker's adaptive pacing slows down on every throttle, as it should for a real limit.)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCampaign, type CampaignSummary } from './chaos/campaign';
import { ROOT } from './chaos/processes';
import { randomSeed } from './chaos/rng';

const USAGE = `usage: npm run chaos -- [--count 1000] [--seed N] [--worker-kills 3]
       [--dev-server-restarts 1] [--emulator-restarts 1] [--client-kills 1]
       [--concurrency 50] [--timeout-minutes 20] [--out DIR] [--keep] [--no-faults]
       [--client pay|cli] [--worker-entry worker|cli] [--bonus-key-pairs N]
       [--listing-lag-ms 5000] [--resets 20] [--no-rerun]

--listing-lag-ms N: ListBonusPayments shows a bonus N ms (emulator clock) after its grant
  (default 5000, 0 = no lag): lost SendBonus answers meet a listing that does not show the
  bonus yet. 5 s keeps a 1,000-bonus run in minutes; 60 s would cost ~75 s per lost answer.
--resets N: after the batch, move the emulator's clock 25 h on (past MTurk's token memory) and
  reset N payment workflows to their first workflow task; each must end already-paid (default
  20, 0 = skip).
--no-rerun: skip deleting the batch and payment workflows (as retention would) and running pay
  on the same file again (which must pay nothing); the deletion alone takes the dev server ~30 s.
--client pay (default): the paying client is temporal-mturk pay --yes run through the CLI's
  runPay in a child process, with 5 s activity timeouts; --client cli: the temporal-mturk
  command itself, with production timeouts (30 s per attempt: a run takes longer).
--worker-entry worker (default): the worker process is npm run worker (src/worker-main.ts);
  cli: temporal-mturk worker.
--bonus-key-pairs N: N payments become second bonuses (bonusKey) for another payment's
  assignment, with the same amount and reason (default 0: distinct workers and assignments).
  ListBonusPayments cannot tell such bonuses apart; \`pay\` now refuses these files (exit 2),
  scripts/chaos/repro-bonus-key.ts shows what payBonus() does with them.`;

function intOption(name: string, value: string | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return n;
}

function printSummary(s: CampaignSummary, file: string): void {
  const p = s.payments;
  const lines = [
    '',
    `chaos seed ${s.seed}: ${s.exact ? 'EXACT' : 'NOT EXACT'}`,
    `  payments: expected ${p.expected}, made ${p.made}, duplicated ${p.duplicated}, missing ${p.missing}, wrong ${p.wrong}, unexpected ${p.unexpected}`,
    `  bonuses:  expected ${s.totals.expectedBonus}, paid ${s.totals.paidBonus}; fees expected ${s.totals.expectedFees}, paid ${s.totals.paidFees}`,
    `  balance:  ${s.totals.balanceBefore} -> ${s.totals.balanceAfter} (${s.totals.balanceConsistent ? 'consistent' : 'INCONSISTENT'})`,
    `  faults:   ${s.faults.dropAfterCommit} commit-then-drop, ${s.faults.serviceFault} ServiceFault, ${s.faults.throttle} throttled at random, ` +
      `${Object.values(s.rateLimited).reduce((a, b) => a + b, 0)} throttled by the ${s.mturkRateLimit} req/s account limit`,
    `  chaos:    ${s.chaos.workerKills} worker kills (${s.chaos.workerRestarts} restarts, ${s.chaos.unexpectedWorkerExits} unexpected exits), ` +
      `${s.chaos.devServerRestarts} dev-server restarts, ${s.chaos.emulatorRestarts} emulator restarts, ` +
      `${s.chaos.clientKills} client kills (${s.chaos.clientRuns} client runs)`,
    `  batch:    ${s.batch.workflowId}: ${s.batch.counts ? JSON.stringify(s.batch.counts) : 'no result'} in ${s.batch.runs ?? '?'} runs`,
    `  cli:      pay exit ${s.cli.payExitCode ?? '?'}, status exit ${s.cli.statusExitCode ?? '?'}`,
    `  calls:    ${
      s.callsPerPayment
        ? `${s.callsPerPayment.total} MTurk requests per payment (${Object.entries(
            s.callsPerPayment.byOperation,
          )
            .map(([op, n]) => `${op} ${n}`)
            .join(', ')}), before the over-time phases`
        : '?'
    }`,
    `  listing:  lag ${s.listingLagMs} ms`,
    ...(s.resets
      ? [
          `  +25 h:    ${s.resets.done}/${s.resets.planned} resets finished, ${s.resets.alreadyPaid} already-paid ` +
            `(${Object.entries(s.resets.foundBy)
              .map(([how, n]) => `${n} by ${how}`)
              .join(', ')}); ` +
            `${s.resets.sendBonusCalls} SendBonus calls, ${s.resets.newBonuses} new payments`,
        ]
      : []),
    ...(s.rerun
      ? [
          `  rerun:    ${s.rerun.executionsDeleted} executions of ${s.rerun.workflowIds} workflows deleted ` +
            `(gone after ${(s.rerun.deletionWaitMs / 1000).toFixed(1)} s); pay exit ${s.rerun.exitCode ?? '?'}` +
            (s.rerun.report
              ? `: paid ${s.rerun.report.paid}, already paid ${s.rerun.report.alreadyPaid} ` +
                `(${s.rerun.report.alreadyPaidByListing} listing, ${s.rerun.report.alreadyPaidByToken} token, ` +
                `${s.rerun.report.alreadyPaidByWorkflow} workflow), failed ${s.rerun.report.failed} ` +
                `(conflicts ${s.rerun.report.conflicts}), unconfirmed ${s.rerun.report.unconfirmed}`
              : ', no report') +
            `; ${s.rerun.sendBonusCalls} SendBonus calls, ${s.rerun.newBonuses} new payments, ` +
            `${(s.rerun.timeMs / 1000).toFixed(1)} s`,
        ]
      : []),
    ...(s.report
      ? [
          `  report:   paid ${s.report.paid}, already paid ${s.report.alreadyPaid}; "paid now" ${s.report.paidNow} + ${s.report.feesNow} fees, ` +
            `MTurk charged ${s.report.ledgerPaid} + ${s.report.ledgerFees}${s.report.agrees ? '' : '  NOTE: the report under-counts what this batch paid'}`,
        ]
      : []),
    `  time:     ${(s.wallTimeMs / 1000).toFixed(1)} s wall, ${(s.payingTimeMs / 1000).toFixed(1)} s paying`,
    ...s.problems.map((problem) => `  PROBLEM:  ${problem}`),
    ...(s.workDir ? [`  logs and state kept in ${s.workDir}`] : []),
    `  summary:  ${path.relative(process.cwd(), file)}`,
  ];
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        count: { type: 'string' },
        seed: { type: 'string' },
        'worker-kills': { type: 'string' },
        'dev-server-restarts': { type: 'string' },
        'emulator-restarts': { type: 'string' },
        'client-kills': { type: 'string' },
        concurrency: { type: 'string' },
        'timeout-minutes': { type: 'string' },
        out: { type: 'string' },
        keep: { type: 'boolean', default: false },
        'no-faults': { type: 'boolean', default: false },
        client: { type: 'string' },
        'bonus-key-pairs': { type: 'string' },
        'worker-entry': { type: 'string' },
        'listing-lag-ms': { type: 'string' },
        'mturk-rate-limit': { type: 'string' },
        resets: { type: 'string' },
        'no-rerun': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let options;
  try {
    options = {
      count: intOption('count', values.count, 1000, 1),
      seed: intOption('seed', values.seed, randomSeed(), 1),
      workerKills: intOption('worker-kills', values['worker-kills'], 3, 0),
      devServerRestarts: intOption('dev-server-restarts', values['dev-server-restarts'], 1, 0),
      emulatorRestarts: intOption('emulator-restarts', values['emulator-restarts'], 1, 0),
      clientKills: intOption('client-kills', values['client-kills'], 1, 0),
      concurrency: intOption('concurrency', values.concurrency, 50, 1),
      timeoutMs: intOption('timeout-minutes', values['timeout-minutes'], 20, 1) * 60_000,
      bonusKeyPairs: intOption('bonus-key-pairs', values['bonus-key-pairs'], 0, 0),
      listingLagMs: intOption('listing-lag-ms', values['listing-lag-ms'], 5000, 0),
      mturkRateLimit: intOption('mturk-rate-limit', values['mturk-rate-limit'], 20, 0),
      resets: intOption('resets', values.resets, 20, 0),
    };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const client = values.client ?? 'pay';
  const workerEntry = values['worker-entry'] ?? 'worker';
  if (
    (client !== 'pay' && client !== 'cli') ||
    (workerEntry !== 'cli' && workerEntry !== 'worker')
  ) {
    console.error(`--client must be pay or cli, --worker-entry worker or cli\n${USAGE}`);
    return 2;
  }
  console.log(`chaos: seed ${options.seed} (repeat with --seed ${options.seed})`);
  const summary = await runCampaign({
    ...options,
    faults: values['no-faults'] ? false : undefined,
    keepWorkDir: values.keep,
    rerun: !values['no-rerun'],
    client,
    workerEntry,
  });
  const outDir = path.resolve(values.out ?? path.join(ROOT, 'bench', 'results', 'chaos'));
  mkdirSync(outDir, { recursive: true });
  const stamp = summary.startedAt.replace(/[:.]/g, '-');
  const file = path.join(outDir, `${stamp}-seed${summary.seed}.json`);
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  printSummary(summary, file);
  // A reset or a rerun that paid anything is money wrong too (the ledger check sees it as a
  // duplicate; counted here as well so the exit code does not depend on that).
  const paidAgain = (summary.resets?.newBonuses ?? 0) + (summary.rerun?.newBonuses ?? 0);
  if (
    summary.payments.duplicated > 0 ||
    summary.payments.missing > 0 ||
    !summary.exact ||
    paidAgain > 0
  )
    return 1;
  // Money exact, but the campaign did not break what it promised to (or timed out).
  return summary.problems.length > 0 ? 3 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
