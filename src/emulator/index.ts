/**
 * A local MTurk Requester emulator speaking the real AWS JSON 1.1 wire protocol, so an unmodified
 * `@aws-sdk/client-mturk` pointed at `url` works. Independent of the rest of the project.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminApi } from './admin';
import { createAdminApi } from './admin-api';
import { FaultInjector, type FaultConfig } from './faults';
import type { FeeRounding } from './money';
import { RateLimiter, type RateLimitConfig } from './rate-limit';
import { createEmulatorServer } from './server';
import { Store } from './state';
import type { Ledger, RuntimeConfig, SeedRequest, SeedResult } from './types';

export type {
  AssignmentStatus,
  FaultCounts,
  Ledger,
  LedgerAction,
  LedgerBonus,
  LedgerNotification,
  RuntimeConfig,
  SeedAssignment,
  SeedHit,
  SeedRequest,
  SeedResult,
} from './types';
export type { FaultConfig, OperationFaults } from './faults';
export type { FeeRounding } from './money';
export type { BucketLimit, RateLimitConfig } from './rate-limit';

export interface EmulatorOptions {
  /** Default 127.0.0.1. Non-loopback hosts need allowNonLoopback. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** JSON state file: loaded at start, rewritten atomically after every change. */
  statePath?: string;
  /** How long a UniqueRequestToken is remembered. Default 24 h. */
  tokenTtlMs?: number;
  /** Whether a failed call also consumes its UniqueRequestToken. Default false. */
  consumeTokenOnFailure?: boolean;
  /** Rounding of fractional fee cents. Default 'half-up'. */
  feeRounding?: FeeRounding;
  /** ListBonusPayments shows a bonus only this long after its grant. Default 0. */
  listingLagMs?: number;
  /** Store reasons normalised (NFC, whitespace collapsed, trimmed). Default false. */
  normaliseReasons?: boolean;
  allowNonLoopback?: boolean;
  /** The clock (epoch ms). Default Date.now. */
  now?: () => number;
  /**
   * Account-wide request rate limit (token bucket: `rate` requests/s, `burst` default 2 × rate,
   * optionally per operation). Over it, calls are answered ThrottlingException and do nothing.
   * Refilled on real time, whatever `now` says. Default: none.
   */
  rateLimit?: RateLimitConfig | null;
}

export interface RunningEmulator {
  /** e.g. http://127.0.0.1:PORT */
  url: string;
  port: number;
  stop(): Promise<void>;
  seed(req: SeedRequest): SeedResult;
  setFaults(cfg: FaultConfig): void;
  ledger(): Ledger;
  reset(): void;
  setBalance(dollars: string): void;
  addBalance(dollars: string): void;
  configure(partial: Partial<RuntimeConfig>): RuntimeConfig;
  config(): RuntimeConfig;
  advanceClock(ms: number): void;
}

export const DEFAULT_TOKEN_TTL_MS = 24 * 60 * 60 * 1000;

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' ||
    h === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) ||
    /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
  );
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<RunningEmulator> {
  const host = opts.host ?? '127.0.0.1';
  refuseUnauthenticatedExposure(host, opts.allowNonLoopback);
  const store = openStore(opts);
  const faults = new FaultInjector();
  const limiter = new RateLimiter();
  limiter.configure(opts.rateLimit ?? null);
  const admin = createAdminApi(store, faults, limiter);
  const server = createEmulatorServer({ store, faults, limiter, admin });
  await listenOrClose(server, store, opts.port ?? 0, host);
  return runningEmulator(server, store, admin);
}

function refuseUnauthenticatedExposure(host: string, allowNonLoopback: boolean | undefined): void {
  if (isLoopbackHost(host) || allowNonLoopback) return;
  throw new Error(
    `MTurk emulator refuses to listen on non-loopback host ${JSON.stringify(host)}: ` +
      'it has no authentication. Pass allowNonLoopback: true (CLI: --allow-non-loopback) to override.',
  );
}

function openStore(opts: EmulatorOptions): Store {
  const store = new Store({
    now: opts.now ?? Date.now,
    statePath: opts.statePath,
    tokenTtlMs: opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS,
    consumeTokenOnFailure: opts.consumeTokenOnFailure ?? false,
    feeRounding: opts.feeRounding ?? 'half-up',
    listingLagMs: opts.listingLagMs ?? 0,
    normaliseReasons: opts.normaliseReasons ?? false,
  });
  store.configure(store.config); // validates the options
  store.commit(); // a loaded state file is compacted into a fresh snapshot at once
  return store;
}

/** If the port cannot be had, the caller gets no emulator to stop: the state file is closed here. */
async function listenOrClose(
  server: Server,
  store: Store,
  port: number,
  host: string,
): Promise<void> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    store.close();
    throw e;
  }
}

/** A wildcard address is reachable on loopback; an IPv6 one needs brackets in a URL. */
function urlHostOf(addr: AddressInfo): string {
  if (addr.address === '0.0.0.0' || addr.address === '::') return '127.0.0.1';
  return addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
}

function runningEmulator(server: Server, store: Store, admin: AdminApi): RunningEmulator {
  const addr = server.address() as AddressInfo;
  let stopping: Promise<void> | undefined;
  return {
    url: `http://${urlHostOf(addr)}:${addr.port}`,
    port: addr.port,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        store.commit();
        store.close();
      });
      return stopping;
    },
    seed: admin.seed,
    setFaults: admin.setFaults,
    ledger: admin.ledger,
    reset: admin.reset,
    setBalance: admin.setBalance,
    addBalance: admin.addBalance,
    configure: admin.configure,
    config: admin.config,
    advanceClock: admin.advanceClock,
  };
}
