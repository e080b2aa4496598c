// Reads one intent body (SPEC §7) as the ledger sees it. Validation is deliberately minimal: the
// stub must accept whatever a correct rewarder sends and only refuse what would make its own
// bookkeeping meaningless (no part_id, a key that does not name the part, amounts it cannot sum).
// Dedupe works on a digest of the exact bytes, so the stub never re-serialises what it received.
//
// The body is read in one pass over its bytes, without building the document: a part is ~250 KB
// of 4096 credits, and JSON.parse plus a BigInt per amount cost ~1.6 ms of it, on the same cores
// as the rewarder's compute worker in every loopback benchmark (PERFORMANCE.md, Settlement). The
// answers are exactly those of `JSON.parse(body.toString('utf8'))` followed by member look-ups:
// the same documents are refused, the last of duplicate members wins, strings decode the same.

import { hash } from 'blake3';

export interface Intent {
  part_id: string;
  run_key: string | null;
  epoch_id: string | null;
  part: { index: number | null; count: number | null };
  credits: number;
  /** Sum of `amount_minor` over the credits, as a decimal string (BigInt: money is up to 2^128−1). */
  sum_minor: string;
  /** `b3:` and the hex BLAKE3-256 of the exact body bytes (the project's digest, SPEC §1; ~2× cheaper than SHA-256 here). */
  body_b3: string;
}

export type IntentReading = { ok: true; intent: Intent } | { ok: false; reason: string };

export function readIntent(body: Buffer, idempotencyKey: string | undefined): IntentReading {
  const doc = new IntentScanner(body).scan();
  if (doc === null) return { ok: false, reason: 'not_json' };
  if (doc === NOT_AN_OBJECT) return { ok: false, reason: 'not_an_object' };
  const partId = doc.partId;
  if (typeof partId !== 'string' || partId === '') return { ok: false, reason: 'missing_part_id' };
  if (idempotencyKey !== partId) return { ok: false, reason: 'idempotency_key_mismatch' };
  if (doc.credits === null) return { ok: false, reason: 'bad_credits' };
  return {
    ok: true,
    intent: {
      part_id: partId,
      run_key: doc.runKey,
      epoch_id: doc.epochId,
      part: { index: doc.index, count: doc.count },
      credits: doc.credits.count,
      sum_minor: doc.credits.sum.toString(),
      body_b3: `b3:${hash(body).toString('hex')}`,
    },
  };
}

/** What the ledger needs from a body that is a JSON object. */
interface Scanned {
  /** The string value, or null when the member is not a string (absent: undefined). */
  partId: string | null | undefined;
  runKey: string | null;
  epochId: string | null;
  index: number | null;
  count: number | null;
  /** null: `credits` is neither an array of credits with money amounts nor absent/null. */
  credits: { count: number; sum: bigint } | null;
}

const NOT_AN_OBJECT = Symbol('not an object');

const MAX_MONEY = 2n ** 128n - 1n;
const MONEY = /^(0|[1-9][0-9]*)$/;
/** Amounts of up to 15 digits are summed as Numbers, exactly, until the total nears 2^53. */
const SMALL_DIGITS = 15;
const SMALL_FLUSH = 2 ** 53 - 1e15;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;

const enum Member {
  Other,
  PartId,
  RunKey,
  EpochId,
  Part,
  Credits,
  Index,
  Count,
  AmountMinor,
}

type Names = readonly (readonly [Member, Buffer])[];
const names = (list: readonly (readonly [Member, string])[]): Names => list.map(([m, name]) => [m, Buffer.from(name, 'latin1')] as const);
/** The members read, per object: the body, its `part`, each credit. */
const BODY = names([
  [Member.PartId, 'part_id'],
  [Member.RunKey, 'run_key'],
  [Member.EpochId, 'epoch_id'],
  [Member.Part, 'part'],
  [Member.Credits, 'credits'],
]);
const PART = names([
  [Member.Index, 'index'],
  [Member.Count, 'count'],
]);
const CREDIT = names([[Member.AmountMinor, 'amount_minor']]);

/**
 * A credit exactly as the rewarder writes it (JCS): `{"actor":"…","amount_minor":"…"}`. Its fixed
 * parts as little-endian words, for canonicalCredit() to compare four bytes at a time.
 */
const le32 = (text: string): number => Buffer.from(text, 'latin1').readUInt32LE(0);
const le16 = (text: string): number => Buffer.from(text, 'latin1').readUInt16LE(0);
const ACTOR_0 = le32('{"ac');
const ACTOR_1 = le32('tor"');
const ACTOR_2 = le16(':"');
const AMOUNT_0 = le32('","a');
const AMOUNT_1 = le32('moun');
const AMOUNT_2 = le32('t_mi');
const AMOUNT_3 = le32('nor"');
const AMOUNT_4 = le16(':"');
/** canonicalCredit(): not in the canonical form, read it the general way. */
const NOT_CANONICAL = -2;

/** A syntax error anywhere: the body is not JSON, whatever else is wrong with it. */
class NotJson extends Error {}

class IntentScanner {
  private i = 0;
  /** Whether the string just scanned had an escape (then its raw bytes are not its value). */
  private escaped = false;

  /** The same bytes, for reading words (a DataView read is one load, not four). */
  private readonly v: DataView;

  constructor(private readonly b: Buffer) {
    this.v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  scan(): Scanned | typeof NOT_AN_OBJECT | null {
    try {
      this.ws();
      let doc: Scanned | typeof NOT_AN_OBJECT;
      if (this.b[this.i] === LBRACE) doc = this.topObject();
      else {
        this.skipValue();
        doc = NOT_AN_OBJECT;
      }
      this.ws();
      return this.i === this.b.length ? doc : null;
    } catch (e) {
      if (e instanceof NotJson) return null;
      throw e;
    }
  }

  private topObject(): Scanned {
    const doc: Scanned = { partId: undefined, runKey: null, epochId: null, index: null, count: null, credits: { count: 0, sum: 0n } };
    if (this.enterObject()) {
      do {
        switch (this.memberName(BODY)) {
          case Member.PartId:
            doc.partId = this.stringValue();
            break;
          case Member.RunKey:
            doc.runKey = this.stringValue();
            break;
          case Member.EpochId:
            doc.epochId = this.stringValue();
            break;
          case Member.Part:
            [doc.index, doc.count] = this.part();
            break;
          case Member.Credits:
            doc.credits = this.credits();
            break;
          default:
            this.skipValue();
        }
      } while (this.nextMember());
    }
    return doc;
  }

  /** `part`: its integer `index` and `count`, each null unless a safe integer (as before: {} if not an object). */
  private part(): [number | null, number | null] {
    let index: number | null = null;
    let count: number | null = null;
    if (this.b[this.i] !== LBRACE) {
      this.skipValue();
      return [null, null];
    }
    if (this.enterObject()) {
      do {
        const name = this.memberName(PART);
        if (name === Member.Index) index = this.integerValue();
        else if (name === Member.Count) count = this.integerValue();
        else this.skipValue();
      } while (this.nextMember());
    }
    return [index, count];
  }

  /** `credits`: absent or null counts as none; anything else must be an array of `{amount_minor: money}`. */
  private credits(): { count: number; sum: bigint } | null {
    const b = this.b;
    if (b[this.i] !== LBRACKET) {
      const isNull = b[this.i] === 0x6e; // n
      this.skipValue();
      return isNull ? { count: 0, sum: 0n } : null;
    }
    this.i++;
    this.ws();
    let count = 0;
    let good = true;
    let small = 0;
    let sum = 0n;
    if (b[this.i] === RBRACKET) {
      this.i++;
      return { count, sum };
    }
    for (;;) {
      count++;
      // The rewarder's layout first: a canonical credit, then a bare comma before the next one,
      // without a call to credit() or ws() (this loop runs 4096 times per part).
      const fast = this.canonicalCredit();
      const amount = fast !== NOT_CANONICAL ? fast : b[this.i] === LBRACE ? this.credit() : (this.skipValue(), -1);
      if (typeof amount === 'bigint') sum += amount;
      else if (amount < 0) good = false;
      else {
        small += amount;
        if (small > SMALL_FLUSH) {
          sum += BigInt(small);
          small = 0;
        }
      }
      if (fast !== NOT_CANONICAL && b[this.i] === COMMA && b[this.i + 1] === LBRACE) {
        this.i++;
        continue;
      }
      this.ws();
      if (b[this.i] === COMMA) {
        this.i++;
        this.ws();
      } else if (b[this.i] === RBRACKET) {
        this.i++;
        return good ? { count, sum: sum + BigInt(small) } : null;
      } else throw new NotJson();
    }
  }

  /** One credit object: its (last) `amount_minor` as money, or −1 when absent or not money. */
  private credit(): number | bigint {
    let amount: number | bigint = -1;
    if (this.enterObject()) {
      do {
        if (this.memberName(CREDIT) === Member.AmountMinor) amount = this.money();
        else this.skipValue();
      } while (this.nextMember());
    }
    return amount;
  }

  /**
   * The fast path for the credits a rewarder sends: the canonical form with an unescaped actor
   * and an amount of 1 to 15 digits. Anything else, valid or not, leaves the cursor where it was
   * and answers NOT_CANONICAL, for the general reading to decide. The fixed parts are compared
   * four bytes at a time and the actor is scanned a word at a time (below): byte by byte, this
   * was a third of the stub's CPU on the benchmarks' loopback, where the stub competes with the
   * rewarder's compute worker (PERFORMANCE.md, Settlement).
   */
  private canonicalCredit(): number {
    const b = this.b;
    const v = this.v;
    const last = b.length - 4; // the last offset a 4-byte read may start at
    let i = this.i;
    if (i + 10 > b.length || v.getUint32(i, true) !== ACTOR_0 || v.getUint32(i + 4, true) !== ACTOR_1 || v.getUint16(i + 8, true) !== ACTOR_2) return NOT_CANONICAL;
    i += 10;
    while (i <= last && !hasQuoteBackslashOrControl(v.getUint32(i, true))) i += 4;
    for (let c = b[i]; c !== QUOTE; c = b[++i]) if (c === undefined || c < 0x20 || c === BACKSLASH) return NOT_CANONICAL;
    if (
      i + 18 > b.length ||
      v.getUint32(i, true) !== AMOUNT_0 ||
      v.getUint32(i + 4, true) !== AMOUNT_1 ||
      v.getUint32(i + 8, true) !== AMOUNT_2 ||
      v.getUint32(i + 12, true) !== AMOUNT_3 ||
      v.getUint16(i + 16, true) !== AMOUNT_4
    )
      return NOT_CANONICAL;
    i += 18;
    const first = i;
    let value = 0;
    for (let c = b[i]; c !== undefined && c >= ZERO && c <= NINE; c = b[++i]) value = value * 10 + (c - ZERO);
    const digits = i - first;
    if (digits === 0 || digits > SMALL_DIGITS || (digits > 1 && b[first] === ZERO)) return NOT_CANONICAL;
    if (b[i] !== QUOTE || b[i + 1] !== RBRACE) return NOT_CANONICAL;
    this.i = i + 2;
    return value;
  }

  /** A money string value (decimal digits, no leading zero, ≤ 2^128−1), else −1; non-strings are skipped. */
  private money(): number | bigint {
    const b = this.b;
    const start = this.i;
    if (b[start] !== QUOTE) {
      this.skipValue();
      return -1;
    }
    // The common case in one loop: plain digits up to the closing quote.
    let j = start + 1;
    let value = 0;
    for (let c = b[j]; c !== undefined && c >= ZERO && c <= NINE; c = b[++j]) value = value * 10 + (c - ZERO);
    const digits = j - start - 1;
    if (b[j] === QUOTE && digits > 0 && digits <= SMALL_DIGITS) {
      this.i = j + 1;
      return digits > 1 && b[start + 1] === ZERO ? -1 : value;
    }
    // Anything else (escapes, long amounts, not digits) through the string's decoded value.
    const text = this.stringValue();
    if (text === null || !MONEY.test(text)) return -1;
    const big = BigInt(text);
    return big > MAX_MONEY ? -1 : big;
  }

  /** A number value that is a safe integer (as JSON.parse reads it), else null; other values are skipped. */
  private integerValue(): number | null {
    const c = this.b[this.i];
    if (c !== MINUS && (c === undefined || c < ZERO || c > NINE)) {
      this.skipValue();
      return null;
    }
    const start = this.i;
    this.number();
    const n = Number(this.b.toString('latin1', start, this.i));
    return Number.isSafeInteger(n) ? n : null;
  }

  /** A string value's decoded text, or null for any other value (skipped). */
  private stringValue(): string | null {
    const start = this.i;
    if (this.b[start] !== QUOTE) {
      this.skipValue();
      return null;
    }
    this.string();
    return this.escaped ? (JSON.parse(this.b.toString('utf8', start, this.i)) as string) : this.b.toString('utf8', start + 1, this.i - 1);
  }

  // An object is read as: `if (enterObject()) do { memberName(…); <read or skip the value> } while (nextMember());`
  // (no callback per object: there are 4096 credit objects in a part).

  /** Steps into the object at the cursor (`{`); false when it is empty (then the cursor is after it). */
  private enterObject(): boolean {
    this.i++;
    this.ws();
    if (this.b[this.i] !== RBRACE) return true;
    this.i++;
    return false;
  }

  /** After a member's value: true at a comma (cursor on the next name), false after the closing `}`. */
  private nextMember(): boolean {
    this.ws();
    const c = this.b[this.i];
    this.i++;
    if (c === COMMA) {
      this.ws();
      return true;
    }
    if (c === RBRACE) return false;
    throw new NotJson();
  }

  /** The member name at the cursor, as one of `names` or Other; leaves the cursor on its value. */
  private memberName(names: Names): Member {
    const b = this.b;
    const start = this.i;
    if (b[start] !== QUOTE) throw new NotJson();
    this.string();
    const end = this.i;
    this.ws();
    if (b[this.i] !== COLON) throw new NotJson();
    this.i++;
    this.ws();
    if (this.escaped) {
      const text = Buffer.from(JSON.parse(b.toString('utf8', start, end)) as string, 'utf8');
      return names.find(([, name]) => name.equals(text))?.[0] ?? Member.Other;
    }
    // Byte by byte in JS: a native compare per name costs more than the few bytes it compares.
    const length = end - start - 2;
    for (const [member, name] of names) {
      if (name.length !== length) continue;
      let k = 0;
      while (k < length && b[start + 1 + k] === name[k]) k++;
      if (k === length) return member;
    }
    return Member.Other;
  }

  /** Any JSON value, validated and skipped; nesting is followed with a stack, not recursion. */
  private skipValue(): void {
    const b = this.b;
    const c = b[this.i];
    if (c !== LBRACE && c !== LBRACKET) return this.scalar();
    const open: number[] = [];
    for (;;) {
      const v = b[this.i];
      if (v === LBRACE || v === LBRACKET) {
        this.i++;
        this.ws();
        if (b[this.i] === (v === LBRACE ? RBRACE : RBRACKET)) this.i++;
        else {
          open.push(v);
          if (v === LBRACE) this.nameAndColon();
          continue;
        }
      } else this.scalar();
      // After a value: close what ends here, then move to the next element or member.
      for (;;) {
        const top = open[open.length - 1];
        if (top === undefined) return;
        this.ws();
        const d = b[this.i];
        if (d === COMMA) {
          this.i++;
          this.ws();
          if (top === LBRACE) this.nameAndColon();
          break;
        }
        if (d !== (top === LBRACE ? RBRACE : RBRACKET)) throw new NotJson();
        this.i++;
        open.pop();
      }
    }
  }

  private nameAndColon(): void {
    if (this.b[this.i] !== QUOTE) throw new NotJson();
    this.string();
    this.ws();
    if (this.b[this.i] !== COLON) throw new NotJson();
    this.i++;
    this.ws();
  }

  private scalar(): void {
    const b = this.b;
    const c = b[this.i];
    if (c === QUOTE) this.string();
    else if (c === MINUS || (c !== undefined && c >= ZERO && c <= NINE)) this.number();
    else if (c === 0x74) this.literal('true');
    else if (c === 0x66) this.literal('false');
    else if (c === 0x6e) this.literal('null');
    else throw new NotJson();
  }

  /** A string at the cursor (`"`), validated; leaves the cursor after its closing quote. */
  private string(): void {
    const b = this.b;
    const n = b.length;
    let i = this.i + 1;
    this.escaped = false;
    for (;;) {
      if (i >= n) throw new NotJson();
      const c = b[i] as number;
      if (c === QUOTE) break;
      if (c < 0x20) throw new NotJson();
      if (c === BACKSLASH) {
        this.escaped = true;
        const e = b[i + 1];
        if (e === 0x75) {
          // \uXXXX: four hex digits (lone surrogates are fine, as for JSON.parse)
          for (let k = i + 2; k < i + 6; k++) if (!isHex(b[k])) throw new NotJson();
          i += 6;
          continue;
        }
        // " \ / b f n r t
        if (e !== QUOTE && e !== BACKSLASH && e !== 0x2f && e !== 0x62 && e !== 0x66 && e !== 0x6e && e !== 0x72 && e !== 0x74) throw new NotJson();
        i += 2;
        continue;
      }
      i++;
    }
    this.i = i + 1;
  }

  /** -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
  private number(): void {
    const b = this.b;
    let i = this.i;
    if (b[i] === MINUS) i++;
    if (b[i] === ZERO) i++;
    else if (isDigit(b[i])) while (isDigit(b[i])) i++;
    else throw new NotJson();
    if (b[i] === 0x2e) {
      i++;
      if (!isDigit(b[i])) throw new NotJson();
      while (isDigit(b[i])) i++;
    }
    if (b[i] === 0x65 || b[i] === 0x45) {
      i++;
      if (b[i] === 0x2b || b[i] === MINUS) i++;
      if (!isDigit(b[i])) throw new NotJson();
      while (isDigit(b[i])) i++;
    }
    this.i = i;
  }

  private literal(word: 'true' | 'false' | 'null'): void {
    if (this.b.toString('latin1', this.i, this.i + word.length) !== word) throw new NotJson();
    this.i += word.length;
  }

  private ws(): void {
    const b = this.b;
    let i = this.i;
    for (let c = b[i]; c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09; c = b[++i]);
    this.i = i;
  }
}

/**
 * Whether any of the four bytes in `x` is `"`, `\\` or below 0x20: the word-at-a-time test for a zero
 * byte (`(y − 0x01…) & ~y & 0x80…` is non-zero exactly when some byte of y is 0) applied to x
 * XOR the byte, and its "below n" form (`(x − n…) & ~x & 0x80…`, exact for n ≤ 0x80) for controls.
 */
function hasQuoteBackslashOrControl(x: number): boolean {
  const q = x ^ 0x22222222;
  const s = x ^ 0x5c5c5c5c;
  return ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((s - 0x01010101) & ~s)) & 0x80808080) !== 0;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= ZERO && c <= NINE;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= ZERO && c <= NINE) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
