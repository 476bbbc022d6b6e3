/**
 * Run the MTurk emulator in the foreground.
 *   npm run emulator -- --port 4566 [--state file] [--host h --allow-non-loopback]
 *                       [--token-ttl-ms n] [--consume-token-on-failure] [--fee-rounding half-up|up|down]
 *                       [--rate-limit requests/s [--burst n]]
 */
import { parseArgs } from 'node:util';
import {
  startEmulator,
  type EmulatorOptions,
  type FeeRounding,
  type RateLimitConfig,
  type RunningEmulator,
} from './index';

const USAGE = `usage: npm run emulator -- [--port 4566] [--host 127.0.0.1] [--allow-non-loopback]
       [--state FILE] [--token-ttl-ms N] [--consume-token-on-failure]
       [--listing-lag-ms N] [--normalise-reasons]
       [--fee-rounding half-up|up|down] [--rate-limit REQUESTS_PER_S [--burst N]]`;

function positiveNumberArg(name: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min || (min === 0 && n === 0)) {
    throw new Error(`--${name} must be a number ${min === 0 ? '> 0' : `>= ${min}`}, got ${v}`);
  }
  return n;
}

function intArg(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

function optionalIntArg(name: string, v: string | undefined): number | undefined {
  return v === undefined ? undefined : intArg(name, v, 0);
}

function parseCliArgs() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4566' },
      host: { type: 'string', default: '127.0.0.1' },
      state: { type: 'string' },
      'allow-non-loopback': { type: 'boolean', default: false },
      'token-ttl-ms': { type: 'string' },
      'consume-token-on-failure': { type: 'boolean', default: false },
      'fee-rounding': { type: 'string' },
      'listing-lag-ms': { type: 'string' },
      'normalise-reasons': { type: 'boolean', default: false },
      'rate-limit': { type: 'string' },
      burst: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  return values;
}

type CliValues = ReturnType<typeof parseCliArgs>;

function feeRoundingArg(v: string | undefined): FeeRounding | undefined {
  if (v !== undefined && !['half-up', 'up', 'down'].includes(v)) {
    throw new Error('--fee-rounding must be half-up, up or down');
  }
  return v as FeeRounding | undefined;
}

function rateLimitArg(rate: string | undefined, burst: string | undefined): RateLimitConfig | null {
  if (burst !== undefined && rate === undefined) throw new Error('--burst needs --rate-limit');
  if (rate === undefined) return null;
  return {
    rate: positiveNumberArg('rate-limit', rate, 0),
    ...(burst !== undefined && { burst: positiveNumberArg('burst', burst, 1) }),
  };
}

/**
 * Fee rounding and the rate limit are checked before the numbers: that order decides which error
 * a run with several bad flags reports.
 */
function emulatorOptions(values: CliValues): EmulatorOptions {
  const feeRounding = feeRoundingArg(values['fee-rounding']);
  const rateLimit = rateLimitArg(values['rate-limit'], values.burst);
  return {
    port: intArg('port', values.port, 4566),
    host: values.host,
    statePath: values.state,
    allowNonLoopback: values['allow-non-loopback'],
    tokenTtlMs: optionalIntArg('token-ttl-ms', values['token-ttl-ms']),
    consumeTokenOnFailure: values['consume-token-on-failure'],
    feeRounding,
    listingLagMs: optionalIntArg('listing-lag-ms', values['listing-lag-ms']),
    normaliseReasons: values['normalise-reasons'],
    rateLimit,
  };
}

function printBanner(emu: RunningEmulator, statePath: string | undefined): void {
  console.log(`MTurk emulator listening on ${emu.url}`);
  const limit = emu.config().rateLimit;
  if (limit) console.log(`rate limit: ${limit.rate} requests/s, burst ${limit.burst}`);
  if (statePath) console.log(`state file: ${statePath}`);
  console.log(`admin API: ${emu.url}/_emulator/ledger (Ctrl-C to stop)`);
}

function stopOnSignals(emu: RunningEmulator): void {
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping MTurk emulator`);
    emu.stop().then(
      () => process.exit(0),
      (e: unknown) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

async function main(): Promise<void> {
  const values = parseCliArgs();
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const emu = await startEmulator(emulatorOptions(values));
  printBanner(emu, values.state);
  stopOnSignals(emu);
}

main().catch((e: unknown) => {
  console.error(`emulator: ${e instanceof Error ? e.message : String(e)}`);
  console.error(USAGE);
  process.exit(1);
});
