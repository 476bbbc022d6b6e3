/**
 * A query that gives up. Answering a query takes a worker that replays the workflow; with no
 * worker on its task queue the server holds the query until the client's own deadline, far
 * longer than a progress bar, a status line or a restart decision should wait.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';

export function queryWithin<R, A extends unknown[] = []>(
  client: Client,
  handle: WorkflowHandle,
  deadlineMs: number,
  queryName: string,
  ...args: A
): Promise<R> {
  return client.connection.withDeadline(Date.now() + deadlineMs, () =>
    handle.query<R, A>(queryName, ...args),
  );
}
