import { MTurkClient } from '@aws-sdk/client-mturk';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { FailureType } from '../../src/common/errors';
import {
  DEFAULT_EMULATOR_PORT,
  PRODUCTION_ENDPOINT,
  SANDBOX_ENDPOINT,
  createMTurkClient,
  describeTarget,
  localMTurkConfig,
  mturkConfigFromEnv,
  resolveMTurkEndpoint,
} from '../../src/mturk/client';
import { ThrottleOnlyRetryStrategy } from '../../src/mturk/rate-limiter';

function failureType(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    return (err as ApplicationFailure).type ?? undefined;
  }
  throw new Error('expected a failure');
}

describe('resolveMTurkEndpoint', () => {
  it('knows the three targets', () => {
    expect(resolveMTurkEndpoint({ target: 'production' })).toBe(PRODUCTION_ENDPOINT);
    expect(resolveMTurkEndpoint({ target: 'sandbox' })).toBe(SANDBOX_ENDPOINT);
    expect(resolveMTurkEndpoint({ target: 'local' })).toBe(
      `http://127.0.0.1:${DEFAULT_EMULATOR_PORT}`,
    );
    expect(resolveMTurkEndpoint({ target: 'local', localPort: 9999 })).toBe(
      'http://127.0.0.1:9999',
    );
  });

  it('takes an explicit endpoint, without a trailing slash', () => {
    expect(resolveMTurkEndpoint({ target: 'local', endpoint: 'http://10.0.0.5:8080/' })).toBe(
      'http://10.0.0.5:8080',
    );
  });

  it.each(['not a url', 'ftp://example.com', 'http://user:secret@example.com'])(
    'refuses endpoint %j',
    (endpoint) => {
      expect(failureType(() => resolveMTurkEndpoint({ target: 'local', endpoint }))).toBe(
        FailureType.InvalidMTurkConfig,
      );
    },
  );

  it('refuses a bad port', () => {
    expect(failureType(() => resolveMTurkEndpoint({ target: 'local', localPort: 70000 }))).toBe(
      FailureType.InvalidMTurkConfig,
    );
  });
});

describe('mturkConfigFromEnv', () => {
  it('defaults to the local emulator with dummy credentials', () => {
    expect(mturkConfigFromEnv({})).toMatchObject({
      target: 'local',
      endpoint: `http://127.0.0.1:${DEFAULT_EMULATOR_PORT}`,
      credentials: 'local-dummy',
    });
  });

  it('uses env credentials for local when present', () => {
    const config = mturkConfigFromEnv({ AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' });
    expect(config.credentials).toBe('default-chain');
  });

  it('uses the default chain for the sandbox', () => {
    expect(mturkConfigFromEnv({ MTURK_TARGET: 'sandbox' })).toMatchObject({
      target: 'sandbox',
      endpoint: SANDBOX_ENDPOINT,
      credentials: 'default-chain',
    });
  });

  it('takes MTURK_ENDPOINT', () => {
    expect(mturkConfigFromEnv({ MTURK_ENDPOINT: 'http://127.0.0.1:1234' }).endpoint).toBe(
      'http://127.0.0.1:1234',
    );
  });

  it.each([undefined, '', 'YES', 'yes ', 'true', '1'])(
    'refuses production when MTURK_CONFIRM_PRODUCTION is %j',
    (confirm) => {
      const env = { MTURK_TARGET: 'production', MTURK_CONFIRM_PRODUCTION: confirm };
      expect(failureType(() => mturkConfigFromEnv(env))).toBe(FailureType.ProductionNotConfirmed);
    },
  );

  it('explains how to confirm production', () => {
    expect(() => mturkConfigFromEnv({ MTURK_TARGET: 'production' })).toThrow(
      /MTURK_CONFIRM_PRODUCTION=yes/,
    );
  });

  it('accepts production confirmed with exactly "yes"', () => {
    expect(
      mturkConfigFromEnv({ MTURK_TARGET: 'production', MTURK_CONFIRM_PRODUCTION: 'yes' }),
    ).toMatchObject({
      target: 'production',
      endpoint: PRODUCTION_ENDPOINT,
      credentials: 'default-chain',
    });
  });

  it('refuses a production endpoint under another target', () => {
    const env = { MTURK_TARGET: 'sandbox', MTURK_ENDPOINT: PRODUCTION_ENDPOINT };
    expect(failureType(() => mturkConfigFromEnv(env))).toBe(FailureType.ProductionNotConfirmed);
  });

  it('refuses an unknown target', () => {
    expect(failureType(() => mturkConfigFromEnv({ MTURK_TARGET: 'prod' }))).toBe(
      FailureType.InvalidMTurkConfig,
    );
  });
});

describe('createMTurkClient and describeTarget', () => {
  it('builds one client: us-east-1, the endpoint, SDK retries for throttling only', async () => {
    const client = createMTurkClient(localMTurkConfig('http://127.0.0.1:4321'));
    try {
      expect(client).toBeInstanceOf(MTurkClient);
      expect(await client.config.region()).toBe('us-east-1');
      // The strategy retries throttles only (test/activities/rate-limit.test.ts shows it).
      expect(await client.config.retryStrategy()).toBeInstanceOf(ThrottleOnlyRetryStrategy);
      const credentials = await client.config.credentials();
      expect(credentials.accessKeyId).toBe('local-emulator');
    } finally {
      client.destroy();
    }
  });

  it('describes the target without secrets', () => {
    const env = {
      MTURK_TARGET: 'sandbox',
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    };
    const config = mturkConfigFromEnv(env);
    const text = describeTarget(config) + JSON.stringify(config);
    expect(describeTarget(config)).toBe(`sandbox at ${SANDBOX_ENDPOINT}`);
    expect(text).not.toMatch(/AKIA|wJalr/);
    expect(describeTarget({ target: 'production', endpoint: PRODUCTION_ENDPOINT })).toMatch(
      /real money/,
    );
  });
});
