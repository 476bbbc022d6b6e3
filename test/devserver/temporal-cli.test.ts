import { mkdtempSync, mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cachedCliPath,
  isAcceptableVersion,
  resolveTemporalCli,
} from '../../tools/devserver/temporal-cli';

/** A stand-in `temporal` that prints the given version: enough to test the lookup order. */
function fakeCli(dir: string, versionLine: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'temporal');
  writeFileSync(path, `#!/bin/sh\necho "${versionLine}"\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('resolveTemporalCli lookup order', () => {
  const quiet = () => {};

  it('prefers $TEMPORAL_CLI over everything else', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcli-'));
    const explicit = fakeCli(
      join(dir, 'explicit'),
      'temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)',
    );
    const onPath = fakeCli(join(dir, 'bin'), 'temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)');
    const cli = await resolveTemporalCli({
      env: { TEMPORAL_CLI: explicit, PATH: join(dir, 'bin'), XDG_CACHE_HOME: dir },
      log: quiet,
    });
    expect(cli).toMatchObject({ source: 'env', path: explicit });
    expect(onPath).not.toBe(explicit);
  });

  it('uses temporal on PATH when its version is acceptable, else the cache', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcli-'));
    fakeCli(join(dir, 'bin'), 'temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)');
    const good = await resolveTemporalCli({
      env: { PATH: join(dir, 'bin'), XDG_CACHE_HOME: dir },
      log: quiet,
    });
    expect(good).toMatchObject({ source: 'path' });

    const dir2 = mkdtempSync(join(tmpdir(), 'tcli-'));
    fakeCli(join(dir2, 'bin'), 'temporal version 0.9.0');
    const cached = cachedCliPath({ XDG_CACHE_HOME: dir2 });
    fakeCli(join(cached, '..'), 'temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)');
    const fromCache = await resolveTemporalCli({
      env: { PATH: join(dir2, 'bin'), XDG_CACHE_HOME: dir2 },
      log: quiet,
    });
    expect(fromCache).toMatchObject({ source: 'cache', path: cached });
  });

  it('names every way it tried when nothing works and downloads are off', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcli-'));
    // An empty PATH: no temporal and no go.
    await expect(
      resolveTemporalCli({
        env: { PATH: join(dir, 'empty'), XDG_CACHE_HOME: dir },
        log: quiet,
        allowDownload: false,
      }),
    ).rejects.toThrow(/TEMPORAL_CLI[\s\S]*PATH[\s\S]*cache[\s\S]*go install/);
  });

  it('falls back to the SDK download when no CLI can be found or built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tcli-'));
    const cli = await resolveTemporalCli({
      env: { PATH: join(dir, 'empty'), XDG_CACHE_HOME: dir },
      log: quiet,
    });
    expect(cli.source).toBe('sdk-download');
  });

  it('accepts released 1.3+ and go-built dev versions, rejects old ones', () => {
    expect(isAcceptableVersion('temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)')).toBe(true);
    expect(isAcceptableVersion('temporal version 0.0.0-DEV (Server 1.29.1, UI 2.42.1)')).toBe(true);
    expect(isAcceptableVersion('temporal version 0.13.2 (server 1.22.0)')).toBe(false);
    expect(isAcceptableVersion('garbage')).toBe(false);
  });
});
