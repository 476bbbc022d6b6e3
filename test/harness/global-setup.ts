import type { TestProject } from 'vitest/node' with { 'resolution-mode': 'import' };
import { startDevServer, type DevServer } from '../../tools/devserver/dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
  }
}

let server: DevServer | undefined;

/** One real `temporal server start-dev` for the whole run, shared by every test file. */
export async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  server = await startDevServer({ log: (l) => console.log(l) });
  console.log(`temporal dev server ready in ${Date.now() - started} ms at ${server.address}`);
  project.provide('temporalAddress', server.address);
  project.provide('temporalNamespace', server.namespace);
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
  return async () => {
    await server?.stop();
  };
}
