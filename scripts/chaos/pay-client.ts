/**
 * The paying client of a chaos run when the `temporal-mturk pay` command is not used: its own
 * process, so it can be killed mid-batch and run again. Starts `payBatch` under a fixed
 * workflow ID (a rerun attaches to the batch already running, or reads the finished one's
 * result), waits for the result and writes it to `--out`.
 *
 *   node --import tsx scripts/chaos/pay-client.ts --job job.json --out result.json
 *
 * job.json: { "workflowId", "taskQueue", "input": PayBatchInput }. Temporal from
 * TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  Client,
  Connection,
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import type { PayBatchInput, PayBatchResult } from '../../src/workflows/batch';

export interface PayJob {
  workflowId: string;
  taskQueue: string;
  input: PayBatchInput;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { job: { type: 'string' }, out: { type: 'string' } },
    strict: true,
  });
  if (!values.job || !values.out) throw new Error('usage: pay-client --job FILE --out FILE');
  const job = JSON.parse(readFileSync(values.job, 'utf8')) as PayJob;
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  try {
    let handle = client.workflow.getHandle(job.workflowId);
    try {
      handle = await client.workflow.start('payBatch', {
        taskQueue: job.taskQueue,
        workflowId: job.workflowId,
        args: [job.input],
        // A rerun attaches to the running batch; a finished batch is never started again.
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      console.log(`pay-client: batch ${job.workflowId} started, or attached to the running one`);
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      console.log(`pay-client: batch ${job.workflowId} already finished; reading its result`);
    }
    const result = (await handle.result()) as PayBatchResult;
    writeFileSync(values.out, JSON.stringify(result));
    console.log(`pay-client: done ${JSON.stringify(result.counts)}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error(`pay-client: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
