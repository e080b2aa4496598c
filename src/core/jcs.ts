// RFC 8785 JSON Canonicalization Scheme: the only JSON this service hashes (SPEC §1).
//
// Serialisation follows ECMAScript JSON.stringify for strings and Number::toString for numbers,
// which is what RFC 8785 specifies; the rules below only add what JSON.stringify would silently
// paper over. Values that have no JSON meaning (undefined, functions, symbols, bigint, NaN,
// ±Infinity, Maps, Dates, class instances) throw instead of being dropped or converted, because a
// digest over a silently altered document is worse than no digest.

/** Nesting deeper than this throws, so hostile or cyclic input cannot exhaust the stack. */
export const MAX_DEPTH = 1000;

// In a `u` regex a surrogate range matches only unpaired surrogates: paired ones form one code point.
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The JCS form of a string; throws a TypeError on lone surrogates (RFC 8785 §3.2.2.2). */
export function canonicalString(s: string): string {
  if (LONE_SURROGATE.test(s)) throw new TypeError('canonicalize: string contains a lone surrogate');
  return JSON.stringify(s);
}

/** The JCS form of a finite number (ES Number::toString, so -0 is "0" and 1e21 is "1e+21"). */
export function canonicalNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`canonicalize: ${n} has no JSON representation`);
  return String(n);
}

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function write(value: unknown, depth: number, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(canonicalString(value));
      return;
    case 'number':
      out.push(canonicalNumber(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalize: a ${typeof value} has no JSON representation`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (depth >= MAX_DEPTH) throw new RangeError(`canonicalize: nesting deeper than ${MAX_DEPTH}`);
  if (Array.isArray(value)) {
    out.push('[');
    // Indexing (not for…of) so holes in sparse arrays surface as undefined and throw.
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], depth + 1, out);
    }
    out.push(']');
    return;
  }
  if (!isPlainObject(value)) throw new TypeError('canonicalize: only plain objects and arrays are JSON');
  if (Object.getOwnPropertySymbols(value).length > 0) throw new TypeError('canonicalize: symbol-keyed member');
  // The default sort compares UTF-16 code units, which is the RFC 8785 member order.
  const names = Object.keys(value).sort();
  out.push('{');
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (i > 0) out.push(',');
    out.push(canonicalString(name), ':');
    write(value[name], depth + 1, out);
  }
  out.push('}');
}

/** RFC 8785 canonical JSON text of `value`; throws a TypeError/RangeError on non-JSON values. */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  write(value, 0, out);
  return out.join('');
}

const encoder = new TextEncoder();

/** UTF-8 bytes of `canonicalize(value)`: what gets hashed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}
