// Field rules shared by the inputs and policy documents (SPEC §1–3).

export const MONEY_MAX = (1n << 128n) - 1n;
const MONEY_RE = /^(0|[1-9][0-9]{0,38})$/;

/** Parses a money string, or returns the reason it is not one. */
export function parseMoney(s: unknown): bigint | string {
  if (typeof s !== 'string') return 'expected a money string';
  if (!MONEY_RE.test(s)) return 'money must be decimal digits without sign, exponent or leading zeros';
  const v = BigInt(s);
  return v > MONEY_MAX ? 'money exceeds 2^128-1' : v;
}

export const KIND_RE = /^[a-z][a-z0-9_]{0,63}$/;
export const MAX_KINDS = 64;
export const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Why `s` is not a valid actor id (1–256 UTF-8 bytes, no C0/C1 controls), or null. */
export function actorIdProblem(s: string, asciiOnly: boolean): string | null {
  if (asciiOnly) {
    // Raw ASCII from the cursor: no controls can be present (JSON forbids them raw).
    if (s.length === 0) return 'actor id must not be empty';
    return s.length > 256 ? 'actor id longer than 256 bytes' : null;
  }
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const u = s.charCodeAt(i);
    // C0 (U+0000–U+001F) and C1 (U+0080–U+009F), as the SPEC names them; DEL is neither.
    if (u < 0x20 || (u >= 0x80 && u <= 0x9f)) return 'actor id contains a control character';
    bytes += u < 0x80 ? 1 : u < 0x800 ? 2 : u >= 0xd800 && u <= 0xdbff ? 2 : u >= 0xdc00 && u <= 0xdfff ? 2 : 3;
  }
  if (bytes === 0) return 'actor id must not be empty';
  return bytes > 256 ? 'actor id longer than 256 bytes' : null;
}

/**
 * Compares two strings in UTF-8 byte order (which is code point order). Plain `<` compares
 * UTF-16 units and disagrees when a surrogate pair meets a character in U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    const y0 = b.charCodeAt(i);
    if (x === y0) continue;
    let y = y0;
    // Lift surrogates above U+E000–U+FFFF so the order matches code points.
    if (x >= 0xd800 && x <= 0xdfff) x += 0x2000;
    else if (x >= 0xe000) x -= 0x800;
    if (y >= 0xd800 && y <= 0xdfff) y += 0x2000;
    else if (y >= 0xe000) y -= 0x800;
    return x - y;
  }
  return a.length - b.length;
}
