import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The Temporal CLI we pin. v1.5.1's go.mod has no `replace`, so `go install` works for it. */
export const PINNED_CLI_VERSION = 'v1.5.1';
export const CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type CliSource = 'env' | 'path' | 'cache' | 'go-install' | 'sdk-download';

export type ResolvedCli =
  | { source: Exclude<CliSource, 'sdk-download'>; path: string; version: string; ms: number }
  /** No local CLI: let `@temporalio/testing` download the dev server into `downloadDir`. */
  | { source: 'sdk-download'; downloadDir: string; ms: number; tried: string[] };

export interface ResolveCliOptions {
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
  /** Allow falling back to the SDK's download (default true). */
  allowDownload?: boolean;
}

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'temporal-mturk');
}

export function cachedCliPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDir(env), `cli-${PINNED_CLI_VERSION}`, 'temporal');
}

async function cliVersion(path: string): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(path, ['--version'], { timeout: 20_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

/**
 * `temporal --version` prints e.g. "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)";
 * a `go install` build prints "0.0.0-DEV". Any 1.x from 1.3 on has the `server start-dev`
 * flags we use.
 */
export function isAcceptableVersion(versionLine: string): boolean {
  const m = /temporal version (\d+)\.(\d+)\.(\d+)/.exec(versionLine);
  if (!m) return false;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major === 0 && minor === 0) return /Server 1\.(2[4-9]|[3-9]\d)/.test(versionLine);
  return major > 1 || (major === 1 && minor >= 3);
}

function findOnPath(env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'temporal');
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

async function hasGo(env: NodeJS.ProcessEnv): Promise<boolean> {
  try {
    await execFileAsync('go', ['version'], { env, timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

/** Wait for another process's build to finish, or take the lock ourselves. */
async function withBuildLock<T>(lockDir: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      break;
    } catch {
      // A stale lock (its owner died) older than 20 minutes is broken.
      try {
        if (Date.now() - statSync(lockDir).mtimeMs > 20 * 60_000)
          rmSync(lockDir, { recursive: true, force: true });
      } catch {
        // raced with its removal
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for the build lock ${lockDir}`);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

async function goInstall(env: NodeJS.ProcessEnv, log: (l: string) => void): Promise<string> {
  const target = cachedCliPath(env);
  const dir = join(cacheDir(env), `cli-${PINNED_CLI_VERSION}`);
  mkdirSync(cacheDir(env), { recursive: true });
  return withBuildLock(join(cacheDir(env), 'build.lock'), async () => {
    if (existsSync(target)) return target; // another process built it while we waited
    const tmpBin = join(cacheDir(env), `build-${process.pid}`);
    mkdirSync(tmpBin, { recursive: true });
    log(
      `temporal-cli: building ${CLI_MODULE}@${PINNED_CLI_VERSION} with go install (a few minutes, once)...`,
    );
    await execFileAsync('go', ['install', `${CLI_MODULE}@${PINNED_CLI_VERSION}`], {
      env: { ...env, GOBIN: tmpBin, CGO_ENABLED: env.CGO_ENABLED ?? '0' },
      timeout: 30 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    mkdirSync(dir, { recursive: true });
    // rename is atomic, so a half-written binary is never seen as a cached build
    renameSync(join(tmpBin, 'temporal'), target);
    rmSync(tmpBin, { recursive: true, force: true });
    return target;
  });
}

/**
 * Finds a working Temporal CLI, in this order: $TEMPORAL_CLI; `temporal` on PATH (if its
 * version is acceptable); a cached build under the user's cache folder; `go install` of the
 * pinned version into that cache; finally the Temporal SDK's own download.
 */
export async function resolveTemporalCli(opts: ResolveCliOptions = {}): Promise<ResolvedCli> {
  const lookup = new CliLookup(opts.env ?? process.env, opts.log ?? ((l) => console.error(l)));
  return (
    (await lookup.fromEnvVariable()) ??
    (await lookup.fromPath()) ??
    (await lookup.fromCache()) ??
    (await lookup.fromGoInstall()) ??
    lookup.sdkDownload(opts.allowDownload !== false)
  );
}

/**
 * One lookup's steps, each a place the CLI may be: a step returns the CLI it found, or
 * undefined after noting in `tried` why not, for the message when nothing is found.
 */
class CliLookup {
  private readonly started = Date.now();
  private readonly tried: string[] = [];

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
  ) {}

  async fromEnvVariable(): Promise<ResolvedCli | undefined> {
    const path = this.env.TEMPORAL_CLI;
    if (!path) {
      this.tried.push('TEMPORAL_CLI (not set)');
      return undefined;
    }
    const version = await cliVersion(path);
    if (!version) throw new Error(`TEMPORAL_CLI=${path} does not run ('--version' failed).`);
    return this.found('env', path, version);
  }

  async fromPath(): Promise<ResolvedCli | undefined> {
    const onPath = findOnPath(this.env);
    if (!onPath) {
      this.tried.push('PATH (no temporal)');
      return undefined;
    }
    const version = await cliVersion(onPath);
    if (version && isAcceptableVersion(version)) return this.found('path', onPath, version);
    this.tried.push(`PATH: ${onPath} (version not acceptable: ${version ?? 'does not run'})`);
    return undefined;
  }

  async fromCache(): Promise<ResolvedCli | undefined> {
    const cached = cachedCliPath(this.env);
    if (!existsSync(cached)) {
      this.tried.push(`cache: ${cached} (absent)`);
      return undefined;
    }
    const version = await cliVersion(cached);
    if (version) return this.found('cache', cached, version);
    this.tried.push(`cache: ${cached} (does not run; removed)`);
    rmSync(cached, { force: true });
    return undefined;
  }

  async fromGoInstall(): Promise<ResolvedCli | undefined> {
    if (!(await hasGo(this.env))) {
      this.tried.push('go install (no Go toolchain on PATH)');
      return undefined;
    }
    try {
      const built = await goInstall(this.env, this.log);
      const version = await cliVersion(built);
      if (version) return this.found('go-install', built, version);
      this.tried.push(`go install: built ${built} but it does not run`);
    } catch (err) {
      this.tried.push(
        `go install ${CLI_MODULE}@${PINNED_CLI_VERSION} failed: ${(err as Error).message.split('\n').slice(-3).join(' ')}`,
      );
    }
    return undefined;
  }

  /** No local CLI: the SDK's download if allowed, else an error naming every place tried. */
  sdkDownload(allowDownload: boolean): ResolvedCli {
    if (!allowDownload) {
      throw new Error(
        `No Temporal CLI found. Tried:\n  - ${this.tried.join('\n  - ')}\n` +
          `Fix: install the Temporal CLI (https://docs.temporal.io/cli) and put it on PATH, ` +
          `set TEMPORAL_CLI=/path/to/temporal, or install Go so it can be built.`,
      );
    }
    const ms = Date.now() - this.started;
    this.log(
      `temporal-cli: no local CLI (${this.tried.join('; ')}); falling back to the Temporal SDK's download`,
    );
    const downloadDir = join(cacheDir(this.env), 'sdk-download');
    return { source: 'sdk-download', downloadDir, ms, tried: this.tried };
  }

  private found(
    source: Exclude<CliSource, 'sdk-download'>,
    path: string,
    version: string,
  ): ResolvedCli {
    const ms = Date.now() - this.started;
    this.log(`temporal-cli: using ${path} (source: ${source}, ${version}, resolved in ${ms} ms)`);
    return { source, path, version, ms };
  }
}
