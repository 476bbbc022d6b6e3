/**
 * The state file: a JSON snapshot written atomically (tmp + rename), plus an append-only journal
 * (`<statePath>.journal`, one JSON line per committed change) so that a commit costs O(change),
 * not O(state). Journal lines carry the snapshot's generation; a snapshot rewrite starts a new
 * generation and truncates the journal, so stale lines are never replayed. A torn last line (a
 * crash in the middle of an append, before any response was sent) is ignored.
 * All I/O is synchronous: a commit is on disk before the response is written.
 */
import {
  closeSync,
  existsSync,
  ftruncateSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';

const MIN_COMPACT_BYTES = 4 * 1024 * 1024;

export interface Loaded<S, L> {
  snapshot: S;
  lines: L[];
}

export class StateFile<S extends { generation: number }, L extends { g: number }> {
  private fd: number | undefined;
  private journalBytes = 0;
  private snapshotBytes = 0;
  readonly journalPath: string;

  constructor(readonly path: string) {
    this.journalPath = `${path}.journal`;
  }

  /** The snapshot and the journal lines of its generation, or undefined if there is no state yet. */
  load(): Loaded<S, L> | undefined {
    if (!existsSync(this.path)) {
      if (existsSync(this.journalPath)) unlinkSync(this.journalPath); // orphaned: no snapshot
      return undefined;
    }
    let snapshot: S;
    try {
      snapshot = JSON.parse(readFileSync(this.path, 'utf8')) as S;
    } catch (e) {
      throw new Error(`emulator state file ${this.path} is unreadable: ${(e as Error).message}`);
    }
    const lines: L[] = [];
    if (existsSync(this.journalPath)) {
      for (const text of readFileSync(this.journalPath, 'utf8').split('\n')) {
        if (text === '') continue;
        let line: L;
        try {
          line = JSON.parse(text) as L;
        } catch {
          break; // torn tail
        }
        if (line.g === snapshot.generation) lines.push(line);
      }
    }
    return { snapshot, lines };
  }

  /** Whether the journal has grown enough that a fresh snapshot is cheaper to keep. */
  get wantsCompaction(): boolean {
    return this.journalBytes > Math.max(MIN_COMPACT_BYTES, 2 * this.snapshotBytes);
  }

  writeSnapshot(snapshot: S): void {
    const json = JSON.stringify(snapshot);
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, json);
    renameSync(tmp, this.path);
    this.snapshotBytes = json.length;
    // Lines of older generations are ignored on load, so truncating after the rename is safe.
    if (this.fd !== undefined) ftruncateSync(this.fd, 0);
    else if (existsSync(this.journalPath)) writeFileSync(this.journalPath, '');
    this.journalBytes = 0;
  }

  append(line: L): void {
    this.fd ??= openSync(this.journalPath, 'a');
    const buf = Buffer.from(JSON.stringify(line) + '\n');
    for (let off = 0; off < buf.length;) off += writeSync(this.fd, buf, off);
    this.journalBytes += buf.length;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
