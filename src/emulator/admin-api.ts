/**
 * The admin API over the store, the faults and the rate limit: what the /_emulator/ routes and the
 * methods of a running emulator drive.
 */
import type { AdminApi } from './admin';
import type { FaultConfig, FaultInjector } from './faults';
import { validateRateLimit, type RateLimiter } from './rate-limit';
import type { Store } from './state';
import type { RuntimeConfig, SeedRequest } from './types';

/** Wraps an admin mutation so that it is committed (persisted) before it returns. */
function committedBy(store: Store) {
  return <A extends unknown[], R>(fn: (...a: A) => R) =>
    (...a: A): R => {
      const r = fn(...a);
      store.commit();
      return r;
    };
}

function configureRuntime(store: Store, limiter: RateLimiter, p: Partial<RuntimeConfig>): void {
  if (p === null || typeof p !== 'object') throw new Error('config must be an object');
  const { rateLimit, ...rest } = p;
  // Checked before anything is applied, so a bad request changes nothing.
  const limit = rateLimit === undefined ? undefined : validateRateLimit(rateLimit);
  store.configure(rest);
  if (limit !== undefined) limiter.configure(limit);
}

export function createAdminApi(
  store: Store,
  faults: FaultInjector,
  limiter: RateLimiter,
): AdminApi {
  const committed = committedBy(store);
  const config = (): RuntimeConfig => ({ ...store.config, rateLimit: limiter.current() });
  return {
    seed: committed((req: SeedRequest) => store.seed(req)),
    setFaults: (cfg: FaultConfig) => faults.configure(cfg),
    faults: () => faults.current(),
    ledger: () => store.ledger(),
    reset: committed(() => {
      store.reset();
      faults.configure({});
      limiter.refill();
    }),
    setBalance: committed((d: string) => store.setBalance(d)),
    addBalance: committed((d: string) => store.addBalance(d)),
    balance: () => store.balance(),
    configure: (p: Partial<RuntimeConfig>) => {
      configureRuntime(store, limiter, p);
      return config();
    },
    config,
    advanceClock: committed((ms: number) => store.advanceClock(ms)),
    now: () => store.now(),
  };
}
