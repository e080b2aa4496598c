// UTF-8 of many small strings with one encoder call: per-call overhead dominated encoding 10k
// actor names or payout leaves one by one.

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
