/**
 * The chart of a result file, as a hand-written SVG: throughput per case (median bar, min-max
 * whisker) and per-bonus completion latency (p50 and p99), both on log scales, grouped by
 * injected latency.
 */
import type { BenchResult, CaseName, CaseSummary } from './schema';

export const CASE_COLORS: Record<CaseName, string> = {
  sequential: '#8c8c8c',
  'promise-pool': '#f28e2b',
  'temporal-mturk': '#4e79a7',
  floor: '#59a14f',
  scaling: '#76b7b2',
  'rate-limited': '#e15759',
  'mturk-rate-limited': '#b07aa1',
};

interface Bar {
  label: string;
  color: string;
  value: number;
  min?: number;
  max?: number;
  /** Lighter fill (p99 next to p50). */
  light?: boolean;
}

interface Group {
  label: string;
  bars: Bar[];
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function fmt(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  if (value >= 100) return String(Math.round(value));
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** One panel: grouped bars on a log10 y axis. */
function panel(
  x: number,
  y: number,
  width: number,
  height: number,
  title: string,
  groups: Group[],
): string {
  const out: string[] = [];
  const values = groups.flatMap((g) =>
    g.bars.flatMap((b) => [b.value, b.min ?? b.value, b.max ?? b.value]),
  );
  const positive = values.filter((v) => v > 0);
  out.push(
    `<text x="${x + width / 2}" y="${y - 12}" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  );
  if (positive.length === 0) {
    out.push(
      `<text x="${x + width / 2}" y="${y + height / 2}" text-anchor="middle">no data</text>`,
    );
    return out.join('\n');
  }
  const lo = Math.floor(Math.log10(Math.min(...positive)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...positive)) + 0.15));
  const yOf = (v: number) =>
    y + height - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * height;
  out.push(
    `<rect x="${x}" y="${y}" width="${width}" height="${height}" fill="none" stroke="#ccc"/>`,
  );
  for (let p = lo; p <= hi; p++) {
    const gy = yOf(10 ** p);
    const tick = p >= 3 ? `${10 ** (p - 3)}k` : String(10 ** p);
    out.push(
      `<line x1="${x}" y1="${gy}" x2="${x + width}" y2="${gy}" stroke="#e5e5e5"/>`,
      `<text x="${x - 6}" y="${gy + 4}" text-anchor="end" font-size="11">${tick}</text>`,
    );
  }
  const groupWidth = width / Math.max(groups.length, 1);
  groups.forEach((group, gi) => {
    const gx = x + gi * groupWidth;
    const barWidth = Math.min(34, (groupWidth - 16) / Math.max(group.bars.length, 1));
    const start = gx + (groupWidth - barWidth * group.bars.length) / 2;
    group.bars.forEach((bar, bi) => {
      const bx = start + bi * barWidth;
      const by = yOf(bar.value);
      out.push(
        `<rect x="${bx + 1}" y="${by}" width="${barWidth - 2}" height="${y + height - by}" fill="${bar.color}" fill-opacity="${bar.light ? 0.45 : 0.9}"><title>${esc(`${bar.label}: ${fmt(bar.value)}`)}</title></rect>`,
      );
      if (bar.min !== undefined && bar.max !== undefined && bar.max > bar.min) {
        const cx = bx + barWidth / 2;
        out.push(
          `<line x1="${cx}" y1="${yOf(bar.min)}" x2="${cx}" y2="${yOf(bar.max)}" stroke="#222"/>`,
          `<line x1="${cx - 4}" y1="${yOf(bar.min)}" x2="${cx + 4}" y2="${yOf(bar.min)}" stroke="#222"/>`,
          `<line x1="${cx - 4}" y1="${yOf(bar.max)}" x2="${cx + 4}" y2="${yOf(bar.max)}" stroke="#222"/>`,
        );
      }
      const labelY = Math.min(by, bar.max !== undefined ? yOf(bar.max) : by) - 4;
      out.push(
        `<text x="${bx + barWidth / 2}" y="${labelY}" text-anchor="middle" font-size="9">${fmt(bar.value)}</text>`,
      );
    });
    const lines = group.label
      .split('\n')
      .map(
        (line, i) =>
          `<tspan x="${gx + groupWidth / 2}" dy="${i === 0 ? 0 : 13}">${esc(line)}</tspan>`,
      )
      .join('');
    out.push(
      `<text x="${gx + groupWidth / 2}" y="${y + height + 16}" text-anchor="middle" font-size="12">${lines}</text>`,
    );
  });
  return out.join('\n');
}

function groupLabel(s: CaseSummary, result: BenchResult): string {
  if (s.case === 'rate-limited') {
    return `limit ${result.config.rateLimit.perSecond} act/s\nN=${s.n}\n${s.latencyMs} ms`;
  }
  if (s.case === 'scaling') return `scaling\nN=${s.n}\n${s.latencyMs} ms`;
  if (s.n !== result.config.n) return `${s.latencyMs} ms\nN=${s.n}`;
  return `${s.latencyMs} ms`;
}

function groupsOf(result: BenchResult, bars: (s: CaseSummary) => Bar[]): Group[] {
  const groups = new Map<string, Group>();
  for (const s of result.summary) {
    const label = groupLabel(s, result);
    const group = groups.get(label) ?? { label, bars: [] };
    group.bars.push(...bars(s));
    groups.set(label, group);
  }
  return [...groups.values()];
}

export function renderChart(result: BenchResult): string {
  const width = 1100;
  const height = 540;
  const throughput = groupsOf(result, (s) => [
    {
      label: `${s.case} ${s.latencyMs} ms N=${s.n}`,
      color: CASE_COLORS[s.case],
      value: s.throughput.median,
      min: s.throughput.min,
      max: s.throughput.max,
    },
  ]);
  const latency = groupsOf(result, (s) =>
    s.completionP50Ms && s.completionP99Ms
      ? [
          {
            label: `${s.case} p50`,
            color: CASE_COLORS[s.case],
            value: s.completionP50Ms.median,
            min: s.completionP50Ms.min,
            max: s.completionP50Ms.max,
          },
          {
            label: `${s.case} p99`,
            color: CASE_COLORS[s.case],
            value: s.completionP99Ms.median,
            min: s.completionP99Ms.min,
            max: s.completionP99Ms.max,
            light: true,
          },
        ]
      : [],
  );
  const cases = [...new Set(result.summary.map((s) => s.case))];
  const legend = cases
    .map((c, i) => {
      const lx = 70 + i * 160;
      return (
        `<rect x="${lx}" y="${height - 34}" width="14" height="14" fill="${CASE_COLORS[c]}"/>` +
        `<text x="${lx + 20}" y="${height - 22}" font-size="12">${esc(c)}</text>`
      );
    })
    .join('\n');
  const { config, machine } = result;
  const subtitle =
    `N=${config.n}, ${config.reps} rep(s), median with min-max; ${machine.cpus} CPUs, ` +
    `load ${machine.loadAvgStart[0]} at start; ${result.startedAt}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${width / 2}" y="24" text-anchor="middle" font-size="17" font-weight="bold">temporal-mturk: approve + bonus against the MTurk emulator</text>
<text x="${width / 2}" y="44" text-anchor="middle" font-size="12" fill="#555">${esc(subtitle)}</text>
${panel(70, 90, 460, 340, 'Throughput, bonuses/s (log scale)', throughput)}
${panel(610, 90, 460, 340, 'Completion since batch start, ms: p50 solid, p99 light', latency)}
${legend}
</svg>
`;
}
