// The micronode's manifest spill: a settled run's manifest evicted from the memory store's budget
// is first written here, under the amnesia tmpfs (removed on exit like everything else the
// process writes), and read back from here instead of being recomputed. Bounded by its own byte
// budget; the oldest spilled manifest goes first. Writes are synchronous: they happen inside the
// store's (synchronous) eviction, on tmpfs, where a write is a memory copy.

import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export class ManifestSpill {
  /** Spilled manifests' sizes, oldest first. */
  private readonly files = new Map<string, number>();
  private held = 0;
  private made = false;

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  get bytes(): number {
    return this.held;
  }

  /** Writes `bytes` for `epochId`; false when it cannot (over the budget alone, or the write failed). */
  put(epochId: string, bytes: Uint8Array): boolean {
    if (bytes.length > this.maxBytes) return false;
    while (this.held + bytes.length > this.maxBytes) {
      const [oldest, size] = this.files.entries().next().value as [string, number];
      this.drop(oldest, size);
    }
    try {
      if (!this.made) {
        mkdirSync(this.dir, { recursive: true, mode: 0o700 });
        this.made = true;
      }
      writeFileSync(this.path(epochId), bytes, { mode: 0o600 });
    } catch {
      return false;
    }
    this.files.set(epochId, bytes.length);
    this.held += bytes.length;
    return true;
  }

  has(epochId: string): boolean {
    return this.files.has(epochId);
  }

  /** The spilled bytes, or null when they are not here (never spilled, or pushed out since). */
  async get(epochId: string): Promise<Uint8Array | null> {
    if (!this.files.has(epochId)) return null;
    try {
      return new Uint8Array(await readFile(this.path(epochId)));
    } catch {
      return null;
    }
  }

  private drop(epochId: string, size: number): void {
    this.files.delete(epochId);
    this.held -= size;
    rmSync(this.path(epochId), { force: true });
  }

  /** Epoch ids may be "." or ".." and up to 128 characters: files are named by their SHA-256. */
  private path(epochId: string): string {
    return join(this.dir, `${createHash('sha256').update(epochId).digest('hex')}.json`);
  }
}
