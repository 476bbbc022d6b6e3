#!/usr/bin/env node
/**
 * temporal-mturk: pay MTurk bonuses from a CSV file, exactly once, through Temporal.
 *
 *   temporal-mturk pay bonuses.csv [--dry-run] [--yes] [--skip-invalid] [--allow-wait]
 *   temporal-mturk status bonuses.csv | mturk-batch/<id>
 *   temporal-mturk worker
 *
 * Kept small on purpose: `worker` starts itself again with the worker's memory settings
 * (worker-memory.ts), and this first process only waits for it, so it loads nothing else.
 */
import { runWorkerEntry } from '../worker-memory';

if (require.main === module) {
  runWorkerEntry({
    isWorker: process.argv[2] === 'worker',
    run: () => import('./program.js').then((cli) => cli.runCli()),
  });
}
