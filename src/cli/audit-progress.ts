/**
 * Progress of an audit's listings on stderr (stdout carries the result): a bar on a terminal,
 * else a plain line at most every 2 s, and only for runs long enough to need one.
 */
import { Presets, SingleBar } from 'cli-progress';
import { printer, type CliIO } from './io';
import { formatDuration } from './progress';

export interface AuditProgress {
  done(bonuses: number): void;
  retried(): void;
  grow(by: number): void;
  stop(): void;
}

export function auditProgress(io: CliIO, total: number): AuditProgress {
  return io.stderr.isTTY && total > 10 ? barProgress(io, total) : lineProgress(io, total);
}

function barProgress(io: CliIO, total: number): AuditProgress {
  let bonuses = 0;
  let throttled = 0;
  const bar = new SingleBar(
    {
      stream: io.stderr as NodeJS.WriteStream,
      format:
        ' audit {bar} {value}/{total} listings | {bonuses} bonuses | retried {retried} | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    Presets.shades_classic,
  );
  bar.start(total, 0, { bonuses: 0, retried: 0 });
  return {
    done(n) {
      bonuses += n;
      bar.increment(1, { bonuses, retried: throttled });
    },
    retried() {
      throttled += 1;
      bar.update({ retried: throttled });
    },
    grow(by) {
      total += by;
      bar.setTotal(total);
    },
    stop: () => bar.stop(),
  };
}

function lineProgress(io: CliIO, total: number): AuditProgress {
  const started = Date.now();
  let done = 0;
  let bonuses = 0;
  let throttled = 0;
  const { err } = printer(io);
  let lastAt = started;
  const line = () => {
    const seconds = (Date.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    return (
      `audit: ${done}/${total} listings | ${bonuses} bonuses | retried ${throttled} | ` +
      `ETA ${rate > 0 ? formatDuration((total - done) / rate) : '?'}`
    );
  };
  return {
    done(n) {
      done += 1;
      bonuses += n;
      if (Date.now() - lastAt >= 2_000) {
        lastAt = Date.now();
        err(line());
      }
    },
    retried: () => void (throttled += 1),
    grow: (by) => void (total += by),
    stop() {
      // Only a run that printed progress says where it ended.
      if (lastAt !== started) err(line());
    },
  };
}
