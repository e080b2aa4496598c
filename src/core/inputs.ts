// Decoder for `rewarder.inputs/v1` (SPEC §2): bytes in, typed event columns out, or one DocError.
// Both event forms land in the same columns, so the calculus never knows which form it got.

import { Cursor, JsonFail } from './json/cursor.js';
import { FIXED_NAME_KEY, type NameKey, NameTable } from './json/names.js';
import { type DocError, type PathSegment, type Result, err, formatPath, ok } from './result.js';
import { KIND_RE, MAX_KINDS, actorIdProblem, compareUtf8, parseMoney } from './rules.js';
import { isArrowStream } from './arrow/format.js';
import { decodeArrowInputs } from './arrow/read.js';

export const INPUTS_SCHEMA = 'rewarder.inputs/v1';

export interface InputLimits {
  maxBytes: number;
  maxActors: number;
  maxEvents: number;
  /** Byte cap of the Arrow IPC form (SPEC §2.1), its own; `maxBytes` caps the JSON forms. */
  maxArrowBytes?: number;
}

/** Defaults for the CLI; the service takes its own from config and reports them in /version. */
export const DEFAULT_INPUT_LIMITS: Readonly<InputLimits> = Object.freeze({
  maxBytes: 64 * 1024 * 1024,
  maxActors: 1_000_000,
  maxEvents: 5_000_000,
});

/**
 * One event per index. Every column is a Float64Array (indices too): both forms fill them
 * directly, so there is no conversion pass; they may be views of larger buffers.
 */
export interface EventColumns {
  count: number;
  actor: Float64Array;
  kind: Float64Array;
  qty: Float64Array;
  ts: Float64Array;
}

export interface Inputs {
  form: 'row' | 'columnar' | 'arrow';
  window: { startMs: number; endMs: number };
  poolMinor: bigint;
  kinds: string[];
  actors: string[];
  events: EventColumns;
}

/**
 * The Arrow IPC form (`rewarder.inputs.arrow/v1`) is recognised by its first bytes and decoded by
 * arrow/read.ts into the same columns.
 * `nameKey` keys the hash tables of actor and kind names (json/names.ts): an adapter passes a key
 * drawn at random once per process so nobody can craft ids that collide; without one (tests,
 * trusted local files) a fixed key is used.
 */
export function decodeInputs(bytes: Uint8Array, limits: InputLimits = DEFAULT_INPUT_LIMITS, nameKey: NameKey = FIXED_NAME_KEY): Result<Inputs, DocError> {
  // An Arrow IPC stream starts with 0xFFFFFFFF, which no UTF-8 JSON text can.
  if (isArrowStream(bytes)) return decodeArrowInputs(bytes, limits);
  if (bytes.length > limits.maxBytes) {
    return err({ path: '$', reason: `document is ${bytes.length} bytes, limit is ${limits.maxBytes}` });
  }
  let d: InputsDecoder | undefined;
  try {
    d = new InputsDecoder(bytes, limits, nameKey);
    return ok(d.decode());
  } catch (e) {
    const path = d?.currentPath() ?? [];
    if (e instanceof JsonFail) return err({ path: formatPath(path), reason: `${e.reason} (at byte ${e.offset})` });
    if (e instanceof RuleFail) return err({ path: formatPath(e.path ?? path), reason: e.reason });
    throw e;
  }
}

/** A well-formed value that breaks a rule of the SPEC; carries its path when not the cursor's. */
class RuleFail extends Error {
  constructor(
    readonly reason: string,
    readonly path?: PathSegment[],
  ) {
    super(reason);
  }
}

const ROW_KEY_NAMES = ['actor', 'kind', 'qty', 'ts'];
const ROW_KEYS = new NameTable(ROW_KEY_NAMES);
const ROW_KEY_QUOTED = ROW_KEY_NAMES.map((k) => new TextEncoder().encode(`"${k}"`));
const ROW_KEY_BY_LETTER: number[] = [];
ROW_KEY_NAMES.forEach((k, i) => {
  ROW_KEY_BY_LETTER[k.charCodeAt(0)] = i;
});

const TOP_MEMBERS = ['schema', 'window', 'pool_minor', 'kinds', 'actors', 'events'] as const;
type TopMember = (typeof TOP_MEMBERS)[number];

class InputsDecoder {
  readonly c: Cursor;
  /**
   * Current JSON path: the first `depth` segments of `path`. The hot loops only assign a segment
   * and an integer; truncating an array per event cost ~10 % of the row decoder.
   */
  readonly path: PathSegment[] = [];
  depth = 0;

  currentPath(): PathSegment[] {
    return this.path.slice(0, this.depth);
  }

  /** Sets the segment at `depth` (1-based) and makes it the last one. */
  private at(depth: number, seg: PathSegment): void {
    this.path[depth - 1] = seg;
    this.depth = depth;
  }
  private schema: string | undefined;
  private window: { startMs: number; endMs: number } | undefined;
  private pool: bigint | undefined;
  private kinds: string[] | undefined;
  private kindTable: NameTable | undefined;
  private actors: string[] | undefined;
  private actorTable: NameTable | undefined;
  private events: EventColumns | undefined;
  private form: 'row' | 'columnar' = 'row';
  // The largest columnar actor and kind index, or Infinity when not known (the TypeScript reader).
  private largestActor = Infinity;
  private largestKind = Infinity;
  // Row events seen before `actors`/`kinds`: names kept until the lists arrive.
  private pendingActors: string[] | undefined;
  private pendingKinds: string[] | undefined;

  constructor(
    bytes: Uint8Array,
    private readonly limits: InputLimits,
    private readonly nameKey: NameKey,
  ) {
    this.c = new Cursor(bytes);
  }

  private rule(reason: string): never {
    throw new RuleFail(reason);
  }

  decode(): Inputs {
    const c = this.c;
    const seen = new Set<TopMember>();
    if (c.peek() !== 0x7b) c.unexpected('a JSON object');
    if (c.openObject()) {
      do {
        const name = c.key();
        if (!(TOP_MEMBERS as readonly string[]).includes(name)) {
          // Every member before it was known and distinct (a repeat is refused at once).
          this.at(1, { member: seen.size });
          this.rule('unknown member');
        }
        const m = name as TopMember;
        this.at(1, m);
        if (seen.has(m)) this.rule('duplicate member name');
        seen.add(m);
        this.member(m);
        this.depth = 0;
      } while (c.more(0x7d));
    }
    c.end();
    for (const m of TOP_MEMBERS) {
      if (!seen.has(m)) throw new RuleFail('missing member', [m]);
    }
    const events = this.events as EventColumns;
    this.resolvePending(events);
    return {
      form: this.form,
      window: this.window as { startMs: number; endMs: number },
      poolMinor: this.pool as bigint,
      kinds: this.kinds as string[],
      actors: this.actors as string[],
      events,
    };
  }

  private member(m: TopMember): void {
    const c = this.c;
    switch (m) {
      case 'schema':
        if (c.peek() !== 0x22) c.unexpected('a string');
        this.schema = c.string();
        if (this.schema !== INPUTS_SCHEMA) this.rule(`expected "${INPUTS_SCHEMA}"`);
        return;
      case 'window':
        this.window = this.readWindow();
        return;
      case 'pool_minor': {
        if (c.peek() !== 0x22) c.unexpected('a money string');
        const v = parseMoney(c.string());
        if (typeof v === 'string') this.rule(v);
        this.pool = v;
        return;
      }
      case 'kinds':
        this.readKinds();
        return;
      case 'actors':
        this.readActors();
        return;
      case 'events': {
        const first = c.peek();
        if (first === 0x5b) this.events = this.readRowEvents();
        else if (first === 0x7b) this.events = this.readColumnarEvents();
        else c.unexpected('an array (row form) or an object (columnar form)');
        return;
      }
    }
  }

  private readWindow(): { startMs: number; endMs: number } {
    const c = this.c;
    let start: number | undefined;
    let end: number | undefined;
    if (c.openObject()) {
      do {
        const k = c.key();
        this.at(2, k === 'start_ms' || k === 'end_ms' ? k : { member: (start === undefined ? 0 : 1) + (end === undefined ? 0 : 1) });
        if (k === 'start_ms') {
          if (start !== undefined) this.rule('duplicate member name');
          start = c.uint();
        } else if (k === 'end_ms') {
          if (end !== undefined) this.rule('duplicate member name');
          end = c.uint();
        } else this.rule('unknown member');
      } while (c.more(0x7d));
    }
    this.depth = 1;
    if (start === undefined) throw new RuleFail('missing member', ['window', 'start_ms']);
    if (end === undefined) throw new RuleFail('missing member', ['window', 'end_ms']);
    if (start >= end) this.rule('start_ms must be less than end_ms');
    return { startMs: start, endMs: end };
  }

  private readKinds(): void {
    const c = this.c;
    const kinds: string[] = [];
    const index = new Set<string>();
    if (c.openArray()) {
      do {
        this.at(2, kinds.length);
        if (kinds.length === MAX_KINDS) this.rule(`more than ${MAX_KINDS} kinds`);
        const k = c.string();
        if (!KIND_RE.test(k)) this.rule('kind must match ^[a-z][a-z0-9_]{0,63}$');
        if (index.has(k)) this.rule('duplicate kind');
        index.add(k);
        kinds.push(k);
      } while (c.more(0x5d));
    }
    this.depth = 1;
    if (kinds.length === 0) this.rule('at least one kind is required');
    this.kinds = kinds;
    this.kindTable = new NameTable(kinds, this.nameKey);
  }

  private readActors(): void {
    const c = this.c;
    const actors: string[] = [];
    const max = this.limits.maxActors;
    let prev: string | undefined;
    let prevAscii = false;
    if (c.openArray()) {
      do {
        const i = actors.length;
        this.at(2, i);
        if (i === max) this.rule(`more than ${max} actors (configured limit)`);
        const sp = c.readSpan();
        const ascii = !sp.complex;
        const a = c.decodeSpan(sp.start, sp.end, sp.complex);
        const problem = actorIdProblem(a, ascii);
        if (problem !== null) this.rule(problem);
        // Two raw ASCII ids: UTF-16 order is byte order, and V8's own compare beats a cold loop.
        if (prev !== undefined && (ascii && prevAscii ? !(prev < a) : compareUtf8(prev, a) >= 0)) {
          this.rule(prev === a ? 'duplicate actor' : 'actors must be strictly ascending by UTF-8 bytes');
        }
        prev = a;
        prevAscii = ascii;
        actors.push(a);
      } while (c.more(0x5d));
    }
    this.depth = 1;
    this.actors = actors;
  }

  /** Built on first use: only row events look actors up by name (columnar uses indices). */
  private actorNames(): NameTable | undefined {
    if (this.actorTable === undefined && this.actors !== undefined) this.actorTable = new NameTable(this.actors, this.nameKey);
    return this.actorTable;
  }

  private readRowEvents(): EventColumns {
    this.form = 'row';
    const c = this.c;
    const max = this.limits.maxEvents;
    const cols = new ColumnsBuilder();
    const actors = this.actorNames();
    const kinds = this.kindTable;
    const known = actors !== undefined && kinds !== undefined;
    if (!known) {
      this.pendingActors = [];
      this.pendingKinds = [];
    }
    if (c.openArray()) {
      let i = 0;
      do {
        this.at(2, i);
        if (i === max) this.rule(`more than ${max} events (configured limit)`);
        let actor = -1;
        let kind = -1;
        let qty = -1;
        let ts = -1;
        let seen = 0;
        if (c.peek() !== 0x7b) c.unexpected('an event object');
        if (c.openObject()) {
          do {
            const key = this.eventKey(seen);
            if ((seen & (1 << key)) !== 0) this.rule('duplicate member name');
            seen |= 1 << key;
            switch (key) {
              case 0:
                actor = known ? this.nameIn(actors, 'actor is not listed in actors') : this.pendingName(this.pendingActors);
                break;
              case 1:
                kind = known ? this.nameIn(kinds, 'kind is not listed in kinds') : this.pendingName(this.pendingKinds);
                break;
              case 2:
                qty = c.uint();
                break;
              default:
                ts = c.uint();
            }
          } while (c.more(0x7d));
        }
        this.depth = 2;
        if (seen !== 0b1111) this.missing(ROW_KEY_NAMES[[1, 2, 4, 8].findIndex((bit) => (seen & bit) === 0)] as string);
        cols.push(actor, kind, qty, ts);
        i++;
      } while (c.more(0x5d));
    }
    this.depth = 1;
    return cols.finish();
  }

  /**
   * Reads an event member name and its colon: 0 actor, 1 kind, 2 qty, 3 ts. `seen` (the members
   * already read, as bits) gives an unknown member's position, since those were all known.
   */
  private eventKey(seen: number): number {
    const c = this.c;
    // Fast path: the plain spelling of a member name, picked by its first letter.
    const b = c.buf;
    const p = c.pos;
    if (b[p] === 0x22) {
      const key = ROW_KEY_BY_LETTER[b[p + 1] as number] ?? -1;
      const lit = ROW_KEY_QUOTED[key];
      if (lit !== undefined && b[p + lit.length - 1] === 0x22) {
        let j = 2;
        while (j < lit.length && b[p + j] === lit[j]) j++;
        if (j === lit.length) {
          c.pos = p + lit.length;
          this.at(3, ROW_KEY_NAMES[key] as string);
          c.expect(0x3a, "':'");
          return key;
        }
      }
    }
    const sp = c.readSpan();
    let key = sp.complex ? -1 : ROW_KEYS.lookup(c.buf, sp.start, sp.end);
    if (key === -1) {
      const name = c.decodeSpan(sp.start, sp.end, sp.complex);
      key = ROW_KEYS.byName.get(name) ?? -1;
      if (key === -1) {
        this.at(3, { member: ((seen & 1) + ((seen >> 1) & 1) + ((seen >> 2) & 1) + ((seen >> 3) & 1)) });
        this.rule('unknown member');
      }
    }
    this.at(3, ROW_KEY_NAMES[key] as string);
    c.expect(0x3a, "':'");
    return key;
  }

  /** Reads a string value and finds it in `table` by its bytes (decoding only if escaped). */
  private nameIn(table: NameTable, problem: string): number {
    const c = this.c;
    const sp = c.readSpan();
    const i = sp.complex ? (table.byName.get(c.decodeSpan(sp.start, sp.end, true)) ?? -1) : table.lookup(c.buf, sp.start, sp.end);
    if (i === -1) this.rule(problem);
    return i;
  }

  /** Row events before the lists: keep the name, resolve it in resolvePending. */
  private pendingName(into: string[] | undefined): number {
    (into as string[]).push(this.c.string());
    return -1;
  }

  private missing(member: string): never {
    this.at(this.depth + 1, member);
    return this.rule('missing member');
  }

  private readColumnarEvents(): EventColumns {
    this.form = 'columnar';
    const c = this.c;
    const max = this.limits.maxEvents;
    const cols: Partial<Record<'actor' | 'kind' | 'qty' | 'ts', Float64Array>> = {};
    const counts: Partial<Record<'actor' | 'kind' | 'qty' | 'ts', number>> = {};
    if (c.openObject()) {
      do {
        const name = c.key();
        if (name !== 'actor' && name !== 'kind' && name !== 'qty' && name !== 'ts') {
          this.at(2, { member: Object.keys(cols).length });
          this.rule('unknown member');
        }
        this.at(2, name);
        if (cols[name] !== undefined) this.rule('duplicate member name');
        let col: Float64Array;
        try {
          col = c.uintArray(new Float64Array(1024), max, () => {
            this.at(3, max);
            return this.rule(`more than ${max} events (configured limit)`);
          });
        } catch (e) {
          // The array reader does not track paths; name the element it stopped at.
          if (e instanceof JsonFail) this.at(3, c.count);
          throw e;
        }
        const n = c.count;
        this.depth = 2;
        if (name === 'actor') this.largestActor = c.largest;
        else if (name === 'kind') this.largestKind = c.largest;
        cols[name] = col;
        counts[name] = n;
      } while (c.more(0x7d));
    }
    this.depth = 1;
    for (const k of ['actor', 'kind', 'qty', 'ts'] as const) {
      if (cols[k] === undefined) this.missing(k);
    }
    const n = counts.actor as number;
    for (const k of ['kind', 'qty', 'ts'] as const) {
      if (counts[k] !== n) throw new RuleFail('columns must all have the same length', ['events', k]);
    }
    // Indices are checked against the lists in resolvePending, once both are known. The columns
    // are views of the growable arrays: no conversion pass, no copy (a cold CLI run felt both).
    return {
      count: n,
      actor: (cols.actor as Float64Array).subarray(0, n),
      kind: (cols.kind as Float64Array).subarray(0, n),
      qty: (cols.qty as Float64Array).subarray(0, n),
      ts: (cols.ts as Float64Array).subarray(0, n),
    };
  }

  /** Resolves row-form names seen before the lists, and range-checks columnar indices. */
  private resolvePending(ev: EventColumns): void {
    const nActors = (this.actors as string[]).length;
    const nKinds = (this.kinds as string[]).length;
    if (this.form === 'columnar') {
      // Every index is in range when the largest is (known when the addon read the column); the
      // loop finds the first one out of range, which the error names.
      if (this.largestActor < nActors && this.largestKind < nKinds) return;
      for (let i = 0; i < ev.count; i++) {
        if ((ev.actor[i] as number) >= nActors) throw new RuleFail('actor index out of range', ['events', 'actor', i]);
        if ((ev.kind[i] as number) >= nKinds) throw new RuleFail('kind index out of range', ['events', 'kind', i]);
      }
      return;
    }
    const pa = this.pendingActors;
    const pk = this.pendingKinds;
    if (pa === undefined || pk === undefined) return;
    const ai = (this.actorNames() as NameTable).byName;
    const ki = (this.kindTable as NameTable).byName;
    for (let i = 0; i < ev.count; i++) {
      const a = ai.get(pa[i] as string);
      if (a === undefined) throw new RuleFail('actor is not listed in actors', ['events', i, 'actor']);
      const k = ki.get(pk[i] as string);
      if (k === undefined) throw new RuleFail('kind is not listed in kinds', ['events', i, 'kind']);
      ev.actor[i] = a;
      ev.kind[i] = k;
    }
  }
}

/** Growable event columns for the row form (doubling, then one trim at the end). */
class ColumnsBuilder {
  private n = 0;
  private actor = new Float64Array(1024);
  private kind = new Float64Array(1024);
  private qty = new Float64Array(1024);
  private ts = new Float64Array(1024);

  push(actor: number, kind: number, qty: number, ts: number): void {
    const n = this.n;
    if (n === this.qty.length) this.grow();
    this.actor[n] = actor < 0 ? 0 : actor;
    this.kind[n] = kind < 0 ? 0 : kind;
    this.qty[n] = qty;
    this.ts[n] = ts;
    this.n = n + 1;
  }

  private grow(): void {
    const size = this.qty.length * 2;
    const a = new Float64Array(size);
    a.set(this.actor);
    this.actor = a;
    const k = new Float64Array(size);
    k.set(this.kind);
    this.kind = k;
    const q = new Float64Array(size);
    q.set(this.qty);
    this.qty = q;
    const t = new Float64Array(size);
    t.set(this.ts);
    this.ts = t;
  }

  finish(): EventColumns {
    const n = this.n;
    return {
      count: n,
      actor: this.actor.subarray(0, n),
      kind: this.kind.subarray(0, n),
      qty: this.qty.subarray(0, n),
      ts: this.ts.subarray(0, n),
    };
  }
}
