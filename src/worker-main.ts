/**
 * `npm run worker`: Temporal from envconfig, MTurk target from MTURK_TARGET / MTURK_ENDPOINT
 * (see worker.ts). Kept small on purpose: it starts itself again with the worker's memory
 * settings (worker-memory.ts), and this first process only waits for it.
 */
import { runWorkerEntry } from './worker-memory';

runWorkerEntry({
  isWorker: true,
  run: () => import('./worker.js').then((w) => w.runWorkerFromEnv()),
});
