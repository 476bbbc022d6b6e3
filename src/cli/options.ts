/**
 * Options every command shares, resolved once: the MTurk target (through mturk-client.ts, so the
 * production rule is the same as the worker's), the Temporal connection (envconfig), the task
 * queue and the bonus cap.
 */
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { dataConverterFromEnv } from '../codec';
import { FailureType } from '../common/errors';
import { checkBonusAmount } from '../common/validation';
import { formatCents } from '../common/money';
import { mturkConfigFromEnv, type MTurkConfig } from '../mturk/client';
import { DEFAULT_TASK_QUEUE, temporalTargetFromEnv, type TemporalTarget } from '../temporal-config';
import { CliError, ExitCode } from './exit-codes';

export interface CommonOptions {
  target?: string;
  endpoint?: string;
  taskQueue?: string;
  maxBonus?: string;
}

export interface ResolvedOptions {
  mturk: MTurkConfig;
  temporal: TemporalTarget;
  taskQueue: string;
  /** Only when --max-bonus was given; otherwise validation's and the worker's default apply. */
  maxBonusCents?: number;
  maxBonusAmount?: string;
}

/** Largest bonus --max-bonus accepts: a cap, so any sane amount; the worker has its own cap. */
export const MAX_BONUS_CEILING_CENTS = 100_000_00;

/**
 * The MTurk target alone (target, endpoint, production rule), for commands that need no
 * Temporal: a broken Temporal configuration must not stop a read-only look at MTurk.
 */
export function resolveMTurkConfig(
  opts: Pick<CommonOptions, 'target' | 'endpoint'>,
  env: NodeJS.ProcessEnv,
): MTurkConfig {
  try {
    return mturkConfigFromEnv({
      ...env,
      ...(opts.target !== undefined && { MTURK_TARGET: opts.target }),
      ...(opts.endpoint !== undefined && { MTURK_ENDPOINT: opts.endpoint }),
    });
  } catch (err) {
    if (err instanceof ApplicationFailure && err.type === FailureType.ProductionNotConfirmed) {
      throw new CliError(err.message, ExitCode.NotConfirmed);
    }
    throw new CliError(err instanceof Error ? err.message : String(err), ExitCode.InvalidInput);
  }
}

export function resolveOptions(opts: CommonOptions, env: NodeJS.ProcessEnv): ResolvedOptions {
  const mturk = resolveMTurkConfig(opts, env);

  let maxBonusCents: number | undefined;
  if (opts.maxBonus !== undefined) {
    const checked = checkBonusAmount(opts.maxBonus, { maxBonusCents: MAX_BONUS_CEILING_CENTS });
    if (!checked.ok) throw new CliError(`--max-bonus ${checked.message}`, ExitCode.InvalidInput);
    maxBonusCents = checked.cents;
  }

  let temporal: TemporalTarget;
  try {
    temporal = temporalTargetFromEnv(env);
  } catch (err) {
    throw new CliError(`Temporal configuration: ${(err as Error).message}`, ExitCode.InvalidInput);
  }
  const taskQueue = opts.taskQueue ?? env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;
  if (taskQueue.trim() === '')
    throw new CliError('--task-queue must not be empty', ExitCode.InvalidInput);
  return {
    mturk,
    temporal,
    taskQueue,
    ...(maxBonusCents !== undefined && {
      maxBonusCents,
      maxBonusAmount: formatCents(maxBonusCents),
    }),
  };
}

/**
 * A Temporal client for the configured namespace, with the data converter of the environment
 * (payload encryption, as the worker's: without it, encrypted results cannot be read). Close
 * `client.connection` when done.
 */
export async function connectClient(
  temporal: TemporalTarget,
  env: NodeJS.ProcessEnv,
  connectTimeoutMs = 10_000,
): Promise<Client> {
  let dataConverter;
  try {
    dataConverter = dataConverterFromEnv(env);
  } catch (err) {
    throw new CliError(`payload encryption: ${(err as Error).message}`, ExitCode.InvalidInput);
  }
  const { address, tls, apiKey, metadata } = temporal.connectionOptions;
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address,
      tls,
      apiKey,
      metadata,
      connectTimeout: connectTimeoutMs,
    });
  } catch (err) {
    throw new CliError(
      `cannot reach Temporal at ${temporal.description}: ${(err as Error).message}\n` +
        'Set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE, TEMPORAL_API_KEY... or TEMPORAL_PROFILE) to your server.',
      ExitCode.Error,
    );
  }
  return new Client({ connection, namespace: temporal.namespace, dataConverter });
}
