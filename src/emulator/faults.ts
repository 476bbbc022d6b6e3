/** Deterministic fault injection for MTurk API calls. */

export interface OperationFaults {
  /** Added delay before the request is processed: a fixed number or [min, max] (ms, inclusive). */
  latencyMs?: number | [number, number];
  /** Probability (0..1) of answering HTTP 500 ServiceFault without doing anything. */
  serviceFaultRate?: number;
  /** Probability (0..1) of answering HTTP 400 ThrottlingException without doing anything. */
  throttleRate?: number;
  /** Probability (0..1) of running the operation, then destroying the socket before any response bytes. */
  dropAfterCommitRate?: number;
}

export interface FaultConfig {
  /** PRNG seed; the same seed and the same request sequence give the same faults. Default 1. */
  seed?: number;
  /** Per operation name (e.g. "SendBonus"); "*" applies to operations without their own entry. */
  operations?: Record<string, OperationFaults>;
}

export type FaultKind = 'serviceFault' | 'throttle' | 'dropAfterCommit';

export interface FaultDecision {
  latencyMs: number;
  /** Injected before processing (no effect on state). */
  before: 'serviceFault' | 'throttle' | null;
  /** Drop the connection after processing. */
  drop: boolean;
}

const NONE: FaultDecision = { latencyMs: 0, before: null, drop: false };

/** mulberry32: a tiny, fast, seedable PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

function checkRate(name: string, v: unknown): number {
  if (v === undefined) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new Error(`${name} must be a number between 0 and 1`);
  }
  return v;
}

function checkLatency(op: string, v: unknown): [number, number] {
  if (v === undefined) return [0, 0];
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;
  if (ok(v)) return [v, v];
  if (Array.isArray(v) && v.length === 2 && ok(v[0]) && ok(v[1]) && v[0] <= v[1]) {
    return [v[0], v[1]];
  }
  throw new Error(`${op}.latencyMs must be a number >= 0 or [min, max] with 0 <= min <= max`);
}

/** Validate a fault configuration; throws an Error with a readable message. */
export function validateFaultConfig(cfg: unknown): FaultConfig {
  if (cfg === null || typeof cfg !== 'object' || Array.isArray(cfg)) {
    throw new Error('fault config must be an object');
  }
  const { seed, operations } = cfg as FaultConfig;
  if (seed !== undefined && (typeof seed !== 'number' || !Number.isInteger(seed))) {
    throw new Error('seed must be an integer');
  }
  if (operations !== undefined) {
    if (operations === null || typeof operations !== 'object' || Array.isArray(operations)) {
      throw new Error('operations must be an object keyed by operation name');
    }
    for (const [op, f] of Object.entries(operations)) {
      if (f === null || typeof f !== 'object' || Array.isArray(f)) {
        throw new Error(`operations.${op} must be an object`);
      }
      checkLatency(op, f.latencyMs);
      const total =
        checkRate(`${op}.serviceFaultRate`, f.serviceFaultRate) +
        checkRate(`${op}.throttleRate`, f.throttleRate);
      checkRate(`${op}.dropAfterCommitRate`, f.dropAfterCommitRate);
      if (total > 1) throw new Error(`${op}: serviceFaultRate + throttleRate must not exceed 1`);
    }
  }
  return cfg as FaultConfig;
}

interface Compiled {
  latency: [number, number];
  serviceFault: number;
  throttle: number;
  drop: number;
  rand: () => number;
}

/**
 * Decides, per request, which fault (if any) to inject. Each operation has its own PRNG stream
 * (seeded from the seed and the operation name) and every request draws exactly three numbers,
 * so one operation's traffic never shifts another's faults.
 */
export class FaultInjector {
  private seed = 1;
  private ops = new Map<string, Compiled>();
  private wildcard: OperationFaults | undefined;
  private config: FaultConfig = {};

  configure(cfg: FaultConfig): void {
    const valid = validateFaultConfig(cfg);
    this.config = JSON.parse(JSON.stringify(valid)) as FaultConfig;
    this.seed = valid.seed ?? 1;
    this.ops.clear();
    this.wildcard = valid.operations?.['*'];
    for (const [op, f] of Object.entries(valid.operations ?? {})) {
      if (op !== '*') this.ops.set(op, this.compile(op, f));
    }
  }

  current(): FaultConfig {
    return JSON.parse(JSON.stringify(this.config)) as FaultConfig;
  }

  get active(): boolean {
    return this.ops.size > 0 || this.wildcard !== undefined;
  }

  private compile(op: string, f: OperationFaults): Compiled {
    return {
      latency: checkLatency(op, f.latencyMs),
      serviceFault: f.serviceFaultRate ?? 0,
      throttle: f.throttleRate ?? 0,
      drop: f.dropAfterCommitRate ?? 0,
      rand: mulberry32((this.seed ^ hashString(op)) >>> 0),
    };
  }

  decide(op: string): FaultDecision {
    let c = this.ops.get(op);
    if (!c) {
      if (!this.wildcard) return NONE;
      c = this.compile(op, this.wildcard);
      this.ops.set(op, c);
    }
    const r1 = c.rand();
    const r2 = c.rand();
    const r3 = c.rand();
    const [min, max] = c.latency;
    const latencyMs = max > min ? min + Math.floor(r1 * (max - min + 1)) : min;
    let before: FaultDecision['before'] = null;
    if (r2 < c.serviceFault) before = 'serviceFault';
    else if (r2 < c.serviceFault + c.throttle) before = 'throttle';
    return { latencyMs, before, drop: before === null && r3 < c.drop };
  }
}
