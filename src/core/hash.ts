// BLAKE3-256 digests and their `b3:` text form (SPEC §1).
//
// Every message of at most one chunk (1024 bytes) is hashed here in plain TypeScript, without
// allocating: a single chunk with counter 0 needs no tree, only the chunk's blocks chained with
// CHUNK_START, CHUNK_END and ROOT, and a native call per message (the `blake3` package's costs ~9 µs,
// it builds a stream.Transform per hash) would dominate Merkle trees of 10k–100k tiny leaves.
// Longer messages go to BLAKE3's C code in our addon (native/), or to the `blake3` package without it.
import { createRequire } from 'node:module';
import { nativeAddon } from './native.js';

interface PackageHasher {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

let packageCreateHash: (() => PackageHasher) | undefined;

/**
 * The `blake3` package's hasher (its own native build, else wasm): only when our addon (native/)
 * is not built. Not the first choice: @c4312/blake3-native's createHash() ends the whole process
 * (a fatal N-API error) when it runs on a thread that is being terminated, which is what a compute
 * worker is when its task is aborted mid-run (a client gone, a deadline passed).
 */
function packageHasher(): PackageHasher {
  packageCreateHash ??= (createRequire(import.meta.url)('blake3') as { createHash: () => PackageHasher }).createHash;
  return packageCreateHash();
}

const CHUNK_LEN = 1024;
const BLOCK_LEN = 64;
const CHUNK_START = 1;
const CHUNK_END = 2;
const ROOT = 8;

// Int32Array wraps the words above 2^31 to their signed form, which is what `| 0` arithmetic uses.
const IV = Int32Array.of(0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19);

// Preallocated scratch: the chaining value and a copy of the message, zero-padded to whole blocks
// and read as 32-bit words (reading words from an aligned typed array is ~100 ns per 65-byte message
// faster than assembling them from bytes). Hashing is synchronous and each worker thread has its own
// module instance, so sharing the scratch is safe and keeps the hot path free of allocation.
const cv = new Int32Array(8);
const msg = new Uint8Array(CHUNK_LEN);
const words = new Int32Array(msg.buffer);
// BLAKE3 reads message words little-endian; on a big-endian host the copied words are byte-swapped.
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** One BLAKE3 compression of the block at words[w..w+16) into `cv` (counter is always 0 here). */
function compress(w: number, blockLen: number, flags: number): void {
  let m0 = words[w]!, m1 = words[w + 1]!, m2 = words[w + 2]!, m3 = words[w + 3]!;
  let m4 = words[w + 4]!, m5 = words[w + 5]!, m6 = words[w + 6]!, m7 = words[w + 7]!;
  let m8 = words[w + 8]!, m9 = words[w + 9]!, m10 = words[w + 10]!, m11 = words[w + 11]!;
  let m12 = words[w + 12]!, m13 = words[w + 13]!, m14 = words[w + 14]!, m15 = words[w + 15]!;
  let s0 = cv[0]!, s1 = cv[1]!, s2 = cv[2]!, s3 = cv[3]!, s4 = cv[4]!, s5 = cv[5]!, s6 = cv[6]!, s7 = cv[7]!;
  let s8 = IV[0]!, s9 = IV[1]!, s10 = IV[2]!, s11 = IV[3]!;
  let s12 = 0, s13 = 0, s14 = blockLen, s15 = flags;
  for (let round = 0; ; round++) {
    // Columns, then diagonals.
    s0 = (s0 + s4 + m0) | 0; s12 ^= s0; s12 = (s12 >>> 16) | (s12 << 16);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 12) | (s4 << 20);
    s0 = (s0 + s4 + m1) | 0; s12 ^= s0; s12 = (s12 >>> 8) | (s12 << 24);
    s8 = (s8 + s12) | 0; s4 ^= s8; s4 = (s4 >>> 7) | (s4 << 25);
    s1 = (s1 + s5 + m2) | 0; s13 ^= s1; s13 = (s13 >>> 16) | (s13 << 16);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 12) | (s5 << 20);
    s1 = (s1 + s5 + m3) | 0; s13 ^= s1; s13 = (s13 >>> 8) | (s13 << 24);
    s9 = (s9 + s13) | 0; s5 ^= s9; s5 = (s5 >>> 7) | (s5 << 25);
    s2 = (s2 + s6 + m4) | 0; s14 ^= s2; s14 = (s14 >>> 16) | (s14 << 16);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 12) | (s6 << 20);
    s2 = (s2 + s6 + m5) | 0; s14 ^= s2; s14 = (s14 >>> 8) | (s14 << 24);
    s10 = (s10 + s14) | 0; s6 ^= s10; s6 = (s6 >>> 7) | (s6 << 25);
    s3 = (s3 + s7 + m6) | 0; s15 ^= s3; s15 = (s15 >>> 16) | (s15 << 16);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 12) | (s7 << 20);
    s3 = (s3 + s7 + m7) | 0; s15 ^= s3; s15 = (s15 >>> 8) | (s15 << 24);
    s11 = (s11 + s15) | 0; s7 ^= s11; s7 = (s7 >>> 7) | (s7 << 25);
    s0 = (s0 + s5 + m8) | 0; s15 ^= s0; s15 = (s15 >>> 16) | (s15 << 16);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 12) | (s5 << 20);
    s0 = (s0 + s5 + m9) | 0; s15 ^= s0; s15 = (s15 >>> 8) | (s15 << 24);
    s10 = (s10 + s15) | 0; s5 ^= s10; s5 = (s5 >>> 7) | (s5 << 25);
    s1 = (s1 + s6 + m10) | 0; s12 ^= s1; s12 = (s12 >>> 16) | (s12 << 16);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 12) | (s6 << 20);
    s1 = (s1 + s6 + m11) | 0; s12 ^= s1; s12 = (s12 >>> 8) | (s12 << 24);
    s11 = (s11 + s12) | 0; s6 ^= s11; s6 = (s6 >>> 7) | (s6 << 25);
    s2 = (s2 + s7 + m12) | 0; s13 ^= s2; s13 = (s13 >>> 16) | (s13 << 16);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 12) | (s7 << 20);
    s2 = (s2 + s7 + m13) | 0; s13 ^= s2; s13 = (s13 >>> 8) | (s13 << 24);
    s8 = (s8 + s13) | 0; s7 ^= s8; s7 = (s7 >>> 7) | (s7 << 25);
    s3 = (s3 + s4 + m14) | 0; s14 ^= s3; s14 = (s14 >>> 16) | (s14 << 16);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 12) | (s4 << 20);
    s3 = (s3 + s4 + m15) | 0; s14 ^= s3; s14 = (s14 >>> 8) | (s14 << 24);
    s9 = (s9 + s14) | 0; s4 ^= s9; s4 = (s4 >>> 7) | (s4 << 25);
    if (round === 6) break;
    // Message permutation [2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8], applied as its two 8-cycles.
    let t = m0;
    m0 = m2; m2 = m3; m3 = m10; m10 = m12; m12 = m9; m9 = m11; m11 = m5; m5 = t;
    t = m1;
    m1 = m6; m6 = m4; m4 = m7; m7 = m13; m13 = m14; m14 = m15; m15 = m8; m8 = t;
  }
  cv[0] = s0 ^ s8; cv[1] = s1 ^ s9; cv[2] = s2 ^ s10; cv[3] = s3 ^ s11;
  cv[4] = s4 ^ s12; cv[5] = s5 ^ s13; cv[6] = s6 ^ s14; cv[7] = s7 ^ s15;
}

/** Hashes msg[0..len) (`len` ≤ 1024, one root chunk) into out[outOff..outOff+32). */
function hashChunk(len: number, out: Uint8Array, outOff: number): void {
  // Every block but the last is full; the last holds 1..64 bytes, or 0 for the empty message.
  const lastStart = len === 0 ? 0 : (len - 1) & ~(BLOCK_LEN - 1);
  const end = lastStart + BLOCK_LEN;
  msg.fill(0, len, end);
  if (!LITTLE_ENDIAN) {
    for (let i = 0; i < end >> 2; i++) {
      const x = words[i]!;
      words[i] = (x >>> 24) | ((x >>> 8) & 0xff00) | ((x & 0xff00) << 8) | (x << 24);
    }
  }
  cv.set(IV);
  let flags = CHUNK_START;
  for (let p = 0; p < lastStart; p += BLOCK_LEN) {
    compress(p >> 2, BLOCK_LEN, flags);
    flags = 0;
  }
  compress(lastStart >> 2, len - lastStart, flags | CHUNK_END | ROOT);
  for (let i = 0; i < 8; i++) {
    const x = cv[i]!;
    const o = outOff + 4 * i;
    out[o] = x;
    out[o + 1] = x >>> 8;
    out[o + 2] = x >>> 16;
    out[o + 3] = x >>> 24;
  }
}

/** Copies src[off..off+len) to msg[at..); a byte loop for ranges, since a subarray view allocates. */
function load(src: Uint8Array, off: number, len: number, at: number): void {
  if (off === 0 && len === src.length) {
    msg.set(src, at);
  } else {
    for (let i = 0; i < len; i++) msg[at + i] = src[off + i]!;
  }
}

// The package's fallback is streamed in pieces: its wasm build aborts on one-shot inputs of 32 MiB.
const PIECE = 8 << 20;

/** BLAKE3-256 of src[off..off+len) natively: for messages longer than one chunk. */
function hashLong(src: Uint8Array, off: number, len: number): Uint8Array {
  const addon = nativeAddon();
  if (addon !== null) return addon.blake3(src.subarray(off, off + len));
  const hasher = packageHasher();
  for (let p = off, end = off + len; p < end; p += PIECE) hasher.update(src.subarray(p, Math.min(p + PIECE, end)));
  return hasher.digest();
}

/**
 * Writes BLAKE3-256 of `src[off..off+len)` into `out[outOff..outOff+32)`; allocates nothing for
 * messages up to 1024 bytes. For callers that hash many small messages, e.g. Merkle trees.
 */
export function blake3Into(src: Uint8Array, off: number, len: number, out: Uint8Array, outOff: number): void {
  if (len <= CHUNK_LEN) {
    load(src, off, len, 0);
    hashChunk(len, out, outOff);
  } else {
    out.set(hashLong(src, off, len), outOff);
  }
}

/** Like blake3Into, of the message `prefix` (one byte) ‖ `src[off..off+len)`: RFC 6962 leaves and nodes. */
export function blake3PrefixedInto(
  prefix: number,
  src: Uint8Array,
  off: number,
  len: number,
  out: Uint8Array,
  outOff: number,
): void {
  if (len < CHUNK_LEN) {
    msg[0] = prefix;
    load(src, off, len, 1);
    hashChunk(len + 1, out, outOff);
  } else {
    const m = new Uint8Array(len + 1);
    m[0] = prefix;
    m.set(src.subarray(off, off + len), 1);
    out.set(hashLong(m, 0, m.length), outOff);
  }
}

/** BLAKE3-256 digest (32 bytes) of `data`. */
export function blake3(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  blake3Into(data, 0, data.length, out, 0);
  return out;
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of `bytes`. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i]!]!;
  return s;
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Bytes of an even-length hex string; throws a TypeError on anything else. */
export function hexToBytes(hex: string): Uint8Array {
  if (!HEX_RE.test(hex)) throw new TypeError('hexToBytes: expected an even number of hex digits');
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** `"b3:" + 64 lowercase hex` of a 32-byte digest. */
export function formatDigest(digest: Uint8Array): string {
  if (digest.length !== 32) throw new TypeError('formatDigest: a digest is 32 bytes');
  return 'b3:' + bytesToHex(digest);
}

const DIGEST_RE = /^b3:[0-9a-f]{64}$/;

/** True for the canonical digest text `b3:` + 64 lowercase hex characters. */
export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && DIGEST_RE.test(s);
}

/** The 32 bytes of a `b3:` digest; throws a TypeError unless `isDigest(s)`. */
export function parseDigest(s: string): Uint8Array {
  if (!isDigest(s)) throw new TypeError('parseDigest: expected b3: followed by 64 lowercase hex');
  return hexToBytes(s.slice(3));
}

/** The SPEC §1 digest text of `data`. */
export function b3(data: Uint8Array): string {
  return formatDigest(blake3(data));
}

const encoder = new TextEncoder();
// Room for any string whose UTF-8 form is known to fit one chunk (≤ 3 bytes per UTF-16 unit).
const textScratch = new Uint8Array(CHUNK_LEN);
const digestScratch = new Uint8Array(32);

/** The SPEC §1 digest text of the UTF-8 bytes of `s` (lone surrogates become U+FFFD, as in TextEncoder). */
export function b3Text(s: string): string {
  if (s.length * 3 <= CHUNK_LEN) {
    const { written } = encoder.encodeInto(s, textScratch);
    blake3Into(textScratch, 0, written, digestScratch, 0);
    return 'b3:' + bytesToHex(digestScratch);
  }
  return b3(encoder.encode(s));
}

/**
 * BLAKE3-256 of a message given in pieces (a request body hashed as it arrives): the addon's
 * hasher (native/), else the `blake3` package's, fed in pieces its wasm build accepts.
 */
export class Blake3Stream {
  private readonly state: Uint8Array | null;
  private readonly fallback: PackageHasher | null;
  private done = false;

  constructor() {
    const addon = nativeAddon();
    // An addon built before the incremental functions existed has only the one-shot digest.
    this.state = addon !== null && typeof addon.blake3Init === 'function' ? addon.blake3Init() : null;
    this.fallback = this.state === null ? packageHasher() : null;
  }

  update(piece: Uint8Array): void {
    if (this.done) throw new Error('Blake3Stream: update after digest');
    if (this.state !== null) {
      (nativeAddon() as NonNullable<ReturnType<typeof nativeAddon>>).blake3Update(this.state, piece);
      return;
    }
    for (let p = 0; p < piece.length; p += PIECE) this.fallback?.update(piece.subarray(p, Math.min(p + PIECE, piece.length)));
  }

  /** The `b3:` text of everything given; the stream takes no more pieces after it. */
  digest(): string {
    this.done = true;
    if (this.state !== null) return formatDigest((nativeAddon() as NonNullable<ReturnType<typeof nativeAddon>>).blake3Final(this.state));
    return formatDigest((this.fallback as PackageHasher).digest());
  }
}
