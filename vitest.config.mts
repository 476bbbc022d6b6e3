import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/**
 * Two projects. `npm test` (vitest run) runs both; `npx vitest run --project unit` runs the fast
 * ones alone, without a Temporal dev server.
 *
 * - unit: the files listed below. They need no Temporal server: pure functions, CSV parsing, the
 *   MTurk emulator over HTTP, MockActivityEnvironment, replaying recorded histories (the native
 *   bridge, no server), the CLI pointed away from Temporal. No global setup.
 * - integration: every other test file. One `temporal server start-dev` for the whole run
 *   (test/harness/global-setup.ts), shared by every file through inject('temporalAddress').
 *
 * A new test file lands in integration unless it is added here, so nothing is skipped and nothing
 * runs without the server it might need.
 */
const UNIT = [
  'test/activities/mturk-activities.test.ts',
  'test/activities/notify-activities.test.ts',
  'test/cli/audit.test.ts',
  'test/cli/csv-input.test.ts',
  'test/devserver/temporal-cli.test.ts',
  'test/emulator/api.test.ts',
  'test/emulator/bonus.test.ts',
  'test/emulator/faults.test.ts',
  'test/emulator/http.test.ts',
  'test/emulator/notify.test.ts',
  'test/emulator/persistence.test.ts',
  'test/emulator/rate-limit.test.ts',
  'test/production/codec.test.ts',
  'test/production/replay.test.ts',
  'test/production/temporal-config.test.ts',
  'test/unit/audit-check.test.ts',
  'test/unit/failures.test.ts',
  'test/unit/money.test.ts',
  'test/unit/mturk-client.test.ts',
  'test/unit/mturk-errors.test.ts',
  'test/unit/mturk-rate-limiter.test.ts',
  'test/unit/validation.test.ts',
  'test/unit/worker-memory.test.ts',
];

/**
 * What a unit file gets from inject('temporalAddress'): a host under `.invalid` (RFC 6761: never
 * resolves) rather than undefined. A unit file that reaches for the server through
 * test/harness/temporal.ts is refused there, with a message naming this file; one that connects
 * some other way (a spawned CLI, a client of its own) fails to connect, and cannot wander onto a
 * server someone runs on localhost:7233, where an unset address would lead.
 */
const NO_DEV_SERVER = 'no-temporal-dev-server-in-the-unit-project.invalid';

// A renamed or deleted unit file must not leave a stale entry behind: its new name would run in
// integration, and the list would silently stop describing the split.
const root = path.dirname(fileURLToPath(import.meta.url));
const missing = UNIT.filter((file) => !existsSync(path.join(root, file)));
if (missing.length > 0)
  throw new Error(
    `vitest.config.mts lists unit test files that do not exist: ${missing.join(', ')}`,
  );

export default defineConfig({
  test: {
    // The Temporal native bridge crashes in worker threads; child processes are fine.
    pool: 'forks',
    exclude: ['**/node_modules/**', 'test/fixtures/**'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Shared dev server; each test file uses its own task queue. Two cores: two files at a time.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: UNIT,
          provide: { temporalAddress: `${NO_DEV_SERVER}:7233`, temporalNamespace: NO_DEV_SERVER },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: UNIT,
          globalSetup: ['test/harness/global-setup.ts'],
        },
      },
    ],
  },
});
