// The few node:http chores the stub's handlers share.

import type { IncomingMessage, ServerResponse } from 'node:http';

export class BodyTooLarge extends Error {}

/**
 * Buffers for request bodies, reused. Every part the stub receives is ~250 KB: a fresh buffer for
 * each costs page faults and, through V8's accounting of external memory, a full GC every few dozen
 * parts, a fifth of the stub's CPU in the loopback benchmarks (PERFORMANCE.md, Settlement).
 */
export class BodyPool {
  readonly #free: Buffer[] = [];
  /** The allocations this pool made: only those may come back (a small Buffer shares its memory). */
  readonly #mine = new WeakSet<ArrayBufferLike>();

  /** `keep` free buffers at most, none above `largest` bytes (a rare huge body is not kept). */
  constructor(
    private readonly keep = 8,
    private readonly largest = 2 * 1024 * 1024,
  ) {}

  /** `size` bytes of a free allocation, or of a new one (at least 256 KiB, so parts fit). */
  take(size: number): Buffer {
    if (size > this.largest) return Buffer.allocUnsafeSlow(size);
    const i = this.#free.findIndex((b) => b.length >= size);
    const whole = i < 0 ? Buffer.allocUnsafeSlow(Math.max(size, 256 * 1024)) : (this.#free.splice(i, 1)[0] as Buffer);
    this.#mine.add(whole.buffer);
    return whole.subarray(0, size);
  }

  /** Takes back a buffer from `take` once nothing reads it any more; anything else is ignored. */
  give(body: Buffer): void {
    if (!this.#mine.has(body.buffer) || this.#free.length >= this.keep) return;
    this.#free.push(Buffer.from(body.buffer, 0, body.buffer.byteLength));
  }
}

/**
 * Reads the whole body, refusing more than `limit` bytes (declared or actual). With a `pool`, a
 * body of declared length is read into one of its buffers, for the caller to give back.
 */
export async function readBody(req: IncomingMessage, limit: number, pool?: BodyPool): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new BodyTooLarge();
  // With a Content-Length, Node delivers exactly that many bytes, or the request fails.
  if (pool !== undefined && declared > 0) {
    const body = pool.take(declared);
    let size = 0;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) size += chunk.copy(body, size);
    } catch (err) {
      pool.give(body);
      throw err;
    }
    return body;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...headers,
  });
  res.end(body);
}

/** An oversized body is left unread: answer, then close, so the client sees the 413 and not a reset. */
export function sendTooLarge(res: ServerResponse): void {
  sendJson(res, 413, { result: 'error', reason: 'body_too_large' }, { connection: 'close' });
}

/**
 * Waits `ms` unless the client goes away first. Resolves true when it is still worth answering.
 * The timer is cleared when the socket closes, so nothing outlives the request.
 */
export function pause(ms: number, res: ServerResponse): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(!res.destroyed);
  return new Promise((resolve) => {
    const onClose = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(!res.destroyed);
    }, ms);
    res.once('close', onClose);
  });
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
