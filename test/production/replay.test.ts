/**
 * The versioning gate: every history in test/histories (recorded by scripts/record-history.ts
 * from real runs) must replay against the current workflow code. A change that would make a
 * running payment take another path fails here, before it reaches a worker; such changes go
 * through `patched()` (see docs/production.md).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { DefaultLogger, Runtime, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { beforeAll, describe, expect, it } from 'vitest';
import { workflowBundle } from '../harness/mturk';

const HISTORIES = path.join(__dirname, '..', 'histories');
const files = readdirSync(HISTORIES).filter((f) => f.endsWith('.json'));

function load(file: string): unknown {
  return JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
}

beforeAll(() => {
  // Replays log their own nondeterminism at WARN; the assertions say what matters.
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // already installed in this process
  }
});

describe('recorded histories', () => {
  it('include a happy-path approveAndBonus', () => {
    expect(files).toContain('approve-and-bonus-v1.json');
  });

  it('all replay against the current workflow code', async () => {
    const results = Worker.runReplayHistories(
      { workflowBundle: await workflowBundle() },
      files.map((file) => ({ workflowId: file, history: load(file) })),
    );
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of results) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
  });

  it('catch an incompatible change (paying before approving)', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: path.join(__dirname, 'fixtures', 'reordered-workflows.ts'),
      logger: new DefaultLogger('ERROR'),
    });
    await expect(
      Worker.runReplayHistory({ workflowBundle: bundle }, load('approve-and-bonus-v1.json')),
    ).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
