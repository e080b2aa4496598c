// Bounded request-body reader. Hono's bodyLimit counts wire bytes only and Hono never inflates
// requests, so the caps on what a body may cost us — wire bytes, decoded bytes, and the ratio
// between them — live here, enforced while streaming so no more than a cap is ever buffered.
//
// Every error carries `Connection: close` (the error handler must copy AppError.headers onto the
// response): after a refused body the connection is not worth keeping. Before the error is thrown
// the rest of the body is read and dropped, up to a bound: if the server closed the socket while
// the client was still sending, the client's TCP stack would get a reset and could lose the 413
// before reading it (node:http clients report EPIPE/ECONNRESET instead of the answer).

import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { AppError } from '../errors.js';
import type { InputsFile, SpoolWriter } from '../stores/inputs-file.js';

export interface BodyLimits {
  /** Cap on bytes on the wire (compressed bytes when the body is gzip). */
  maxBytes: number;
  /** Cap on decoded ÷ wire bytes over the whole gzip stream. */
  decompRatioMax: number;
  /** Absolute cap on decompressed bytes. */
  maxDecodedBytes: number;
  /** After a refusal, read and drop at most this many more bytes (default 8 MiB). */
  drainMaxBytes?: number;
  /** After a refusal, spend at most this long dropping the rest of the body (default 1 s). */
  drainTimeoutMs?: number;
  /**
   * The client sent `Expect: 100-continue` and waits: called once the declared length fits, just
   * before the first read (it writes `100 Continue`). A body refused before that is never sent
   * by the client, so nothing is drained.
   */
  onContinue?: () => void;
  /**
   * The body's place in the intake (intake.ts): every byte held (wire and decoded) is accounted
   * as it arrives (which may throw 503 body_budget), and `signal` cuts a body that arrives too
   * slowly (its reason, a 408, is thrown; nothing is drained for such a client).
   */
  intake?: { signal: AbortSignal; account(n: number): void };
  /**
   * Called with each piece of the decoded body, in order, as it arrives (a body hashed while it
   * is received). Pieces of a body refused later were given too: the caller drops what it made.
   */
  onData?: (piece: Uint8Array) => void;
}

/**
 * Where a large body goes instead of one heap buffer (readBodyOrSpool): an identity body declaring
 * at least `minBytes` is written to a new file from its first byte; one of unknown length, or a
 * gzip body's inflated bytes, move there once `minBytes` have arrived. A body refused or cut short
 * removes its file.
 */
export interface BodySpool {
  minBytes: number;
  create(): SpoolWriter;
}

/** A request as Node's HTTP server hands it over (an IncomingMessage): headers, body, completeness. */
export type IncomingBody = Readable & { readonly headers: IncomingHttpHeaders; readonly complete: boolean };

const DEFAULT_DRAIN_MAX_BYTES = 8 * 1024 * 1024;
const DEFAULT_DRAIN_TIMEOUT_MS = 1_000;
const LINGER_MAX_BYTES = 64 * 1024 * 1024;
const INFLATE_CHUNK_BYTES = 64 * 1024;
const CLOSE = { Connection: 'close' };

/**
 * Reads the whole body of `req` (decoding `Content-Encoding: gzip`) within `limits`.
 * Throws AppError 413 / 415 / 400 on a refused body; a client that leaves before the end of its
 * body is a 400 `body_incomplete` (Node destroys the request stream when its socket closes).
 *
 * The body is read from Node's stream itself, not through a web `Request`: building a web
 * request (a ReadableStream over the Node stream, an AbortSignal) costs more than a small body
 * is worth on the hot path of replayed computes.
 */
export async function readBody(req: IncomingBody, limits: BodyLimits): Promise<Uint8Array> {
  return (await readBodyOrSpool(req, limits)) as Uint8Array;
}

/**
 * readBody, except that a body at least `spool.minBytes` long (decoded: a gzip body once inflated
 * that far) is written to a file as it arrives and returned as that file (whose removal is then
 * the caller's).
 */
export async function readBodyOrSpool(req: IncomingBody, limits: BodyLimits, spool?: BodySpool): Promise<Uint8Array | InputsFile> {
  const declared = declaredLength(req.headers['content-length']);
  const wire = new Wire(req, limits.maxBytes, limits.intake);
  let invited = limits.onContinue === undefined;
  try {
    const gzip = isGzip(req.headers['content-encoding']);
    if (declared !== undefined && declared > limits.maxBytes) throw tooLarge(limits.maxBytes);
    if (!invited) {
      limits.onContinue?.();
      invited = true;
    }
    if (gzip) return await readGzip(wire, limits, declared, spool !== undefined && spool.minBytes > 0 ? spool : undefined);
    if (spool !== undefined && spool.minBytes > 0) return await readIdentitySpooled(wire, declared, spool, limits.onData);
    return await readIdentity(wire, declared, limits.onData);
  } catch (err) {
    // A client still waiting for 100 Continue sends no body: there is nothing to drain. A body cut
    // by the intake (too slow, or no place for it after its first moment) is from a client that
    // sends slowly: waiting to drain it would hold what the cut was meant to free.
    if (err instanceof AppError && invited && !(limits.intake?.signal.aborted === true && err === limits.intake.signal.reason)) {
      const left = declared === undefined ? undefined : declared - wire.bytes;
      await wire.drain(limits.drainMaxBytes ?? DEFAULT_DRAIN_MAX_BYTES, limits.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS, left);
    }
    throw err;
  }
}

async function readIdentity(wire: Wire, declared: number | undefined, onData?: (piece: Uint8Array) => void): Promise<Uint8Array> {
  const first = await wire.next();
  if (first === null) return new Uint8Array(0);
  onData?.(first);
  // The usual small body is one socket chunk: returned as it is.
  if (declared === first.length) return first;
  if (declared !== undefined) {
    // Copied as it arrives into one buffer of the declared size: no list of chunks joined at the
    // end, which was a second copy of the whole body (two of it alive at once: 438 MiB for a
    // 219 MiB Arrow stream). Node's parser delivers exactly Content-Length bytes or ends early.
    const out = new Uint8Array(declared);
    out.set(first.subarray(0, Math.min(first.length, declared)), 0);
    let at = first.length;
    for (let chunk = await wire.next(); chunk !== null; chunk = await wire.next()) {
      onData?.(chunk);
      if (at + chunk.length <= declared) out.set(chunk, at);
      at += chunk.length;
    }
    if (at !== declared) throw new AppError('BAD_REQUEST', 'request body length differs from its Content-Length', { reason: 'body_incomplete' }, CLOSE);
    return out;
  }
  const parts: Uint8Array[] = [first];
  for (let chunk = await wire.next(); chunk !== null; chunk = await wire.next()) {
    onData?.(chunk);
    parts.push(chunk);
  }
  return parts.length === 1 ? first : Buffer.concat(parts, wire.bytes);
}

/**
 * An identity body, to a file once it is (or declares to be) at least `spool.minBytes` long, else
 * as readIdentity does. The file is removed on any failure (a refusal, a cut, a write error).
 */
async function readIdentitySpooled(wire: Wire, declared: number | undefined, spool: BodySpool, onData?: (piece: Uint8Array) => void): Promise<Uint8Array | InputsFile> {
  if (declared !== undefined && declared < spool.minBytes) return readIdentity(wire, declared, onData);
  const parts: Uint8Array[] = [];
  let writer: SpoolWriter | undefined;
  try {
    if (declared !== undefined) writer = open(spool);
    for (let chunk = await wire.next(); chunk !== null; chunk = await wire.next()) {
      onData?.(chunk);
      if (writer !== undefined) write(writer, chunk);
      else {
        parts.push(chunk);
        // Unknown length: held in memory until it reaches the threshold, then moved to a file.
        if (wire.bytes >= spool.minBytes) {
          writer = open(spool);
          for (const part of parts) write(writer, part);
          parts.length = 0;
        }
      }
    }
    if (declared !== undefined && wire.bytes !== declared) {
      throw new AppError('BAD_REQUEST', 'request body length differs from its Content-Length', { reason: 'body_incomplete' }, CLOSE);
    }
    if (writer === undefined) return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, wire.bytes);
    const file = writer.finish();
    writer = undefined;
    return file;
  } finally {
    writer?.discard();
  }
}

function open(spool: BodySpool): SpoolWriter {
  try {
    return spool.create();
  } catch {
    throw spoolFailed();
  }
}

function write(writer: SpoolWriter, piece: Uint8Array): void {
  try {
    writer.write(piece);
  } catch {
    // The tmpfs is full (ENOSPC) or gone: the body cannot be held; the client may retry later.
    throw spoolFailed();
  }
}

function spoolFailed(): AppError {
  return new AppError('UNAVAILABLE', 'no room to receive this body now', { reason: 'spool_failed' }, { ...CLOSE, 'Retry-After': '5' });
}

async function readGzip(wire: Wire, limits: BodyLimits, declared: number | undefined, spool?: BodySpool): Promise<Uint8Array | InputsFile> {
  // With a declared length the final ratio is bounded from the start, so a bomb is refused as
  // soon as its output passes ratio × Content-Length rather than at the absolute cap.
  const ratioCap = declared === undefined ? Infinity : limits.decompRatioMax * declared;
  let accounted = 0;
  const inflater = new Inflater(spool, limits.onData, (decoded) => {
    if (decoded > limits.maxDecodedBytes) return decodedTooLarge(limits.maxDecodedBytes);
    if (decoded > ratioCap) return ratioTooHigh(limits.decompRatioMax);
    try {
      limits.intake?.account(decoded - accounted);
      accounted = decoded;
    } catch (e) {
      if (e instanceof AppError) return e;
      throw e;
    }
    return undefined;
  });
  try {
    for (let chunk = await wire.next(); chunk !== null; chunk = await wire.next()) await inflater.write(chunk);
    const out = await inflater.end();
    // zlib stops at zero padding after the last member and ignores what follows it; anything it
    // did not consume is data we were sent but would not decode.
    const size = out instanceof Uint8Array ? out.byteLength : out.size;
    const refused = inflater.consumed !== wire.bytes ? corruptGzip() : size > limits.decompRatioMax * wire.bytes ? ratioTooHigh(limits.decompRatioMax) : null;
    if (refused !== null) {
      if (!(out instanceof Uint8Array)) out.remove(); // a spooled body refused leaves no file
      throw refused;
    }
    return out;
  } finally {
    inflater.destroy();
  }
}

/**
 * The request stream in paused mode, counted against the wire cap. It is never destroyed here:
 * destroying a request stream destroys its socket, and the answer we are about to send with it.
 * The server closes the connection after a refusal (`Connection: close`).
 */
class Wire {
  bytes = 0;

  constructor(
    private readonly stream: IncomingBody,
    private readonly maxBytes: number,
    private readonly intake?: { signal: AbortSignal; account(n: number): void },
  ) {}

  async next(): Promise<Uint8Array | null> {
    const stop = this.intake?.signal;
    if (stop?.aborted) throw stop.reason;
    const chunk = await this.read(stop);
    if (chunk === null) return null;
    this.bytes += chunk.byteLength;
    if (this.bytes > this.maxBytes) throw tooLarge(this.maxBytes);
    this.intake?.account(chunk.byteLength);
    return chunk;
  }

  /**
   * Reads and drops what the client is still sending, so it can finish writing and read our
   * answer. Gives up when the rest is known to exceed the budget, when the budget or time runs
   * out, or when the stream fails; never throws.
   */
  async drain(maxBytes: number, timeoutMs: number, knownLeft: number | undefined): Promise<void> {
    // A declared remainder the client can send within the time budget is read in full, bounded by
    // time: closing a socket with unread data makes the kernel send a reset, which can destroy
    // the 413 before the client reads it (seen 1 run in 2 for a 16 MiB upload on loopback).
    // Beyond LINGER_MAX_BYTES the answer goes out at once: such a body cannot be drained in time.
    if (knownLeft !== undefined && knownLeft > LINGER_MAX_BYTES) return;
    if (knownLeft !== undefined) maxBytes = Math.max(maxBytes, knownLeft);
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(), timeoutMs);
    try {
      for (let left = maxBytes; left >= 0; ) {
        const chunk = await this.read(stop.signal);
        if (chunk === null) return;
        left -= chunk.byteLength;
      }
    } catch {
      // timed out or the stream failed: nothing more to drain
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next chunk, or null at the end; a stream that fails or closes early is `body_incomplete`. */
  private async read(stop?: AbortSignal): Promise<Buffer | null> {
    for (;;) {
      const chunk = this.stream.read() as Buffer | null;
      if (chunk !== null) return chunk;
      // `complete`: the whole message has arrived, so nothing is left once the buffer is empty.
      // Checked rather than waiting for 'end' (a tick later), and it also covers a client that
      // half-closes right after a whole request: Node then destroys the request stream with the
      // body still buffered, and that body is whole.
      if (this.stream.readableEnded || this.stream.complete) return null;
      if (this.stream.destroyed) throw new AppError('BAD_REQUEST', 'request body ended early', { reason: 'body_incomplete' }, CLOSE);
      await this.change(stop);
    }
  }

  /** Resolves at the stream's next event that can change what read() returns; rejects on `stop`. */
  private change(stop: AbortSignal | undefined): Promise<void> {
    const s = this.stream;
    return new Promise<void>((resolve, reject) => {
      const off = (): void => {
        s.off('readable', done).off('error', done).off('close', done);
        stop?.removeEventListener('abort', abort);
      };
      const done = (): void => {
        off();
        resolve();
      };
      const abort = (): void => {
        off();
        reject(stop?.reason);
      };
      // 'readable' also fires at the end of the body; a destroyed stream always emits 'close'.
      s.on('readable', done).on('error', done).on('close', done);
      stop?.addEventListener('abort', abort, { once: true });
    });
  }
}

/** Streaming gunzip whose output is checked chunk by chunk and dropped on the first violation. */
class Inflater {
  private readonly zlib = createGunzip({ chunkSize: INFLATE_CHUNK_BYTES });
  private readonly parts: Buffer[] = [];
  /** With a spool: the inflated body's file, once it reached the spool's threshold. */
  private writer: SpoolWriter | undefined;
  private decoded = 0;
  private failure: AppError | undefined;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly spool: BodySpool | undefined,
    private readonly onData: ((piece: Uint8Array) => void) | undefined,
    private readonly check: (decoded: number) => AppError | undefined,
  ) {
    this.zlib.on('data', (chunk: Buffer) => this.take(chunk));
    this.zlib.on('error', () => this.fail(corruptGzip()));
    this.zlib.on('end', () => {
      this.ended = true;
      this.poke();
    });
    this.zlib.on('drain', () => this.poke());
    this.zlib.on('close', () => this.poke());
  }

  /** Compressed bytes zlib has consumed (multi-member streams included). */
  get consumed(): number {
    return this.zlib.bytesWritten;
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.throwIfFailed();
    if (this.ended) throw corruptGzip(); // input after the gzip stream ended
    if (!this.zlib.write(chunk)) {
      while (this.zlib.writableNeedDrain && !this.settled()) await this.event();
    }
    this.throwIfFailed();
  }

  async end(): Promise<Buffer | InputsFile> {
    this.throwIfFailed();
    this.zlib.end();
    while (!this.settled()) await this.event();
    this.throwIfFailed();
    if (!this.ended) throw corruptGzip();
    if (this.writer !== undefined) {
      const file = this.writer.finish();
      this.writer = undefined;
      return file;
    }
    return Buffer.concat(this.parts, this.decoded);
  }

  /** Drops what was inflated (a file included, unless end() returned it). */
  destroy(): void {
    this.parts.length = 0;
    this.writer?.discard();
    this.writer = undefined;
    this.zlib.destroy();
  }

  private take(chunk: Buffer): void {
    if (this.failure) return;
    this.decoded += chunk.byteLength;
    const err = this.check(this.decoded);
    if (err) this.fail(err);
    else {
      this.onData?.(chunk);
      this.keep(chunk);
    }
  }

  /** In memory, or (once the spool's threshold is reached) in the body's file. */
  private keep(chunk: Buffer): void {
    try {
      if (this.writer !== undefined) {
        this.writer.write(chunk);
        return;
      }
      this.parts.push(chunk);
      if (this.spool === undefined || this.decoded < this.spool.minBytes) return;
      // What was kept so far (this chunk included) moves to a file; the rest goes straight there.
      this.writer = this.spool.create();
      for (const part of this.parts) this.writer.write(part);
      this.parts.length = 0;
    } catch {
      this.fail(spoolFailed());
    }
  }

  private fail(err: AppError): void {
    this.failure ??= err;
    this.parts.length = 0;
    this.zlib.destroy(); // stops inflating at once: a bomb is never expanded past the cap
    this.poke();
  }

  private settled(): boolean {
    return this.ended || this.failure !== undefined || this.zlib.destroyed;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  private event(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function isGzip(header: string | undefined): boolean {
  const encoding = header?.trim().toLowerCase() ?? '';
  if (encoding === '' || encoding === 'identity') return false;
  if (encoding === 'gzip' || encoding === 'x-gzip') return true;
  throw new AppError(
    'UNSUPPORTED_MEDIA_TYPE',
    'unsupported Content-Encoding (only gzip or identity)',
    { reason: 'unsupported_encoding' },
    CLOSE,
  );
}

function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  const n = Number(header.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

function tooLarge(limit: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', 'request body too large', { reason: 'body_too_large', limit_bytes: limit }, CLOSE);
}

function decodedTooLarge(limit: number): AppError {
  return new AppError(
    'PAYLOAD_TOO_LARGE',
    'decompressed request body too large',
    { reason: 'decoded_too_large', limit_bytes: limit },
    CLOSE,
  );
}

function ratioTooHigh(ratioMax: number): AppError {
  return new AppError(
    'PAYLOAD_TOO_LARGE',
    'request body decompresses beyond the allowed ratio',
    { reason: 'decompression_ratio', ratio_max: ratioMax },
    CLOSE,
  );
}

function corruptGzip(): AppError {
  return new AppError('BAD_REQUEST', 'request body is not valid gzip', { reason: 'corrupt_gzip' }, CLOSE);
}
