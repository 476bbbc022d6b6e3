/**
 * The benchmark harness end to end, tiny: N=20, one repetition, no injected latency, on the test
 * run's shared dev server. Asserts the result file's shape and the chart, never timings.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { runBench } from '../../bench/harness';
import { resultSchema } from '../../bench/schema';

const outDir = mkdtempSync(path.join(os.tmpdir(), 'bench-smoke-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('bench harness', () => {
  it('writes a well-formed result file and chart', { timeout: 120_000 }, async () => {
    const output = await runBench({
      n: 20,
      reps: 1,
      latenciesMs: [0],
      cases: ['sequential', 'promise-pool', 'temporal-mturk', 'floor'],
      outDir,
      temporalAddress: inject('temporalAddress'),
      namespace: inject('temporalNamespace'),
      log: () => undefined,
    });

    expect(readdirSync(outDir).sort()).toEqual(
      [path.basename(output.jsonPath), path.basename(output.svgPath)].sort(),
    );
    const result = resultSchema.parse(JSON.parse(readFileSync(output.jsonPath, 'utf8')));
    expect(result.config.n).toBe(20);
    expect(result.runs.map((r) => r.case)).toEqual([
      'sequential',
      'promise-pool',
      'temporal-mturk',
      'floor',
    ]);
    for (const run of result.runs) {
      expect(run.ledger.verified, `${run.case}: ${run.ledger.note}`).toBe(true);
      expect(run.n).toBe(20);
      expect(run.throughput).toBeGreaterThan(0);
    }
    const temporal = result.runs.find((r) => r.case === 'temporal-mturk')!;
    expect(temporal.ledger.bonuses).toBe(20);
    expect(temporal.completionMs).not.toBeNull();
    expect(result.summary).toHaveLength(4);
    expect(result.targets.map((t) => t.name)).toContain('share-of-floor');

    const svg = readFileSync(output.svgPath, 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('temporal-mturk');
    expect(output.table).toContain('floor');
  });
});
