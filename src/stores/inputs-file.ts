// A micronode's large Arrow upload, spooled to a file under the amnesia tmpfs as it arrives
// (INPUTS_SPOOL_MIN_BYTES) instead of into one heap buffer, and then kept by the memory store as
// that file. Nothing here outlives the process: the directory is AMNESIA_DIR/inputs, removed with
// AMNESIA_DIR on exit.
//
// Ownership: the request that received the body owns its file until the memory store keeps it
// (`kept`); a body refused, cut off, invalid, or already held (identical bytes sealed before) is
// removed when its request ends. A kept file is removed when the store evicts its document.
// Readers (GET /inputs/{cid}, re-preparing after the prepared-inputs cache let it go) hold it
// open: a removal while one reads waits for the last reader, so no read ever meets a missing file.

import { randomUUID } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { join } from 'node:path';

/** A whole sealed (or being sealed) document held in a file: its path, size and first bytes. */
export class InputsFile {
  /** Set by the store that keeps the file: from then on only the store removes it. */
  kept = false;
  private readers = 0;
  private doomed = false;
  private removed = false;

  constructor(
    readonly path: string,
    readonly size: number,
    /** The first bytes (up to 8): enough to tell the form without reading the file. */
    readonly head: Uint8Array,
    private readonly onRemove: (size: number) => void = () => {},
  ) {}

  /** Removes the file now, or once its last reader is done. Idempotent, synchronous. */
  remove(): void {
    this.doomed = true;
    if (this.readers > 0 || this.removed) return;
    this.removed = true;
    rmSync(this.path, { force: true });
    this.onRemove(this.size);
  }

  get isRemoved(): boolean {
    return this.removed;
  }

  /**
   * The whole file in a buffer of its own (transferable); null when it was removed (its document
   * evicted after it was looked up): the caller answers as for a document no longer held.
   */
  async read(): Promise<Uint8Array | null> {
    if (this.removed) return null;
    this.enter();
    try {
      const b = await readFile(this.path);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    } finally {
      this.leave();
    }
  }

  /** A stream of the whole file; the file stays until the stream closes (ended, failed or destroyed). */
  stream(): Readable {
    this.enter();
    const s = createReadStream(this.path, { highWaterMark: 1024 * 1024 });
    s.once('close', () => this.leave());
    return s;
  }

  private enter(): void {
    if (this.removed) throw new Error(`spooled inputs ${this.path} were removed`);
    this.readers++;
  }

  private leave(): void {
    this.readers--;
    if (this.readers === 0 && this.doomed) this.remove();
  }
}

/** A file being written as its body arrives; `finish` makes it an InputsFile, `discard` removes it. */
export interface SpoolWriter {
  write(piece: Uint8Array): void;
  finish(): InputsFile;
  discard(): void;
}

/**
 * Where large Arrow uploads are spooled (AMNESIA_DIR/inputs), and how many bytes its files hold
 * now (being received, being sealed, or kept by the store).
 */
export class InputsSpool {
  private made = false;
  private held = 0;
  private files = 0;

  /** The threshold is a setting (INPUTS_SPOOL_MIN_BYTES, reloadable): the app reads it per body. */
  constructor(readonly dir: string) {}

  get bytes(): number {
    return this.held;
  }

  get count(): number {
    return this.files;
  }

  /**
   * A new file (0600) under the spool directory. Writes are synchronous: on tmpfs a write is a
   * memory copy, the same as the heap buffer it replaces.
   */
  create(): SpoolWriter {
    if (!this.made) {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      this.made = true;
    }
    const path = join(this.dir, `${randomUUID()}.arrows`);
    const fd = openSync(path, 'wx', 0o600);
    this.files++;
    let size = 0;
    let open = true;
    let done = false;
    const head = new Uint8Array(8);
    let headLength = 0;
    const close = (): void => {
      if (open) {
        open = false;
        closeSync(fd);
      }
    };
    const gone = (n: number): void => {
      this.held -= n;
      this.files--;
    };
    return {
      write: (piece) => {
        if (headLength < head.length) {
          const n = Math.min(head.length - headLength, piece.length);
          head.set(piece.subarray(0, n), headLength);
          headLength += n;
        }
        for (let at = 0; at < piece.length; ) at += writeSync(fd, piece, at, piece.length - at);
        size += piece.length;
        this.held += piece.length;
      },
      finish: () => {
        close();
        done = true;
        return new InputsFile(path, size, head.slice(0, headLength), gone);
      },
      discard: () => {
        close();
        if (done) return;
        done = true;
        rmSync(path, { force: true });
        gone(size);
      },
    };
  }
}
