/**
 * Run the MTurk emulator in the foreground.
 *   npm run emulator -- --port 4566 [--state file] [--host h --allow-non-loopback]
 *                       [--token-ttl-ms n] [--consume-token-on-failure] [--fee-rounding half-up|up|down]
 *                       [--rate-limit requests/s [--burst n]]
 */
import { parseArgs } from 'node:util';
import { startEmulator, type FeeRounding } from './index';

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

async function main(): Promise<void> {
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
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const feeRounding = values['fee-rounding'];
  if (feeRounding !== undefined && !['half-up', 'up', 'down'].includes(feeRounding)) {
    throw new Error('--fee-rounding must be half-up, up or down');
  }
  const rateArg = values['rate-limit'];
  if (values.burst !== undefined && rateArg === undefined) {
    throw new Error('--burst needs --rate-limit');
  }
  const rateLimit =
    rateArg === undefined
      ? null
      : {
          rate: positiveNumberArg('rate-limit', rateArg, 0),
          ...(values.burst !== undefined && {
            burst: positiveNumberArg('burst', values.burst, 1),
          }),
        };
  const emu = await startEmulator({
    port: intArg('port', values.port, 4566),
    host: values.host,
    statePath: values.state,
    allowNonLoopback: values['allow-non-loopback'],
    tokenTtlMs:
      values['token-ttl-ms'] === undefined
        ? undefined
        : intArg('token-ttl-ms', values['token-ttl-ms'], 0),
    consumeTokenOnFailure: values['consume-token-on-failure'],
    feeRounding: feeRounding as FeeRounding | undefined,
    listingLagMs:
      values['listing-lag-ms'] === undefined
        ? undefined
        : intArg('listing-lag-ms', values['listing-lag-ms'], 0),
    normaliseReasons: values['normalise-reasons'],
    rateLimit,
  });
  console.log(`MTurk emulator listening on ${emu.url}`);
  const limit = emu.config().rateLimit;
  if (limit) console.log(`rate limit: ${limit.rate} requests/s, burst ${limit.burst}`);
  if (values.state) console.log(`state file: ${values.state}`);
  console.log(`admin API: ${emu.url}/_emulator/ledger (Ctrl-C to stop)`);

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

main().catch((e: unknown) => {
  console.error(`emulator: ${e instanceof Error ? e.message : String(e)}`);
  console.error(USAGE);
  process.exit(1);
});
