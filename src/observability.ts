/**
 * Metrics of the Temporal runtime (workflow and activity task latencies, schedule-to-start,
 * failures, poller counts) on a Prometheus endpoint, switched on by the environment:
 * `TEMPORAL_MTURK_METRICS=127.0.0.1:9464` serves them at http://127.0.0.1:9464/metrics.
 *
 * Logs need nothing here: the activities and workflows log through Temporal's loggers, which
 * attach workflowId, runId, activityId and attempt to every line, and our own fields add the
 * assignment, worker, amount, token and MTurk request ID.
 */
import { Runtime, type RuntimeOptions } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from './common/errors';

/** `host:port` or `[v6]:port`; a bare port means loopback. */
export function parseMetricsAddress(value: string): string {
  const text = value.trim();
  const bare = /^\d+$/.test(text) ? `127.0.0.1:${text}` : text;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(bare);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) {
    throw ApplicationFailure.nonRetryable(
      `TEMPORAL_MTURK_METRICS must be host:port (e.g. 127.0.0.1:9464), got ${JSON.stringify(value)}`,
      FailureType.InvalidMTurkConfig,
    );
  }
  return bare;
}

/** Runtime options from the environment, or undefined to keep Temporal's defaults. */
export function runtimeOptionsFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): RuntimeOptions | undefined {
  const metrics = env.TEMPORAL_MTURK_METRICS?.trim();
  if (!metrics) return undefined;
  return {
    telemetryOptions: { metrics: { prometheus: { bindAddress: parseMetricsAddress(metrics) } } },
  };
}

/**
 * Installs the runtime configured by the environment. Call it before the first connection:
 * Temporal creates its runtime once, with the first NativeConnection or Worker.
 * Returns the metrics address when metrics are on.
 */
export function installRuntimeFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const options = runtimeOptionsFromEnv(env);
  if (!options) return undefined;
  Runtime.install(options);
  return options.telemetryOptions?.metrics && 'prometheus' in options.telemetryOptions.metrics
    ? options.telemetryOptions.metrics.prometheus.bindAddress
    : undefined;
}
