/**
 * Reproduces a missed payment: two bonuses for ONE assignment, told apart only by their bonusKey
 * (as the docs advise), with the same amount and reason. The second one's first SendBonus is
 * throttled (nothing is paid); its retry looks the payment up in ListBonusPayments, which lists
 * no token or key, finds the FIRST bonus (same assignment, worker, amount, reason) and reports
 * `already-paid`. The worker gets one bonus instead of two.
 *
 *   npx tsx scripts/chaos/repro-bonus-key.ts      (exit 1 when the payment is missed)
 */
import { Worker, DefaultLogger, Runtime } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { MTurkClient } from '@aws-sdk/client-mturk';
import path from 'node:path';
import { createMTurkActivities } from '../../src/activities';
import { payBonusAndWait } from '../../src/client';
import { startDevServer } from '../../tools/devserver/dev-server';
import { startEmulator } from '../../src/emulator';
import { sleep } from './processes';

async function main(): Promise<number> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const server = await startDevServer({ log: () => undefined });
  const emu = await startEmulator({ port: 0 });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace: server.namespace });
  const { NativeConnection } = await import('@temporalio/worker');
  const native = await NativeConnection.connect({ address: server.address });
  const mturk = new MTurkClient({
    region: 'us-east-1',
    endpoint: emu.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const taskQueue = 'repro-bonus-key';
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowsPath: path.join(__dirname, '..', '..', 'src', 'workflows'),
    activities: createMTurkActivities({ client: mturk }),
  });
  try {
    return await worker.runUntil(async () => {
      const { hits } = emu.seed({
        balance: '100.00',
        hits: [{ assignments: [{ workerId: 'AREPRO0000001' }] }],
      });
      const a = hits[0]!.assignments[0]!;
      const bonus = (bonusKey: string) => ({
        assignmentId: a.assignmentId,
        workerId: a.workerId,
        bonusAmount: '1.00',
        reason: 'Weekly bonus, thank you',
        bonusKey,
      });
      const options = {
        taskQueue,
        workflowOptions: { retryInitialInterval: '200ms', retryMaximumInterval: '1s' },
      };
      const first = await payBonusAndWait(client, bonus('week-1'), options);
      console.log(`week-1: ${first.bonus.status} (token ${first.bonus.token})`);

      // The next SendBonus is throttled: MTurk did nothing, Temporal retries.
      emu.setFaults({ seed: 1, operations: { SendBonus: { throttleRate: 1 } } });
      const before = emu.ledger().requests.SendBonus ?? 0;
      const pending = payBonusAndWait(client, bonus('week-2'), options);
      while ((emu.ledger().requests.SendBonus ?? 0) === before) await sleep(20);
      emu.setFaults({});
      const second = await pending;
      console.log(`week-2: ${second.bonus.status} (token ${second.bonus.token})`);

      const paid = emu.ledger().bonuses.filter((b) => b.assignmentId === a.assignmentId);
      console.log(`MTurk ledger: ${paid.length} bonus(es) for ${a.assignmentId}; 2 were asked for`);
      if (paid.length !== 2) {
        console.log('REPRODUCED: the second bonus was reported already-paid and never paid');
        return 1;
      }
      console.log('not reproduced: both bonuses were paid');
      return 0;
    });
  } finally {
    await native.close();
    await connection.close();
    await emu.stop();
    await server.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(2);
  },
);
