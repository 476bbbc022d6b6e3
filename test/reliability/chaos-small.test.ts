/**
 * The chaos campaign in small (`npm run chaos` is the full one): 200 bonuses through
 * `temporal-mturk pay` and the payBatch workflow while the emulator drops 10 % of SendBonus and
 * ApproveAssignment responses after committing them, answers 5 % with ServiceFault and 5 % with
 * throttling, and delays every call 20-200 ms, and its listing shows a bonus only 5 s after
 * the grant (so a lost SendBonus answer meets a listing without it); the worker process is
 * SIGKILLed once and the Temporal dev server is stopped and restarted once on its database.
 * Then the emulator's clock moves 25 h on (past MTurk's token memory) and 5 payment workflows
 * are reset to their first workflow task: each must end already-paid. The emulator's ledger
 * must match the input cent by cent: nobody paid twice, nobody missed.
 *
 * The rerun after deleting the workflows is left to `npm run chaos` (and, small, to
 * test/cli/over-time.test.ts): the dev server takes ~30 s to delete.
 *
 * It cannot use the run's shared dev server (it restarts its own), so the campaign starts one
 * with startDevServer({ dbFilename }) in a temp dir.
 */
import { describe, expect, it } from 'vitest';
import { runCampaign } from '../../scripts/chaos/campaign';

const SEED = 20261125;

describe('chaos, small', () => {
  it('pays 200 bonuses exactly once through faults, a worker kill and a server restart', async () => {
    const lines: string[] = [];
    const summary = await runCampaign({
      count: 200,
      seed: SEED,
      workerKills: 1,
      devServerRestarts: 1,
      emulatorRestarts: 0,
      clientKills: 0,
      listingLagMs: 5000,
      resets: 5,
      rerun: false,
      timeoutMs: 200_000,
      log: (line) => lines.push(line),
    });
    const context = `seed ${SEED}\n${lines.join('\n')}\n${JSON.stringify(summary, null, 2)}`;

    expect(summary.problems, context).toEqual([]);
    expect(summary.payments, context).toEqual({
      expected: 200,
      made: 200,
      duplicated: 0,
      missing: 0,
      wrong: 0,
      unexpected: 0,
    });
    expect(summary.exact, context).toBe(true);
    expect(summary.totals.paidBonus).toBe(summary.totals.expectedBonus);
    expect(summary.totals.paidFees).toBe(summary.totals.expectedFees);
    expect(summary.totals.balanceConsistent).toBe(true);
    // The chaos really happened.
    expect(summary.chaos.workerKills).toBe(1);
    expect(summary.chaos.devServerRestarts).toBe(1);
    expect(summary.faults.dropAfterCommit, context).toBeGreaterThan(0);
    expect(summary.faults.serviceFault, context).toBeGreaterThan(0);
    // Throttling as MTurk does it: the account's rate limit refused some calls.
    const rateLimited = Object.values(summary.rateLimited).reduce((a, b) => a + b, 0);
    expect(rateLimited, context).toBeGreaterThan(0);
    // What the product itself says agrees with the ledger.
    expect(summary.batch.counts?.failed).toBe(0);
    expect((summary.batch.counts?.paid ?? 0) + (summary.batch.counts?.alreadyPaid ?? 0)).toBe(200);
    expect(summary.cli).toMatchObject({ payExitCode: 0, statusExitCode: 0 });
    // 25 h later, past the token memory, a reset pays nothing again: the ledger says paid.
    expect(summary.resets, context).toMatchObject({
      planned: 5,
      done: 5,
      alreadyPaid: 5,
      foundBy: { listing: 5 },
      sendBonusCalls: 0,
      newBonuses: 0,
    });
    expect(summary.rerun).toBeNull();
    expect(summary.callsPerPayment?.byOperation.ListBonusPayments, context).toBeGreaterThanOrEqual(
      1,
    );
  }, 240_000);
});
