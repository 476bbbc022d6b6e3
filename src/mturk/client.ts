/**
 * Which MTurk we talk to, and the one MTurkClient built for it. The client is created once at
 * worker start and injected into the activities (the aws-sdk-js-v3 pattern): one connection
 * pool, one credential chain, one place to read the configuration from.
 */
import { MTurkClient } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../common/errors';
import type { MTurkTargetBinding } from '../common/types';
import {
  AdaptiveRateLimiter,
  MAX_THROTTLE_RETRIES,
  ThrottleOnlyRetryStrategy,
} from './rate-limiter';

export type MTurkTarget = 'local' | 'sandbox' | 'production';

export const MTURK_TARGETS: readonly MTurkTarget[] = ['local', 'sandbox', 'production'];
export const PRODUCTION_ENDPOINT = 'https://mturk-requester.us-east-1.amazonaws.com';
export const SANDBOX_ENDPOINT = 'https://mturk-requester-sandbox.us-east-1.amazonaws.com';
/** Where `npm run emulator` listens unless told otherwise (src/emulator/main.ts). */
export const DEFAULT_EMULATOR_PORT = 4566;
/** MTurk exists in us-east-1 only. */
export const MTURK_REGION = 'us-east-1';
/** Long enough for MTurk on a bad day, short enough that a hung call does not eat the
 *  activity's start-to-close timeout: Temporal retries it instead. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

/** Fixed credentials for the local emulator, which does not check signatures. */
const LOCAL_CREDENTIALS = { accessKeyId: 'local-emulator', secretAccessKey: 'local-emulator' };

export interface MTurkConfig {
  target: MTurkTarget;
  endpoint: string;
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  /**
   * `default-chain`: the AWS SDK's default credential provider chain (env, profile, SSO,
   * instance role...). `local-dummy`: fixed fake credentials, for the emulator only.
   */
  credentials: 'default-chain' | 'local-dummy';
}

export interface ResolveEndpointOptions {
  target: MTurkTarget;
  /** Overrides the target's usual endpoint (e.g. an emulator elsewhere, or a proxy). */
  endpoint?: string;
  /** Port of the local emulator; default {@link DEFAULT_EMULATOR_PORT}. */
  localPort?: number;
}

function configError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.InvalidMTurkConfig);
}

function productionNotConfirmed(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FailureType.ProductionNotConfirmed);
}

export function isMTurkTarget(value: string): value is MTurkTarget {
  return (MTURK_TARGETS as readonly string[]).includes(value);
}

/** The endpoint URL for a target, or the explicit override after checking it is a URL. */
export function resolveMTurkEndpoint(options: ResolveEndpointOptions): string {
  if (options.endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(options.endpoint);
    } catch {
      throw configError(`MTurk endpoint ${JSON.stringify(options.endpoint)} is not a valid URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw configError(`MTurk endpoint must be http(s), got ${JSON.stringify(options.endpoint)}`);
    }
    if (url.username || url.password) {
      throw configError('MTurk endpoint must not contain credentials');
    }
    return options.endpoint.replace(/\/+$/, '');
  }
  switch (options.target) {
    case 'production':
      return PRODUCTION_ENDPOINT;
    case 'sandbox':
      return SANDBOX_ENDPOINT;
    case 'local': {
      const port = options.localPort ?? DEFAULT_EMULATOR_PORT;
      if (!Number.isInteger(port) || port < 1 || port > 65535) {
        throw configError(`Emulator port must be 1-65535, got ${String(port)}`);
      }
      return `http://127.0.0.1:${port}`;
    }
  }
}

function isProductionHost(endpoint: string): boolean {
  // A trailing root dot ("...amazonaws.com.") names the same host: DNS resolves it the same way.
  const host = new URL(endpoint).hostname.toLowerCase().replace(/\.+$/, '');
  return host === new URL(PRODUCTION_ENDPOINT).hostname;
}

/**
 * Reads the MTurk target from the environment:
 * - `MTURK_TARGET`: local (default) | sandbox | production.
 * - `MTURK_ENDPOINT`: optional endpoint override.
 * - `MTURK_CONFIRM_PRODUCTION`: must be exactly "yes" when the target is production, so real
 *   money is never spent by a stray variable. Throws ApplicationFailure ProductionNotConfirmed
 *   otherwise, and also when MTURK_ENDPOINT points at production under another target.
 * - Local target: fixed dummy credentials unless AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY
 *   are set. Sandbox and production: the SDK's default credential chain.
 */
export function mturkConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MTurkConfig {
  const rawTarget = (env.MTURK_TARGET ?? '').trim() || 'local';
  if (!isMTurkTarget(rawTarget)) {
    throw configError(
      `MTURK_TARGET must be one of ${MTURK_TARGETS.join(', ')}, got ${JSON.stringify(rawTarget)}`,
    );
  }
  const target = rawTarget;
  const override = env.MTURK_ENDPOINT?.trim() || undefined;
  const endpoint = resolveMTurkEndpoint({ target, endpoint: override });

  if (target === 'production' && env.MTURK_CONFIRM_PRODUCTION !== 'yes') {
    throw productionNotConfirmed(
      'MTURK_TARGET=production spends real money: set MTURK_CONFIRM_PRODUCTION=yes to confirm ' +
        '(or use MTURK_TARGET=sandbox to test against the MTurk sandbox).',
    );
  }
  if (target !== 'production' && isProductionHost(endpoint)) {
    throw productionNotConfirmed(
      `MTURK_ENDPOINT points at MTurk production but MTURK_TARGET is ${target}: ` +
        'set MTURK_TARGET=production and MTURK_CONFIRM_PRODUCTION=yes to pay real money.',
    );
  }

  const hasEnvCredentials = Boolean(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY);
  return {
    target,
    endpoint,
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: DEFAULT_CONNECTION_TIMEOUT_MS,
    credentials: target === 'local' && !hasEnvCredentials ? 'local-dummy' : 'default-chain',
  };
}

/** Config for a local emulator at `endpoint` (tests, demos). */
export function localMTurkConfig(endpoint: string): MTurkConfig {
  return {
    target: 'local',
    endpoint: resolveMTurkEndpoint({ target: 'local', endpoint }),
    requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: DEFAULT_CONNECTION_TIMEOUT_MS,
    credentials: 'local-dummy',
  };
}

export interface MTurkClientOptions {
  /** Ceiling on this client's MTurk calls per second (`--rate-limit`); default none. */
  maxRate?: number;
}

const limiters = new WeakMap<MTurkClient, AdaptiveRateLimiter>();

/** The limiter pacing a client made by createMTurkClient (its counts: `.stats()`). */
export function mturkRateLimiter(client: MTurkClient): AdaptiveRateLimiter | undefined {
  return limiters.get(client);
}

/**
 * The MTurkClient for a config. Build it once per process and inject it: its rate limiter is
 * shared by every call of the process (mturk-rate-limiter.ts).
 *
 * The SDK's own retries are off for everything but throttling: Temporal owns retrying, with a
 * durable attempt count the activity uses (attempt > 1 → look the payment up before paying
 * again) and a backoff policy visible in the workflow's history; a timeout, a dropped
 * connection or a ServiceFault may have done the work, and an invisible retry inside one
 * attempt would bypass both. A throttled call did nothing: the retry strategy paces every call
 * and retries only those, in-process (MAX_THROTTLE_RETRIES, THROTTLE_RETRY_BUDGET_MS).
 * `maxAttempts` only labels the amz-sdk-request header; the strategy decides.
 */
export function createMTurkClient(
  config: MTurkConfig,
  options: MTurkClientOptions = {},
): MTurkClient {
  const limiter = new AdaptiveRateLimiter({ maxRate: options.maxRate });
  const client = new MTurkClient({
    region: MTURK_REGION,
    endpoint: config.endpoint,
    maxAttempts: MAX_THROTTLE_RETRIES + 1,
    retryStrategy: new ThrottleOnlyRetryStrategy(limiter),
    requestHandler: {
      requestTimeout: config.requestTimeoutMs,
      connectionTimeout: config.connectionTimeoutMs,
      // Without this the SDK only logs a warning when requestTimeout passes.
      throwOnRequestTimeout: true,
    },
    ...(config.credentials === 'local-dummy' && { credentials: LOCAL_CREDENTIALS }),
  });
  limiters.set(client, limiter);
  return client;
}

/** One line for logs: target and endpoint, never credentials. */
export function describeTarget(config: Pick<MTurkConfig, 'target' | 'endpoint'>): string {
  const label = config.target === 'production' ? 'production (real money)' : config.target;
  return `${label} at ${config.endpoint}`;
}

/** Which MTurk an endpoint is: production and sandbox by host name, anything else local. */
export function targetOfEndpoint(endpoint: string): MTurkTargetBinding {
  const url = new URL(endpoint);
  const host = url.hostname.toLowerCase().replace(/\.+$/, '');
  const name =
    host === new URL(PRODUCTION_ENDPOINT).hostname
      ? 'production'
      : host === new URL(SANDBOX_ENDPOINT).hostname
        ? 'sandbox'
        : 'local';
  return { name, endpoint: url.origin + url.pathname.replace(/\/+$/, '') };
}

/** The binding for a config: what `pay` confirms and what a worker compares against. */
export function targetBinding(
  config: Pick<MTurkConfig, 'target' | 'endpoint'>,
): MTurkTargetBinding {
  return { name: config.target, endpoint: targetOfEndpoint(config.endpoint).endpoint };
}

/** The MTurk a client talks to, from its configured endpoint. */
export async function targetOfClient(client: MTurkClient): Promise<MTurkTargetBinding> {
  const endpoint = await client.config.endpoint?.();
  if (!endpoint) {
    // No explicit endpoint: the SDK resolves MTurk's regional production endpoint.
    return { name: 'production', endpoint: PRODUCTION_ENDPOINT };
  }
  const port = endpoint.port !== undefined ? `:${endpoint.port}` : '';
  return targetOfEndpoint(`${endpoint.protocol}//${endpoint.hostname}${port}${endpoint.path}`);
}

/** Same MTurk: same target name and the same endpoint (scheme, host, port and path). */
export function sameTarget(a: MTurkTargetBinding, b: MTurkTargetBinding): boolean {
  return (
    a.name === b.name &&
    targetOfEndpoint(a.endpoint).endpoint === targetOfEndpoint(b.endpoint).endpoint
  );
}
