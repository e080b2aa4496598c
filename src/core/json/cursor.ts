// A strict I-JSON (RFC 7493) reader over raw bytes. It is the one place that knows JSON syntax;
// the document decoders drive it member by member so they can build typed columns directly
// instead of materialising a tree (JSON.parse + a second validation pass costs 2–3× more at M).
//
// What it refuses, each with the byte offset: invalid UTF-8 (including encoded surrogates and
// overlong forms), lone surrogate escapes, raw control characters in strings, a byte order mark,
// and any number that is not a plain non-negative integer within 2^53−1. Duplicate member names
// are the caller's to detect (it knows the expected members); `parseValue` does it for generic
// objects.

import { Buffer } from 'node:buffer';
import { nativeAddon } from '../native.js';

export const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Thrown inside the decoders, turned into a DocError at their boundary. */
export class JsonFail extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
  }
}

const WS = new Uint8Array(256);
WS[0x20] = 1;
WS[0x09] = 1;
WS[0x0a] = 1;
WS[0x0d] = 1;

/** Span of a string's raw bytes, between the quotes, and whether it needs decoding work. */
export interface StrSpan {
  start: number;
  end: number;
  /** Contains a backslash escape or a non-ASCII byte. */
  complex: boolean;
}

export class Cursor {
  readonly buf: Uint8Array;
  private readonly text: Buffer & FastSlices;
  pos = 0;
  // Reused by readSpan so the hot loops allocate nothing per string.
  readonly span: StrSpan = { start: 0, end: 0, complex: false };

  constructor(buf: Uint8Array) {
    this.buf = buf;
    this.text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength) as Buffer & FastSlices;
    if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
      throw new JsonFail('a byte order mark is not allowed', 0);
    }
  }

  fail(reason: string, offset = this.pos): never {
    throw new JsonFail(reason, offset);
  }

  ws(): void {
    const b = this.buf;
    let p = this.pos;
    while (p < b.length && WS[b[p] as number] === 1) p++;
    this.pos = p;
  }

  /** Next non-whitespace byte without consuming it; -1 at the end. */
  peek(): number {
    this.ws();
    return this.pos < this.buf.length ? (this.buf[this.pos] as number) : -1;
  }

  expect(ch: number, what: string): void {
    if (this.peek() !== ch) this.unexpected(what);
    this.pos++;
  }

  unexpected(what: string): never {
    if (this.pos >= this.buf.length) this.fail(`unexpected end of document, expected ${what}`);
    this.fail(`invalid JSON, expected ${what}`);
  }

  end(): void {
    this.ws();
    if (this.pos !== this.buf.length) this.fail('unexpected data after the document');
  }

  /**
   * Reads `{` and reports whether the object is empty; then use `nextMember` to iterate.
   * Pattern: `if (c.openObject()) do { const k = c.key(); … } while (c.more('}'))`.
   */
  openObject(): boolean {
    this.expect(0x7b, 'an object');
    if (this.peek() === 0x7d) {
      this.pos++;
      return false;
    }
    return true;
  }

  openArray(): boolean {
    this.expect(0x5b, 'an array');
    if (this.peek() === 0x5d) {
      this.pos++;
      return false;
    }
    return true;
  }

  /** After a member or element: consumes `,` (true) or the closing bracket (false). */
  more(close: number): boolean {
    const c = this.peek();
    if (c === 0x2c) {
      this.pos++;
      return true;
    }
    if (c === close) {
      this.pos++;
      return false;
    }
    return this.unexpected(close === 0x7d ? "',' or '}'" : "',' or ']'");
  }

  /** Reads a member name and the colon; returns the decoded name. */
  key(): string {
    if (this.peek() !== 0x22) this.unexpected('a member name');
    const s = this.string();
    this.expect(0x3a, "':'");
    return s;
  }

  /** Reads a string into `this.span` (validating it) without decoding it. */
  readSpan(): StrSpan {
    if (this.peek() !== 0x22) this.unexpected('a string');
    const b = this.buf;
    const n = b.length;
    let p = this.pos + 1;
    const start = p;
    let complex = false;
    for (;;) {
      if (p >= n) this.fail('unterminated string', start - 1);
      const c = b[p] as number;
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in string', p);
      if (c === 0x5c) {
        complex = true;
        p = this.checkEscape(p);
      } else if (c >= 0x80) {
        complex = true;
        p = this.checkUtf8(p);
      } else {
        p++;
      }
    }
    this.pos = p + 1;
    const sp = this.span;
    sp.start = start;
    sp.end = p;
    sp.complex = complex;
    return sp;
  }

  /** Reads and decodes a string. */
  string(): string {
    const sp = this.readSpan();
    return this.decodeSpan(sp.start, sp.end, sp.complex);
  }

  decodeSpan(start: number, end: number, complex: boolean): string {
    if (!complex) return this.text.latin1Slice(start, end);
    const backslash = this.buf.indexOf(0x5c, start);
    if (backslash === -1 || backslash >= end) return this.text.utf8Slice(start, end);
    return this.unescape(start, end);
  }

  /** Validates one escape at p (the backslash); returns the position after it. */
  private checkEscape(p: number): number {
    const b = this.buf;
    const e = b[p + 1];
    if (e === undefined) this.fail('unterminated string', p);
    if (e === 0x75) {
      const u = this.hex4(p + 2);
      if (u >= 0xd800 && u <= 0xdbff) {
        // A high surrogate must be followed by an escaped low surrogate.
        if (b[p + 6] !== 0x5c || b[p + 7] !== 0x75) this.fail('lone surrogate escape', p);
        const lo = this.hex4(p + 8);
        if (lo < 0xdc00 || lo > 0xdfff) this.fail('lone surrogate escape', p);
        return p + 12;
      }
      if (u >= 0xdc00 && u <= 0xdfff) this.fail('lone surrogate escape', p);
      return p + 6;
    }
    // " \ / b f n r t
    if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      return p + 2;
    }
    return this.fail('invalid escape in string', p);
  }

  private hex4(p: number): number {
    const b = this.buf;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = b[p + i];
      let d: number;
      if (c === undefined) return this.fail('unterminated string', p);
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
      else return this.fail('invalid \\u escape', p);
      v = (v << 4) | d;
    }
    return v;
  }

  /** Validates one UTF-8 sequence starting at p (RFC 3629 table); returns the position after it. */
  private checkUtf8(p: number): number {
    const b = this.buf;
    const c = b[p] as number;
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c === 0xe0) {
      need = 2;
      lo = 0xa0;
    } else if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) need = 2;
    else if (c === 0xed) {
      need = 2;
      hi = 0x9f; // excludes encoded surrogates
    } else if (c === 0xf0) {
      need = 3;
      lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3) need = 3;
    else if (c === 0xf4) {
      need = 3;
      hi = 0x8f;
    } else return this.fail('invalid UTF-8', p);
    const c1 = b[p + 1];
    if (c1 === undefined || c1 < lo || c1 > hi) this.fail('invalid UTF-8', p);
    for (let i = 2; i <= need; i++) {
      const ci = b[p + i];
      if (ci === undefined || ci < 0x80 || ci > 0xbf) this.fail('invalid UTF-8', p);
    }
    return p + need + 1;
  }

  private unescape(start: number, end: number): string {
    const b = this.buf;
    let out = '';
    let run = start;
    let p = start;
    while (p < end) {
      if (b[p] !== 0x5c) {
        p++;
        continue;
      }
      if (p > run) out += this.text.utf8Slice(run, p);
      const e = b[p + 1] as number;
      if (e === 0x75) {
        out += String.fromCharCode(this.hex4(p + 2));
        p += 6;
      } else {
        out += ESCAPES[e] as string;
        p += 2;
      }
      run = p;
    }
    if (end > run) out += this.text.utf8Slice(run, end);
    return out;
  }

  /** Reads a non-negative integer written as plain digits, at most 2^53−1. */
  uint(): number {
    this.ws();
    const b = this.buf;
    let p = this.pos;
    const start = p;
    let c = b[p];
    if (c === undefined) this.unexpected('an integer');
    if (c === 0x2d) this.fail('negative numbers are not allowed');
    if (c < 0x30 || c > 0x39) this.unexpected('an integer');
    let v = 0;
    if (c === 0x30) {
      p++;
      c = b[p];
      if (c !== undefined && c >= 0x30 && c <= 0x39) this.fail('leading zeros are not allowed', start);
    } else {
      // 15 digits always fit exactly; the 16th is checked against 2^53−1 before it is added.
      while (c !== undefined && c >= 0x30 && c <= 0x39) {
        const digits = p - start;
        if (digits >= 15) {
          if (digits >= 16 || v > 900719925474099 || (v === 900719925474099 && c > 0x31)) {
            this.fail('integer out of range (max 2^53-1)', start);
          }
        }
        v = v * 10 + (c - 0x30);
        p++;
        c = b[p];
      }
    }
    if (c === 0x2e || c === 0x65 || c === 0x45) this.fail('number must be an integer', start);
    this.pos = p;
    return v;
  }

  /**
   * Reads `[int, int, …]` into a growable Float64Array (returned, possibly reallocated), with the
   * count in `this.count`. The columnar hot path: one loop over digits, commas and whitespace
   * instead of a call per token. Throws with `this.count` = index of the offending element.
   */
  uintArray(into: Float64Array, max: number, tooMany: () => never): Float64Array {
    if (nativeArrays) {
      // The addon reads an array of the plain form (the common case, and most of a columnar
      // document's bytes) into an exact-size column, or returns null having decided nothing: the
      // loop below then reads it, with every error (native/rewarder_native.c, "uintArray").
      const fast = nativeAddon()?.uintArray(this.buf, this.pos, max, NATIVE_END);
      if (fast !== undefined && fast !== null) {
        this.count = fast.length;
        this.pos = NATIVE_END[0] as number;
        this.largest = NATIVE_END[1] as number;
        return fast;
      }
    }
    this.largest = Infinity;
    let out = into;
    let n = 0;
    this.count = 0;
    this.expect(0x5b, 'an array');
    const b = this.buf;
    const len = b.length;
    let p = this.pos;
    while (p < len && WS[b[p] as number] === 1) p++;
    if (b[p] === 0x5d) {
      this.pos = p + 1;
      return out;
    }
    for (;;) {
      while (p < len && WS[b[p] as number] === 1) p++;
      this.count = n;
      const start = p;
      let c = b[p];
      if (c === undefined || c < 0x30 || c > 0x39) {
        // Not a plain digit: let uint() produce the precise error.
        this.pos = p;
        this.uint();
        this.unexpected('an integer');
      }
      let v = c - 0x30;
      p++;
      c = b[p];
      if (v === 0) {
        if (c !== undefined && c >= 0x30 && c <= 0x39) this.fail('leading zeros are not allowed', start);
      } else {
        while (c !== undefined && c >= 0x30 && c <= 0x39) {
          v = v * 10 + (c - 0x30);
          p++;
          c = b[p];
        }
        // Up to 15 digits are exact; longer runs are re-read by uint() for the range check.
        if (p - start > 15) {
          this.pos = start;
          v = this.uint();
          p = this.pos;
          c = b[p];
        }
      }
      if (c === 0x2e || c === 0x65 || c === 0x45) this.fail('number must be an integer', start);
      if (n === max) tooMany();
      if (n === out.length) {
        const bigger = new Float64Array(out.length * 2);
        bigger.set(out);
        out = bigger;
      }
      out[n++] = v;
      while (p < len && WS[b[p] as number] === 1) p++;
      c = b[p];
      if (c === 0x2c) {
        p++;
        continue;
      }
      this.count = n;
      if (c === 0x5d) {
        this.pos = p + 1;
        return out;
      }
      this.pos = p;
      this.unexpected("',' or ']'");
    }
  }

  /** Elements read by the last uintArray call (the failing index when it threw). */
  count = 0;
  /** The largest element of the last uintArray call when the addon read it; Infinity (unknown) otherwise. */
  largest = Infinity;

  /**
   * Generic strict value (objects get a null prototype, so a member named `__proto__` is just
   * data). Used for small documents and request bodies; the big inputs go through the typed
   * decoder. Depth is bounded so hostile nesting fails fast instead of exhausting the stack.
   */
  parseValue(depth = 0): unknown {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH} levels`);
    const c = this.peek();
    switch (c) {
      case 0x7b: {
        const obj: Record<string, unknown> = Object.create(null);
        if (this.openObject()) {
          do {
            const at = this.pos;
            const k = this.key();
            if (Object.hasOwn(obj, k)) this.fail('duplicate member name', at);
            obj[k] = this.parseValue(depth + 1);
          } while (this.more(0x7d));
        }
        return obj;
      }
      case 0x5b: {
        const arr: unknown[] = [];
        if (this.openArray()) {
          do arr.push(this.parseValue(depth + 1));
          while (this.more(0x5d));
        }
        return arr;
      }
      case 0x22:
        return this.string();
      case 0x74:
        return this.literal('true', true);
      case 0x66:
        return this.literal('false', false);
      case 0x6e:
        return this.literal('null', null);
      default:
        return this.uint();
    }
  }

  private literal<T>(word: string, value: T): T {
    const b = this.buf;
    for (let i = 0; i < word.length; i++) {
      if (b[this.pos + i] !== word.charCodeAt(i)) this.unexpected('a value');
    }
    this.pos += word.length;
    return value;
  }
}

export const MAX_DEPTH = 64;

// Where the addon's uintArray leaves the cursor (after `]`), and the largest element it read.
const NATIVE_END = new Float64Array(2);
let nativeArrays = true;

/** Tests only: false makes uintArray use its TypeScript loop alone (the path without the addon). */
export function useNativeArrays(on: boolean): void {
  nativeArrays = on;
}

// Buffer's unchecked slice methods: present on every Node Buffer, missing from @types/node. They
// skip the argument validation of toString(), which matters for 100k strings per document.
interface FastSlices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

const ESCAPES: string[] = [];
ESCAPES[0x22] = '"';
ESCAPES[0x5c] = '\\';
ESCAPES[0x2f] = '/';
ESCAPES[0x62] = '\b';
ESCAPES[0x66] = '\f';
ESCAPES[0x6e] = '\n';
ESCAPES[0x72] = '\r';
ESCAPES[0x74] = '\t';
