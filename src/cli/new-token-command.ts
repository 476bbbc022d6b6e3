/**
 * `temporal-mturk pay-under-new-token <workflow-id>`: the operator's decision for a payment that
 * waits as `unconfirmed` (MTurk said its token was used, but its listing never showed the bonus).
 *
 * The payment never does this by itself: if the earlier call did pay, a new token pays the worker
 * a second time, and a double payment cannot be undone. So the command shows what it knows,
 * says what it risks, and needs `--yes` or the assignment ID typed on a terminal.
 */
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { PaymentStatus } from '../common/types';
import { confirmByTyping } from './confirm';
import { CliError, ExitCode, commandExitCode } from './exit-codes';
import { printer, processIO, type CliIO, type Print } from './io';
import { connectClient, resolveOptions, type CommonOptions } from './options';
import { queryWithin } from '../query-within';

export interface NewTokenOptions extends CommonOptions {
  yes?: boolean;
  /** Who decided and why; kept in the payment's history with the signal. */
  note?: string;
}

const QUERY_DEADLINE_MS = 10_000;

export async function runPayUnderNewToken(
  workflowId: string,
  opts: NewTokenOptions,
  io: CliIO = processIO(),
): Promise<number> {
  const print = printer(io);
  return commandExitCode('pay-under-new-token', print, () =>
    payUnderNewToken(workflowId, opts, io, print),
  );
}

async function payUnderNewToken(
  workflowId: string,
  opts: NewTokenOptions,
  io: CliIO,
  print: Print,
): Promise<number> {
  const resolved = resolveOptions(opts, io.env);
  const client = await connectClient(resolved.temporal, io.env);
  try {
    const handle = client.workflow.getHandle(workflowId);
    const status = await unconfirmedStatus(client, handle, workflowId);
    printRisk(print, workflowId, status);
    if (!opts.yes) await confirm(io, status);
    await handle.signal('payUnderNewToken', opts.note ? { note: opts.note } : {});
    print.out(
      `Sent payUnderNewToken to ${workflowId}: it looks at the ledger once more, then pays under the next token generation.`,
    );
    return ExitCode.Ok;
  } finally {
    await client.connection.close();
  }
}

/** The payment's status, if it waits as unconfirmed; otherwise there is nothing to decide. */
async function unconfirmedStatus(
  client: Client,
  handle: WorkflowHandle,
  workflowId: string,
): Promise<PaymentStatus> {
  let status: PaymentStatus;
  try {
    status = await queryWithin<PaymentStatus>(client, handle, QUERY_DEADLINE_MS, 'status');
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new CliError(`no payment ${workflowId}`, ExitCode.InvalidInput);
    }
    throw new CliError(
      `payment ${workflowId} does not answer its status query (is a worker running?): ${(err as Error).message}`,
      ExitCode.Error,
    );
  }
  if (status.state !== 'unconfirmed') {
    throw new CliError(
      `payment ${workflowId} is ${status.state}, not unconfirmed: nothing to decide, nothing sent`,
      ExitCode.InvalidInput,
    );
  }
  return status;
}

function printRisk(print: Print, workflowId: string, status: PaymentStatus): void {
  print.out(`Payment ${workflowId} is unconfirmed:`);
  print.out(`  worker ${status.workerId}, assignment ${status.assignmentId}, ${status.amount}`);
  print.out(
    `  MTurk refused token ${status.token ?? '?'} as used` +
      (status.originalRequestId ? ` by request ${status.originalRequestId}` : '') +
      ', but ListBonusPayments has never shown the bonus.',
  );
  print.out(
    `Risk: if that call did pay, a new token pays ${status.workerId} a second ${status.amount}, ` +
      'and a double payment cannot be undone. Check the requester site or MTurk support first.',
  );
}

/** The assignment ID typed on a terminal; without a terminal, only --yes can confirm. */
async function confirm(io: CliIO, status: PaymentStatus): Promise<void> {
  if (!io.stdin.isTTY || !io.stdout.isTTY) {
    throw new CliError(
      'not a terminal, so nobody can confirm: pass --yes. Nothing was sent.',
      ExitCode.NotConfirmed,
    );
  }
  const confirmed = await confirmByTyping(io, 'Pay under a new token?', status.assignmentId);
  if (!confirmed) throw new CliError('not confirmed; nothing was sent.', ExitCode.NotConfirmed);
}
