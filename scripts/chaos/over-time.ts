/**
 * What happens to a finished chaos batch over time (issue 11, "exactly-once over time"): the
 * phases the campaign runs after the batch has finished.
 *
 * - A reset 25 h later: the emulator's clock moves past MTurk's 24 h token memory, so the token
 *   no longer guards anything, and a sample of the finished payment workflows is reset to their
 *   first workflow task (`temporal workflow reset --type FirstWorkflowTask`). Each new run must
 *   find the bonus on MTurk's ledger and end `already-paid`.
 * - A rerun after retention: the batch and payment workflows are deleted (as namespace retention
 *   does), then `temporal-mturk pay` runs on the same file; only MTurk's ledger remembers.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ReportSummary } from '../../src/cli/report';
import type { ApproveAndBonusResult } from '../../src/common/types';
import { sleep } from './processes';

/** Examples of what went wrong kept in the summary (the rest are counted). */
const EXAMPLES = 20;

export interface ResetPhaseResult {
  /** Payment workflows picked for a reset. */
  planned: number;
  /** How far the emulator's clock was moved first (ms). */
  clockAdvancedMs: number;
  /** Resets issued whose new run finished. */
  done: number;
  /** Of done: new runs that ended `already-paid`, by how they found the bonus. */
  alreadyPaid: number;
  foundBy: Record<string, number>;
  /** Resets that did not end `already-paid` (up to 20), with what happened instead. */
  failures: { workflowId: string; problem: string }[];
  /** SendBonus requests and ledger bonuses added during the phase (both must be 0). */
  sendBonusCalls: number;
  newBonuses: number;
  timeMs: number;
}

export interface RerunPhaseResult {
  /** Workflow IDs deleted (the batch and its payments) and executions (runs) deleted. */
  workflowIds: number;
  executionsDeleted: number;
  /** From the first deletion until every ID was gone (describe throws WorkflowNotFoundError). */
  deletionWaitMs: number;
  /** IDs still found when the wait gave up (0 on a good run). */
  notDeleted: number;
  /** The rerun's exit code and its report's summary (null when it did not run or report). */
  exitCode: number | null;
  report: Pick<
    ReportSummary,
    | 'payments'
    | 'paid'
    | 'alreadyPaid'
    | 'alreadyPaidByListing'
    | 'alreadyPaidByToken'
    | 'alreadyPaidByWorkflow'
    | 'failed'
    | 'conflicts'
    | 'unconfirmed'
    | 'paidNow'
  > | null;
  /** SendBonus requests and ledger bonuses added by the rerun (both must be 0). */
  sendBonusCalls: number;
  newBonuses: number;
  /** The rerun's own time (the deletion wait not included). */
  timeMs: number;
}

/** Runs `fn` over `items`, `width` at a time (the dev server is shared with the worker). */
export async function inBatches<T, R>(
  items: readonly T[],
  width: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = [];
  for (let i = 0; i < items.length; i += width) {
    out.push(...(await Promise.all(items.slice(i, i + width).map(fn))));
  }
  return out;
}

/**
 * Resets the workflow's current run to its first WorkflowTaskCompleted, as
 * `temporal workflow reset --type FirstWorkflowTask` does; returns the new run's ID.
 */
export async function resetToFirstWorkflowTask(
  client: Client,
  workflowId: string,
  reason: string,
): Promise<string> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const first = history.events?.find((e) => e.workflowTaskCompletedEventAttributes);
  if (!first?.eventId) throw new Error(`${workflowId} has no completed workflow task`);
  const { runId } = await client.workflowService.resetWorkflowExecution({
    namespace: client.options.namespace,
    workflowExecution: { workflowId },
    workflowTaskFinishEventId: first.eventId,
    requestId: randomUUID(),
    reason,
  });
  if (!runId) throw new Error(`reset of ${workflowId} returned no run ID`);
  return runId;
}

/**
 * Resets every workflow of `workflowIds` and waits for the new runs (at most `timeoutMs` each).
 * The caller has moved the clock and counts SendBonus and ledger bonuses around it.
 */
export async function resetAndWait(
  client: Client,
  workflowIds: readonly string[],
  timeoutMs: number,
): Promise<Pick<ResetPhaseResult, 'done' | 'alreadyPaid' | 'foundBy' | 'failures'>> {
  const out: Pick<ResetPhaseResult, 'done' | 'alreadyPaid' | 'foundBy' | 'failures'> = {
    done: 0,
    alreadyPaid: 0,
    foundBy: {},
    failures: [],
  };
  const fail = (workflowId: string, problem: string) => {
    if (out.failures.length < EXAMPLES) out.failures.push({ workflowId, problem });
  };
  await inBatches(workflowIds, 10, async (workflowId) => {
    let runId: string;
    try {
      runId = await resetToFirstWorkflowTask(
        client,
        workflowId,
        'chaos: operator reset 25 h after the payment',
      );
    } catch (err) {
      fail(workflowId, `reset refused: ${(err as Error).message}`);
      return;
    }
    let result: ApproveAndBonusResult;
    try {
      result = (await Promise.race([
        client.workflow.getHandle(workflowId, runId).result(),
        sleep(timeoutMs).then(() => {
          throw new Error(`the new run ${runId} did not finish within ${timeoutMs} ms`);
        }),
      ])) as ApproveAndBonusResult;
    } catch (err) {
      fail(workflowId, `new run ${runId}: ${(err as Error).message}`);
      return;
    }
    out.done += 1;
    if (result.bonus.status === 'already-paid') {
      out.alreadyPaid += 1;
      const how = result.bonus.foundBy ?? 'unknown';
      out.foundBy[how] = (out.foundBy[how] ?? 0) + 1;
    } else {
      fail(workflowId, `new run ${runId} ended ${result.bonus.status}`);
    }
  });
  return out;
}

/** gRPC NOT_FOUND: the execution is gone already (e.g. listed twice). */
function isNotFound(err: unknown): boolean {
  return (err as { code?: unknown }).code === 5 || err instanceof WorkflowNotFoundError;
}

/**
 * Deletes every run of `workflowIds` (`workflowService.deleteWorkflowExecution`, as namespace
 * retention would), then waits until none can be described any more. All deletions are issued
 * first because the dev server makes each visible only after ~30 s: one wait serves all.
 */
export async function deleteWorkflows(
  client: Client,
  workflowIds: readonly string[],
  opts: { timeoutMs: number; log: (line: string) => void },
): Promise<Pick<RerunPhaseResult, 'executionsDeleted' | 'deletionWaitMs' | 'notDeleted'>> {
  const namespace = client.options.namespace;
  const wanted = new Set(workflowIds);
  // Every run, not just the latest: the batch continues-as-new every 500 rows and a reset
  // leaves the run it replaced behind. The dev server belongs to this campaign, so one listing
  // of the namespace finds them all.
  const runs: { workflowId: string; runId?: string }[] = [];
  const listed = new Set<string>();
  for await (const info of client.workflow.list()) {
    if (!wanted.has(info.workflowId)) continue;
    runs.push({ workflowId: info.workflowId, runId: info.runId });
    listed.add(info.workflowId);
  }
  // Visibility may not show a workflow yet: its latest run is deleted by ID.
  for (const workflowId of workflowIds) if (!listed.has(workflowId)) runs.push({ workflowId });

  const started = Date.now();
  let executionsDeleted = 0;
  await inBatches(runs, 50, async (workflowExecution) => {
    try {
      await client.workflowService.deleteWorkflowExecution({ namespace, workflowExecution });
      executionsDeleted += 1;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  });
  opts.log(
    `deletion requested for ${executionsDeleted} executions of ${workflowIds.length} workflow IDs; ` +
      'waiting until they are gone',
  );

  let pending = [...workflowIds];
  const deadline = started + opts.timeoutMs;
  while (pending.length > 0 && Date.now() < deadline) {
    const stillThere = await inBatches(pending, 50, async (workflowId) => {
      try {
        await client.workflow.getHandle(workflowId).describe();
        return true;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return false;
        throw err;
      }
    });
    pending = pending.filter((_, i) => stillThere[i]);
    if (pending.length > 0) await sleep(1000);
  }
  return {
    executionsDeleted,
    deletionWaitMs: Date.now() - started,
    notDeleted: pending.length,
  };
}

/** Picks `n` distinct items, seeded (a Fisher-Yates prefix). */
export function sample<T>(items: readonly T[], n: number, random: () => number): T[] {
  const copy = [...items];
  const k = Math.min(n, copy.length);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy.slice(0, k);
}
