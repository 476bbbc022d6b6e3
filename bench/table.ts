/** The printed results table of a result file. */
import type { BenchResult } from './schema';
import type { Spread } from './stats';

function cell(s: Spread | null, digits = 0): string {
  if (!s) return '-';
  const f = (v: number) => v.toFixed(digits);
  return s.min === s.max ? f(s.median) : `${f(s.median)} (${f(s.min)}-${f(s.max)})`;
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

export function formatTable(result: BenchResult): string {
  const header = [
    'case',
    'latency',
    'N',
    'reps',
    'bonuses/s median (min-max)',
    'wall s',
    'p50 ms',
    'p99 ms',
    'worker RSS MB',
    'worker CPU s',
    'server CPU s',
    'CPU ms/bonus srv+wrk',
  ];
  const rows = result.summary.map((s) => [
    s.case,
    `${s.latencyMs} ms`,
    String(s.n),
    String(s.reps),
    cell(s.throughput, 1),
    cell(
      s.wallMs && {
        median: s.wallMs.median / 1000,
        min: s.wallMs.min / 1000,
        max: s.wallMs.max / 1000,
      },
      1,
    ),
    cell(s.completionP50Ms),
    cell(s.completionP99Ms),
    cell(s.workerPeakRssMB),
    cell(s.workerCpuS, 1),
    cell(s.serverCpuS, 1),
    s.serverCpuS && s.workerCpuS
      ? `${Math.round((s.serverCpuS.median / s.n) * 1000)}+${Math.round((s.workerCpuS.median / s.n) * 1000)}`
      : '-',
  ]);
  const lines = [pad([header, ...rows]), ''];
  const limited = result.runs.find((r) => r.case === 'rate-limited');
  if (limited?.activities) {
    lines.push(
      `rate-limited: maxTaskQueueActivitiesPerSecond ${limited.activities.limitPerSecond}: ` +
        `${limited.activities.count} activities at ${limited.activities.avgPerSecond}/s on average, ` +
        `at most ${limited.activities.peak1s} in any 1 s`,
    );
  }
  const paced = result.runs.filter((r) => r.mturk);
  if (paced.length > 0) {
    const head = ['MTurk limit', 'workers', 'N', 'payments/s', 'calls/payment', 'achievable/s'];
    const rows = paced.map((r) => [
      `${r.mturk!.limitPerSecond}/s`,
      String(r.mturk!.workers),
      String(r.n),
      String(r.throughput),
      String(r.mturk!.callsPerPayment),
      String(r.mturk!.achievablePerSecond),
      `${(r.mturk!.fractionOfAchievable * 100).toFixed(1)} %`,
      `${(r.mturk!.throttledShare * 100).toFixed(1)} % (${r.mturk!.throttled}/${r.mturk!.requests})`,
      r.completionMs ? `${r.completionMs.p50} / ${r.completionMs.p99} ms` : '-',
      r.ledger.verified ? 'ok' : 'VOID',
    ]);
    lines.push(
      pad([[...head, 'of achievable', 'throttled', 'p50 / p99 completion', 'ledger'], ...rows]),
      '',
    );
  }
  const voidRuns = result.runs.filter((r) => !r.ledger.verified);
  for (const r of voidRuns) {
    lines.push(`VOID ${r.case} ${r.latencyMs} ms rep ${r.rep}: ${r.ledger.note}`);
  }
  lines.push('targets:');
  for (const t of result.targets) {
    const verdict = t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED';
    const measured = t.measured === null ? '-' : String(t.measured);
    lines.push(
      `  ${t.name}: ${measured} ${t.comparator} ${t.threshold}: ${verdict} (${t.description})`,
    );
    if (t.detail) lines.push(`    ${t.detail}`);
  }
  lines.push(
    `load average ${result.machine.loadAvgStart.join(' ')} at start, ${result.machine.loadAvgEnd.join(' ')} at end; ` +
      `${result.machine.cpus} CPUs; ${result.durationS} s`,
  );
  return lines.join('\n');
}
