// UTF-8 of many small strings with one encoder call: per-call overhead dominated encoding 10k
// actor names or payout leaves one by one.

import { nativeAddon } from './native.js';

const encoder = new TextEncoder();

/** The UTF-8 bytes of all `texts` back to back, and where each one starts (n + 1 offsets). */
export function encodeEach(texts: readonly string[]): { bytes: Uint8Array; offsets: Uint32Array } {
  const joined = texts.join('');
  const bytes = encoder.encode(joined);
  const ascii = bytes.length === joined.length;
  const offsets = new Uint32Array(texts.length + 1);
  let at = 0;
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i] as string;
    at += ascii ? t.length : encoder.encode(t).length;
    offsets[i + 1] = at;
  }
  return { bytes, offsets };
}

// JSON.stringify's escapes (RFC 8785's) of the bytes below 0x20, '"' and '\'; 0 = copied as is.
const ESCAPE: readonly (Uint8Array | null)[] = Array.from({ length: 256 }, (_, b) => {
  const short: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r', 0x22: '\\"', 0x5c: '\\\\' };
  if (short[b] !== undefined) return encoder.encode(short[b]);
  if (b < 0x20) return encoder.encode(`\\u${b.toString(16).padStart(4, '0')}`);
  return null;
});

let nativeQuote = true;

/** Tests only: false makes quoteEach use its TypeScript loops alone (the path without the addon). */
export function useNativeQuote(on: boolean): void {
  nativeQuote = on;
}

/**
 * Each UTF-8 text of `texts` as a JSON string (quotes and escapes exactly as JSON.stringify writes
 * the string the bytes encode), back to back with n + 1 offsets: `quotedNames` from bytes, without
 * a string per text. The texts must be well-formed UTF-8 (so no lone surrogates to escape).
 */
export function quoteEach(texts: { bytes: Uint8Array; offsets: Uint32Array }, alloc: (n: number) => ArrayBufferLike = (n) => new ArrayBuffer(n)): { bytes: Uint8Array; offsets: Uint32Array } {
  const { bytes: src, offsets: from } = texts;
  const n = from.length - 1;
  // The addon's loops (native/arrow_tally.c) write the same bytes; these run cold once per sealed
  // Arrow stream, ~120 ms at 1M actors in a fresh worker. They are the reference and the fallback.
  const addon = nativeQuote ? nativeAddon() : null;
  if (addon !== null) {
    const bytes = new Uint8Array(alloc(addon.quotedLength(src) + 2 * n));
    const offsets = new Uint32Array(alloc(4 * (n + 1)));
    if (addon.quoteInto(src, from, bytes, offsets)) return { bytes, offsets };
  }
  let size = src.length + 2 * n;
  for (let p = 0; p < src.length; p++) {
    const e = ESCAPE[src[p] as number] as Uint8Array | null;
    if (e !== null) size += e.length - 1;
  }
  const bytes = new Uint8Array(alloc(size));
  const offsets = new Uint32Array(alloc(4 * (n + 1)));
  let at = 0;
  for (let i = 0; i < n; i++) {
    bytes[at++] = 0x22;
    for (let p = from[i] as number, end = from[i + 1] as number; p < end; p++) {
      const x = src[p] as number;
      const e = ESCAPE[x] as Uint8Array | null;
      if (e === null) bytes[at++] = x;
      else {
        bytes.set(e, at);
        at += e.length;
      }
    }
    bytes[at++] = 0x22;
    offsets[i + 1] = at;
  }
  return { bytes, offsets };
}
