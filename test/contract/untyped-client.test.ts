/**
 * The contract as a client in another language sees it: workflow types, queries and failures
 * by name, input and result as plain JSON. No types or helpers from src/ on the calling side.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../../src/emulator';
import { FailureType } from '../../src/common/errors';
import * as workflows from '../../src/workflows';
import { startTestWorker, type TestWorker } from '../harness/mturk';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';

let env: TestWorkflowEnvironment;
let emu: RunningEmulator;
let worker: TestWorker;
let taskQueue: string;
let client: Client;

beforeAll(async () => {
  env = await connectToDevServer();
  client = env.client;
  emu = await startEmulator({ port: 0 });
  taskQueue = uniqueTaskQueue('contract');
  worker = await startTestWorker(env, emu.url, taskQueue);
});
afterAll(async () => {
  await worker?.stop();
  await emu?.stop();
  await env?.teardown();
});

/** What another language would send: a JSON document, parsed. */
function json(text: string): unknown {
  return JSON.parse(text);
}

describe('approveAndBonus by name with plain JSON', () => {
  it('returns the documented result shape', async () => {
    const { hits } = emu.seed({
      balance: '20.00',
      hits: [{ assignments: [{ assignmentId: 'CONTRACTA0001', workerId: 'ACONTRACT0001' }] }],
    });
    expect(hits[0]!.assignments[0]!.assignmentId).toBe('CONTRACTA0001');
    const handle = await client.workflow.start('approveAndBonus', {
      taskQueue,
      workflowId: 'mturk-bonus/CONTRACTA0001',
      args: [
        json(
          '{"assignmentId":"CONTRACTA0001","workerId":"ACONTRACT0001","bonusAmount":"1.5",' +
            '"reason":"  Thanks for the careful work  ","requesterFeedback":"Well done"}',
        ),
      ],
    });
    const result: unknown = JSON.parse(JSON.stringify(await handle.result()));
    expect(result).toEqual({
      assignmentId: 'CONTRACTA0001',
      workerId: 'ACONTRACT0001',
      approval: {
        status: 'approved',
        assignmentId: 'CONTRACTA0001',
        requestId: expect.any(String),
      },
      bonus: {
        status: 'paid',
        amount: '1.50', // normalised
        token: expect.stringMatching(/^tm1-0-[0-9a-f]{48}$/),
        requestId: expect.any(String),
      },
      reason: 'Thanks for the careful work', // trimmed, as sent to MTurk
    });
    expect(emu.ledger().bonuses[0]?.reason).toBe('Thanks for the careful work'); // trimmed

    const status: unknown = JSON.parse(JSON.stringify(await handle.query('status')));
    expect(status).toMatchObject({
      state: 'paid',
      assignmentId: 'CONTRACTA0001',
      workerId: 'ACONTRACT0001',
      amount: '1.50',
      tokenGeneration: 0,
      token: expect.stringMatching(/^tm1-0-/),
    });
  });

  it('fails with type InvalidBonusRequest and per-field issues, calling MTurk not at all', async () => {
    const before = emu.ledger().requests;
    const err = await client.workflow
      .execute('approveAndBonus', {
        taskQueue,
        workflowId: 'mturk-bonus/CONTRACTBAD01',
        args: [
          json('{"assignmentId":"CONTRACTBAD01","workerId":"bad","bonusAmount":"$5","reason":""}'),
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const failure = (err as WorkflowFailedError).cause as ApplicationFailure;
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure.type).toBe('InvalidBonusRequest');
    expect(failure.nonRetryable).toBe(true);
    const [details] = failure.details as [{ issues: { field: string; message: string }[] }];
    expect(details.issues.map((i) => i.field).sort()).toEqual([
      'bonusAmount',
      'reason',
      'workerId',
    ]);
    expect(emu.ledger().requests).toEqual(before);
  });
});

describe('docs/contract.md', () => {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'contract.md'), 'utf8');

  it('names every workflow type, query and signal the package exports', () => {
    const exported = Object.entries(workflows);
    const workflowTypes = exported.filter(([, v]) => typeof v === 'function').map(([k]) => k);
    expect(workflowTypes).toEqual(expect.arrayContaining(['approveAndBonus', 'reviewHit']));
    for (const name of workflowTypes) expect(doc).toContain(`\`${name}\``);
    const definitions = exported
      .map(([, v]) => v as { name?: unknown; type?: unknown })
      .filter((v) => v && typeof v === 'object' && typeof v.name === 'string');
    for (const d of definitions) expect(doc).toContain(`\`${String(d.name)}\``);
  });

  it('names every failure type', () => {
    for (const type of Object.values(FailureType)) expect(doc).toContain(`\`${type}\``);
  });
});
