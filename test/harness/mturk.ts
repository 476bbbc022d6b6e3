import { MTurkClient } from '@aws-sdk/client-mturk';
import {
  DefaultLogger,
  bundleWorkflowCode,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import path from 'node:path';

/** The real AWS SDK client, pointed at the emulator; Temporal owns retries, so one attempt. */
export function emulatorClient(url: string): MTurkClient {
  return new MTurkClient({
    region: 'us-east-1',
    endpoint: url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** Bundling takes seconds: once per test file (process) is enough. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: path.join(__dirname, '..', '..', 'src', 'workflows'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}
