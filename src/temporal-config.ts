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
  let loaded;
  try {
    loaded = loadClientConnectConfig({
      profile: env.TEMPORAL_PROFILE,
      overrideEnvVars: env as Record<string, string>,
    });
  } catch (err) {
    throw new Error(`Temporal client configuration: ${withoutExcerpt(err)}`);
  }
  const { connectionOptions, namespace = 'default' } = loaded;
  const address = connectionOptions.address ?? 'localhost:7233';
  const tls = connectionOptions.tls ? ', TLS' : '';
  const apiKey = connectionOptions.apiKey ? ', API key' : '';
  return {
    connectionOptions: { ...connectionOptions, address },
    namespace,
    description: `${address} namespace=${namespace}${tls}${apiKey}`,
  };
}

/**
 * The TOML parser quotes the offending line, which may be an `api_key = ...` line: keep the
 * error's first line and the line number only, so a typo never prints a key into a log.
 */
function withoutExcerpt(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const [first = '', ...rest] = message.split('\n');
  let line: string | undefined;
  for (const l of rest) {
    if (/^\s*\^/.test(l) && line !== undefined) break; // the caret marks the line above
    line = /^\s*(\d+):/.exec(l)?.[1] ?? line;
  }
  return line === undefined ? first : `${first} (line ${line})`;
}
