/**
 * Following a running batch by polling its `progress` query: a progress bar on a terminal,
 * plain log lines otherwise (CI logs, files, pipes). Watching is read-only: stopping it, even
 * killing the process, does not affect the batch.
 */
import { Presets, SingleBar } from 'cli-progress';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type {
  BatchCounts,
  BatchProgress,
  BatchProgressRequest,
  PayBatchResult,
} from '../common/batch';
import { printer, type CliIO } from './io';
import { queryWithin } from '../query-within';

export interface FollowOptions {
  io: CliIO;
  /** Progress bar (true) or plain lines (false). */
  tty: boolean;
  total: number;
  taskQueue: string;
  pollMs?: number;
  /** Plain mode: at most one line per this many ms while counts change (default 2000). */
  lineEveryMs?: number;
}

const QUERY_DEADLINE_MS = 5_000;
/** After this long without an answer, say that a worker may be missing. */
const NO_ANSWER_NOTE_AFTER_MS = 10_000;

export function finishedCount(c: BatchCounts): number {
  return c.paid + c.alreadyPaid + c.failed;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatCounts(c: BatchCounts): string {
  return (
    `${finishedCount(c)}/${c.total} done | paid ${c.paid} | already paid ${c.alreadyPaid} | ` +
    `waiting for funds ${c.waitingForFunds} | failed ${c.failed} | in flight ${c.inFlight}` +
    (c.unconfirmed ? ` | unconfirmed ${c.unconfirmed}` : '')
  );
}

/** Rows per second since watching began, and the time left at that rate. */
class RateMeter {
  private first?: { at: number; done: number };
  measure(done: number, total: number, now = Date.now()): { rate: number; eta: string } {
    this.first ??= { at: now, done };
    const seconds = (now - this.first.at) / 1000;
    const rate = seconds > 0 ? (done - this.first.done) / seconds : 0;
    return { rate, eta: rate > 0 ? formatDuration((total - done) / rate) : '?' };
  }
}

interface Display {
  update(counts: BatchCounts): void;
  note(message: string): void;
  finish(counts?: BatchCounts): void;
}

function barDisplay(io: CliIO, total: number): Display {
  const meter = new RateMeter();
  const bar = new SingleBar(
    {
      stream: io.stdout as NodeJS.WriteStream,
      format:
        ' {bar} {value}/{total} | paid {paid} | already paid {alreadyPaid} | waiting {waiting} | ' +
        'failed {failed} | {rate}/s | ETA {timeLeft}',
      hideCursor: true,
      clearOnComplete: false,
      fps: 10,
    },
    Presets.shades_classic,
  );
  const payload = (c: BatchCounts) => {
    const { rate, eta } = meter.measure(finishedCount(c), c.total);
    return {
      paid: c.paid,
      alreadyPaid: c.alreadyPaid,
      waiting: c.waitingForFunds,
      failed: c.failed,
      rate: rate.toFixed(1),
      timeLeft: eta,
    };
  };
  let started = false;
  return {
    update(c) {
      if (!started) {
        bar.start(total, finishedCount(c), payload(c));
        started = true;
      } else {
        bar.update(finishedCount(c), payload(c));
      }
    },
    note(message) {
      // Above the bar, so the bar keeps its line.
      if (started) bar.stop();
      printer(io).out(message);
      started = false;
    },
    finish(c) {
      if (c) this.update(c);
      if (started) bar.stop();
    },
  };
}

function lineDisplay(io: CliIO, everyMs: number): Display {
  const meter = new RateMeter();
  const { out } = printer(io);
  let lastLine = '';
  let lastAt = 0;
  const line = (c: BatchCounts) => {
    const { rate, eta } = meter.measure(finishedCount(c), c.total);
    return `progress: ${formatCounts(c)} | ${rate.toFixed(1)}/s | ETA ${eta}`;
  };
  return {
    update(c) {
      const counts = formatCounts(c);
      if (counts === lastLine || Date.now() - lastAt < everyMs) return;
      lastLine = counts;
      lastAt = Date.now();
      out(line(c));
    },
    note: (message) => out(message),
    finish(c) {
      if (c && formatCounts(c) !== lastLine) out(line(c));
    },
  };
}

/** Polls `progress` until the batch closes; resolves with its result (throws as result() does). */
export async function followBatch(
  client: Client,
  handle: WorkflowHandle,
  opts: FollowOptions,
): Promise<PayBatchResult> {
  const result = handle.result() as Promise<PayBatchResult>;
  let closed = false;
  const settled = result.then(
    () => void (closed = true),
    () => void (closed = true),
  );
  const display = opts.tty
    ? barDisplay(opts.io, opts.total)
    : lineDisplay(opts.io, opts.lineEveryMs ?? 2_000);
  const pollMs = opts.pollMs ?? (opts.tty ? 250 : 500);
  let lastAnswerAt = Date.now();
  let noted = false;
  try {
    while (!closed) {
      try {
        const progress = await queryWithin<BatchProgress, [BatchProgressRequest]>(
          client,
          handle,
          QUERY_DEADLINE_MS,
          'progress',
          { limit: 0 },
        );
        lastAnswerAt = Date.now();
        display.update(progress.counts);
      } catch {
        if (!noted && !closed && Date.now() - lastAnswerAt > NO_ANSWER_NOTE_AFTER_MS) {
          noted = true;
          display.note(
            `(the batch does not answer: is a worker running on task queue "${opts.taskQueue}"? ` +
              'Start one with: temporal-mturk worker)',
          );
        }
      }
      await Promise.race([settled, new Promise((r) => setTimeout(r, pollMs))]);
    }
    const final = await result.catch(() => undefined);
    display.finish(final?.counts);
  } catch (err) {
    display.finish();
    throw err;
  }
  return result;
}
