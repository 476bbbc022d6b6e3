/**
 * The emulator's store: it owns the records and the configuration, persists the records (see
 * persist.ts and snapshot.ts) and hands MTurk API calls and admin requests to the modules that
 * implement them.
 */
import { AdminError, checkClockAdvance, parseAdminDollars, updateStoreConfig } from './admin-input';
import type { Call } from './call';
import { ledgerOf } from './ledger';
import type { Input } from './model';
import { formatCents } from './money';
import { executeOperation } from './operations';
import { StateFile } from './persist';
import { Records } from './records';
import { pruneTokens } from './request-tokens';
import { applySeed, checkSeedRequest } from './seed';
import {
  journalLineOf,
  listLengths,
  restoreRecords,
  snapshotOf,
  STATE_VERSION,
  type JournalLine,
  type Snapshot,
} from './snapshot';
import type { FaultCounts, Ledger, StoreConfig, SeedRequest, SeedResult } from './types';

export { AdminError };

export interface StoreOptions extends StoreConfig {
  now: () => number;
  statePath?: string;
}

export class Store {
  config: StoreConfig;
  private records = new Records();
  private readonly baseNow: () => number;
  private readonly file?: StateFile<Snapshot, JournalLine>;
  /** Write a full snapshot at the next commit (after a load or a reset). */
  private rewrite = true;
  private generation = 0;
  /** Lengths of the append-only lists at the last commit. */
  private committed = listLengths(this.records);

  constructor(opts: StoreOptions) {
    this.baseNow = opts.now;
    if (opts.statePath) this.file = new StateFile(opts.statePath);
    this.config = {
      tokenTtlMs: opts.tokenTtlMs,
      consumeTokenOnFailure: opts.consumeTokenOnFailure,
      feeRounding: opts.feeRounding,
      listingLagMs: opts.listingLagMs,
      normaliseReasons: opts.normaliseReasons,
    };
    if (this.file) this.load(this.file);
  }

  /** The emulator's clock (epoch ms): the injected clock plus any admin advance. */
  now(): number {
    return this.baseNow() + this.records.clockOffsetMs;
  }

  // ---------------------------------------------------------------- persistence

  /**
   * Persist everything changed since the last commit (no-op without a state file). Called before
   * every response, so a change is on disk before the client can hear about it.
   */
  commit(): void {
    const records = this.records;
    if (!records.dirty) return;
    const file = this.file;
    if (file) {
      if (this.rewrite || file.wantsCompaction) {
        pruneTokens(records, this.config.tokenTtlMs, this.now());
        this.generation++;
        file.writeSnapshot(snapshotOf(records, this.generation));
      } else {
        file.append(journalLineOf(records, this.generation, this.committed));
      }
    }
    records.markCommitted();
    this.committed = listLengths(records);
    this.rewrite = false;
  }

  /** Close the state file's journal. */
  close(): void {
    this.file?.close();
  }

  private load(file: StateFile<Snapshot, JournalLine>): void {
    const loaded = file.load();
    if (!loaded) return;
    const version = loaded.snapshot.version;
    if (version !== STATE_VERSION) {
      throw new Error(
        `emulator state file ${file.path} has unsupported version ${String(version)}`,
      );
    }
    this.generation = loaded.snapshot.generation;
    this.records = restoreRecords(loaded);
    // Start a new generation at once: this also drops a torn journal tail.
    this.rewrite = true;
    this.records.dirty = true;
  }

  // ---------------------------------------------------------------- counters

  countRequest(op: string): void {
    const requests = this.records.requests;
    requests[op] = (requests[op] ?? 0) + 1;
    this.records.dirty = true;
  }

  countFault(kind: keyof FaultCounts): void {
    this.records.faults[kind]++;
    this.records.dirty = true;
  }

  countRateLimited(op: string): void {
    const rateLimited = this.records.rateLimited;
    rateLimited[op] = (rateLimited[op] ?? 0) + 1;
    this.records.dirty = true;
  }

  // ---------------------------------------------------------------- admin

  /** Empty records and zeroed counters; the configuration and the clock are kept. */
  reset(): void {
    const clockOffsetMs = this.records.clockOffsetMs;
    this.records = new Records();
    this.records.clockOffsetMs = clockOffsetMs;
    this.rewrite = true;
    this.records.dirty = true;
  }

  setBalance(dollars: string): void {
    this.records.balanceCents = parseAdminDollars('balance', dollars);
    this.records.dirty = true;
  }

  addBalance(dollars: string): void {
    this.records.balanceCents += parseAdminDollars('add', dollars);
    this.records.dirty = true;
  }

  balance(): string {
    return formatCents(this.records.balanceCents);
  }

  configure(partial: Partial<StoreConfig>): StoreConfig {
    updateStoreConfig(this.config, partial);
    return { ...this.config };
  }

  advanceClock(ms: number): void {
    checkClockAdvance(ms);
    this.records.clockOffsetMs += ms;
    this.records.dirty = true;
  }

  seed(req: SeedRequest): SeedResult {
    const checked = checkSeedRequest(this.records, req);
    return applySeed(this.records, checked, this.now());
  }

  ledger(): Ledger {
    return ledgerOf(this.records, this.now());
  }

  // ---------------------------------------------------------------- MTurk API

  /** Execute a validated MTurk operation. Throws ApiError for MTurk errors. */
  execute(op: string, input: Input, requestId: string): unknown {
    const call: Call = { records: this.records, config: this.config, requestId, now: this.now() };
    return executeOperation(op, input, call);
  }
}
