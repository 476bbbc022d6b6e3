import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEV_SERVER_DYNAMIC_CONFIG } from '../../tools/devserver/dev-server';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connectToDevServer, uniqueTaskQueue } from '../harness/temporal';

describe('the shared Temporal dev server', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectToDevServer();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow on a real worker and serves its history back', async () => {
    const taskQueue = uniqueTaskQueue('hello');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      workflowsPath: path.join(__dirname, 'workflows', 'hello.ts'),
      activities: { greet: async (name: string) => `hello, ${name}` },
    });
    const workflowId = `hello-${taskQueue}`;
    const result = await worker.runUntil(
      env.client.workflow.execute('hello', { taskQueue, workflowId, args: ['temporal'] }),
    );
    expect(result).toBe('hello, temporal');

    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const types = (history.events ?? []).map((e) => e.eventType);
    expect(types.length).toBeGreaterThan(5);
    expect(history.events?.at(-1)?.workflowExecutionCompletedEventAttributes).toBeTruthy();
  });

  it('has the project search attributes registered', async () => {
    const conn = env.connection;
    const res = await conn.operatorService.listSearchAttributes({ namespace: env.namespace });
    expect(Object.keys(res.customAttributes)).toEqual(
      expect.arrayContaining(['MTurkAssignmentId', 'MTurkWorkerId', 'MTurkBonusState']),
    );
  });

  it('runs with eager activity dispatch', () => {
    const port = inject('temporalAddress').split(':').at(-1)!;
    const commandLines = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
        } catch {
          return [];
        }
      });
    const server = commandLines.find(
      (argv) => argv.includes('start-dev') && argv[argv.indexOf('--port') + 1] === port,
    );
    expect(server).toBeDefined();
    expect(DEV_SERVER_DYNAMIC_CONFIG['system.enableActivityEagerExecution']).toBe(true);
    for (const [key, value] of Object.entries(DEV_SERVER_DYNAMIC_CONFIG)) {
      expect(server).toContain(`${key}=${JSON.stringify(value)}`);
    }
  });
});
