import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** Where the worker listens unless told otherwise; the CLI uses the same default. */
export const DEFAULT_TASK_QUEUE = 'temporal-mturk';

export interface TemporalTarget {
  connectionOptions: NativeConnectionOptions;
  namespace: string;
  /** For logs: address and namespace only, never keys or certificates. */
  description: string;
}

/**
 * The Temporal connection from the standard environment configuration (TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, TEMPORAL_PROFILE and the TOML profile
 * file), so the same worker runs unchanged against a dev server or Temporal Cloud.
 */
export function temporalTargetFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const { connectionOptions, namespace = 'default' } = loadClientConnectConfig({
    profile: env.TEMPORAL_PROFILE,
    overrideEnvVars: env as Record<string, string>,
  });
  const address = connectionOptions.address ?? 'localhost:7233';
  const tls = connectionOptions.tls ? ', TLS' : '';
  const apiKey = connectionOptions.apiKey ? ', API key' : '';
  return {
    connectionOptions: { ...connectionOptions, address },
    namespace,
    description: `${address} namespace=${namespace}${tls}${apiKey}`,
  };
}
