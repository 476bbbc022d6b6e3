/** The admin API over HTTP: JSON in and out under /_emulator/. */
import type { FaultConfig } from './faults';
import type { Ledger, RuntimeConfig, SeedRequest, SeedResult } from './types';

/** What the HTTP admin routes drive; implemented by the running emulator. */
export interface AdminApi {
  seed(req: SeedRequest): SeedResult;
  setFaults(cfg: FaultConfig): void;
  faults(): FaultConfig;
  ledger(): Ledger;
  reset(): void;
  setBalance(dollars: string): void;
  addBalance(dollars: string): void;
  balance(): string;
  configure(partial: Partial<RuntimeConfig>): RuntimeConfig;
  config(): RuntimeConfig;
  advanceClock(ms: number): void;
  now(): number;
}

export interface AdminResponse {
  status: number;
  body: unknown;
}

function parseJson(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8');
  if (text.trim() === '') return {};
  const v: unknown = JSON.parse(text);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    throw new Error('request body must be a JSON object');
  }
  return v as Record<string, unknown>;
}

const clock = (api: AdminApi) => {
  const ms = api.now();
  return { now: new Date(ms).toISOString(), nowMs: ms };
};

export function handleAdmin(
  api: AdminApi,
  method: string,
  url: string,
  raw: Buffer,
): AdminResponse {
  const path = url.split('?')[0]!.replace(/\/+$/, '');
  const route = `${method} ${path}`;
  try {
    const body = method === 'POST' ? parseJson(raw) : {};
    switch (route) {
      case 'GET /_emulator/health':
        return { status: 200, body: { ok: true } };
      case 'POST /_emulator/seed':
        return { status: 200, body: api.seed(body as SeedRequest) };
      case 'POST /_emulator/balance': {
        const hasSet = body.balance !== undefined;
        const hasAdd = body.add !== undefined;
        if (hasSet === hasAdd) throw new Error('give exactly one of "balance" or "add"');
        if (hasSet) api.setBalance(body.balance as string);
        else api.addBalance(body.add as string);
        return { status: 200, body: { balance: api.balance() } };
      }
      case 'POST /_emulator/faults':
        api.setFaults(body as FaultConfig);
        return { status: 200, body: { faults: api.faults() } };
      case 'GET /_emulator/faults':
        return { status: 200, body: { faults: api.faults() } };
      case 'GET /_emulator/ledger':
        return { status: 200, body: api.ledger() };
      case 'POST /_emulator/reset':
        api.reset();
        return { status: 200, body: { ok: true } };
      case 'POST /_emulator/config':
        return { status: 200, body: api.configure(body as Partial<RuntimeConfig>) };
      case 'GET /_emulator/config':
        return { status: 200, body: api.config() };
      case 'POST /_emulator/clock':
        if (body.advanceMs === undefined) throw new Error('advanceMs is required');
        api.advanceClock(body.advanceMs as number);
        return { status: 200, body: clock(api) };
      case 'GET /_emulator/clock':
        return { status: 200, body: clock(api) };
      default:
        return { status: 404, body: { error: `no admin route ${route}` } };
    }
  } catch (e) {
    return { status: 400, body: { error: (e as Error).message } };
  }
}
