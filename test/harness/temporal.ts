import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';

// Activity retries are expected in fault tests; keep the runtime's warnings out of the output.
let runtimeInstalled = false;
function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

/**
 * The run's shared dev server (started by global-setup.ts, in the `integration` project only).
 * A test file in the `unit` project gets no address (or the `.invalid` stand-in vitest.config.mts
 * provides there): refused here at once, rather than a connection that times out or finds another
 * server on localhost:7233.
 */
export function devServerTarget(): { address: string; namespace: string } {
  const address = inject('temporalAddress') as string | undefined;
  const namespace = inject('temporalNamespace') as string | undefined;
  if (!address || !namespace || /\.invalid(:\d+)?$/.test(address))
    throw new Error(
      `This test file needs the Temporal dev server, but its Vitest project started none ` +
        `(inject('temporalAddress') is ${JSON.stringify(address)}). Only the 'integration' ` +
        `project runs test/harness/global-setup.ts: take the file out of the UNIT list in ` +
        `vitest.config.mts.`,
    );
  return { address, namespace };
}

/** Connects to the run's shared dev server (started by global-setup.ts). */
export async function connectToDevServer(): Promise<TestWorkflowEnvironment> {
  const { address, namespace } = devServerTarget();
  quietRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
}

/** Each test gets its own task queue so test files can share one server. */
export function uniqueTaskQueue(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
