import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { temporalTargetFromEnv } from '../../src/temporal-config';

const dir = mkdtempSync(path.join(tmpdir(), 'temporal-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const API_KEY = 'tmprl-secret-api-key-0123456789';
const TOML = `
[profile.default]
address = "file-default:7233"
namespace = "from-file"

[profile.cloud]
address = "my-ns.a1b2c.tmprl.cloud:7233"
namespace = "my-ns.a1b2c"
api_key = "${API_KEY}"
`;

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

/** A hermetic environment: never the machine's own ~/.config/temporalio/temporal.toml. */
function env(vars: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { TEMPORAL_CONFIG_FILE: path.join(dir, 'absent.toml'), ...vars };
}

describe('temporalTargetFromEnv', () => {
  it('defaults to a local dev server without TLS', () => {
    const t = temporalTargetFromEnv(env());
    expect(t.connectionOptions.address).toBe('localhost:7233');
    expect(t.connectionOptions.tls).toBeFalsy();
    expect(t.namespace).toBe('default');
    expect(t.description).toBe('localhost:7233 namespace=default');
  });

  it('reads TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE', () => {
    const t = temporalTargetFromEnv(
      env({ TEMPORAL_ADDRESS: 'temporal.internal:7233', TEMPORAL_NAMESPACE: 'payments' }),
    );
    expect(t.connectionOptions.address).toBe('temporal.internal:7233');
    expect(t.namespace).toBe('payments');
  });

  it('turns TLS on with an API key and never describes the key', () => {
    const t = temporalTargetFromEnv(
      env({ TEMPORAL_ADDRESS: 'my-ns.a1b2c.tmprl.cloud:7233', TEMPORAL_API_KEY: API_KEY }),
    );
    expect(t.connectionOptions.apiKey).toBe(API_KEY);
    expect(t.connectionOptions.tls).toBeTruthy();
    expect(t.description).toBe('my-ns.a1b2c.tmprl.cloud:7233 namespace=default, TLS, API key');
    expect(t.description).not.toContain(API_KEY);
  });

  it('loads a TOML profile chosen by TEMPORAL_PROFILE', () => {
    const config = file('profiles.toml', TOML);
    const cloud = temporalTargetFromEnv({
      TEMPORAL_CONFIG_FILE: config,
      TEMPORAL_PROFILE: 'cloud',
    });
    expect(cloud.connectionOptions).toMatchObject({
      address: 'my-ns.a1b2c.tmprl.cloud:7233',
      apiKey: API_KEY,
    });
    expect(cloud.connectionOptions.tls).toBeTruthy();
    expect(cloud.namespace).toBe('my-ns.a1b2c');
    expect(cloud.description).not.toContain(API_KEY);

    const fallback = temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: config });
    expect(fallback.connectionOptions.address).toBe('file-default:7233');
    expect(fallback.namespace).toBe('from-file');
  });

  it('lets environment variables override the profile', () => {
    const config = file('override.toml', TOML);
    const t = temporalTargetFromEnv({
      TEMPORAL_CONFIG_FILE: config,
      TEMPORAL_PROFILE: 'cloud',
      TEMPORAL_NAMESPACE: 'other-ns.a1b2c',
    });
    expect(t.namespace).toBe('other-ns.a1b2c');
    expect(t.connectionOptions.address).toBe('my-ns.a1b2c.tmprl.cloud:7233');
  });

  it('reads mTLS client certificates from paths and describes neither', () => {
    const cert = file('client.pem', '-----BEGIN CERTIFICATE-----\nCERTDATA\n');
    const key = file('client.key', '-----BEGIN PRIVATE KEY-----\nKEYDATA-SECRET\n');
    const t = temporalTargetFromEnv(
      env({
        TEMPORAL_ADDRESS: 'temporal.internal:7233',
        TEMPORAL_TLS_CLIENT_CERT_PATH: cert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: key,
      }),
    );
    const tls = t.connectionOptions.tls;
    expect(typeof tls === 'object' && tls?.clientCertPair).toBeTruthy();
    expect(t.description).toBe('temporal.internal:7233 namespace=default, TLS');
  });

  it('reports a broken config file without quoting the line that holds the key', () => {
    const config = file('broken.toml', `[profile.default]\napi_key = "${API_KEY}\n`);
    let message = '';
    try {
      temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: config });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^Temporal client configuration: Invalid TOML document.*\(line 2\)$/);
    expect(message).not.toContain(API_KEY);
    expect(message).not.toContain('tmprl-secret');
  });

  it('names a missing profile', () => {
    const config = file('named.toml', TOML);
    expect(() =>
      temporalTargetFromEnv({ TEMPORAL_CONFIG_FILE: config, TEMPORAL_PROFILE: 'staging' }),
    ).toThrow(/Profile 'staging' not found/);
  });
});
