// The manifest `rewarder.manifest/v1` (SPEC §5), written directly as JCS: its member names are
// fixed ASCII, so their sorted order is written out here once instead of sorting on every run
// (jcs.test.ts checks the result is canonical). Strings go through JSON.stringify, whose escaping
// is exactly RFC 8785's.

import type { Calculation, Payee } from './calculus.js';
import { CALCULUS } from './calculus.js';
import type { PayeeColumns } from './shares.js';
import { Blake3Stream, formatDigest } from './hash.js';
import { merkleRootOfRanges } from './merkle.js';
import { runKey } from './keys.js';
import { type NativeAddon, nativeAddon } from './native.js';
import { encodeEach } from './utf8.js';
import { LIMBS, limbDigits, safeDigits, writeLimbDigits, writeSafeDigits } from './wide.js';

export const MANIFEST_SCHEMA = 'rewarder.manifest/v1';

export interface RunRef {
  epochId: string;
  inputsCid: string;
  policyId: string;
  policyHash: string;
  window: { startMs: number; endMs: number };
}

export interface Manifest {
  /** The exact JCS bytes (UTF-8). */
  bytes: Uint8Array;
  commitment: string;
  payoutsRoot: string;
  runKey: string;
  /**
   * JCS `{"actor","amount_minor"}` of each payee, in payee order, each followed by a comma: the
   * leaf data (without its comma) and the credits, so any run of them is a JSON array's body
   * plus one trailing comma, copied into a ledger part in one piece.
   */
  leaves: Texts;
}

/** Many small UTF-8 texts back to back: text i is bytes[offsets[i] .. offsets[i+1]). */
export interface Texts {
  bytes: Uint8Array;
  offsets: Uint32Array;
}

/**
 * The JCS string of each actor id (quotes and escapes included), in actor order. Built once per
 * sealed inputs and cached with their tally: the manifest then copies bytes instead of escaping
 * and encoding 10k names on every run.
 */
export function quotedNames(actors: readonly string[]): Texts {
  return encodeEach(actors.map((a) => JSON.stringify(a)));
}

const encoder = new TextEncoder();

const LEAF_OPEN = encoder.encode('{"actor":');
const LEAF_AMOUNT = encoder.encode(',"amount_minor":"');
const ENTRY_SCORE = encoder.encode('","score":"');
// Bytes of a leaf and of an entry besides the quoted name and the digits (see writeLeaves/writeEntries).
/** `"commitment":"b3:<64 hex>",` */
const MEMBER_BYTES = '"commitment":"b3:",'.length + 64;
/** A payouts root's length, to size the manifest before the root is known. */
const ROOT_PLACEHOLDER = `b3:${'0'.repeat(64)}`;
const LEAF_FIXED = LEAF_OPEN.length + LEAF_AMOUNT.length + 3;
const ENTRY_FIXED = LEAF_OPEN.length + LEAF_AMOUNT.length + ENTRY_SCORE.length + 2;

/**
 * Writes the manifest as bytes: the payouts and the leaves are assembled from the cached quoted
 * names and the digits of each amount and score, with no per-payee strings, joins or encoder calls
 * (this ran ~3× slower through template strings at 10k payees). `names` is indexed by actor
 * index (Payee.index); without it, the payees' own names are quoted here. The column path writes
 * its leaves and entries with the native addon (`native`, null for the TypeScript writers, which
 * are the reference the tests hold it to); without it, `heads`, the leafHeads of the same `names`,
 * make each leaf one copy instead of three.
 */
export function buildManifest(ref: RunRef, calc: Calculation, names?: Texts, heads?: Texts, native: NativeAddon | null = nativeAddon()): Manifest {
  const key = runKey(ref.epochId, ref.inputsCid, ref.policyHash);
  const cols = calc.columns;
  const n = calc.counts.payees;
  // Names by actor index (cached per inputs), or quoted here for the payees alone (by position).
  const own = names !== undefined ? null : quotedNames(cols === undefined ? calc.payees.map((p) => p.actor) : payeeActors(cols));
  const src = own ?? (names as Texts);
  const nameAt = own !== null ? (i: number): number => i : (i: number): number => (calc.payees[i] as Payee).index;

  // Sizes first, then one buffer for the whole manifest: the payouts root is the one part written
  // after the payouts, and its member has a fixed length.
  let leafBytes: number;
  let entryBytes: number;
  let write: (leaves: Texts, out: Uint8Array, at: number) => number;
  if (cols !== undefined) {
    // Digits written straight from the column path's decimal limbs and safe scores.
    const byIndex = own === null;
    const index = byIndex ? cols.index : null;
    if (native !== null) {
      const sizes = new Float64Array(2);
      native.manifestSizes(null, src.offsets, index, cols.amount, cols.score, n, sizes);
      leafBytes = sizes[0] as number;
      entryBytes = sizes[1] as number;
      write = (leaves, out, at) => native.manifestWrite(src.bytes, src.offsets, index, cols.amount, cols.score, n, leaves.bytes, leaves.offsets, out, at);
    } else {
      ({ leafBytes, entryBytes } = columnSizes(cols, src, byIndex));
      write = (leaves, out, at) => {
        if (heads !== undefined && byIndex) writeHeadLeaves(leaves, cols, heads);
        else writeColumnLeaves(leaves, cols, src, byIndex);
        return writeColumnEntries(out, at, leaves, cols);
      };
    }
  } else {
    // The BigInt path's amounts and scores as decimal strings.
    const amounts = calc.payees.map((p) => p.amount.toString());
    const scores = calc.payees.map((p) => p.score.toString());
    leafBytes = 0;
    entryBytes = n > 0 ? n - 1 : 0; // commas
    for (let i = 0; i < n; i++) {
      const a = nameAt(i);
      const nameLen = (src.offsets[a + 1] as number) - (src.offsets[a] as number);
      const amount = (amounts[i] as string).length;
      leafBytes += LEAF_FIXED + nameLen + amount;
      entryBytes += ENTRY_FIXED + nameLen + amount + (scores[i] as string).length;
    }
    write = (leaves, out, at) => {
      writeLeaves(leaves, n, src, nameAt, (o, p, i) => digits(o, p, amounts[i] as string));
      return writeStringEntries(out, at, leaves, n, (o, p, i) => digits(o, p, scores[i] as string));
    };
  }

  const c = calc.counts;
  const t = calc.totals;
  // Everything before the commitment member, between it and the payouts, and after the payouts.
  const head = encoder.encode(`{"calculus":"${CALCULUS}",`);
  const before = encoder.encode(
    `"counts":{"actors":${c.actors},"events":${c.events},"excluded_actors":${c.excludedActors},` +
      `"ignored_events":${c.ignoredEvents},"payees":${c.payees}},` +
      `"epoch_id":${JSON.stringify(ref.epochId)},"inputs_cid":"${ref.inputsCid}","payouts":[`,
  );
  const after = (root: string): Uint8Array =>
    encoder.encode(
      `],"payouts_root":"${root}",` +
        `"policy":{"hash":"${ref.policyHash}","id":${JSON.stringify(ref.policyId)}},` +
        `"run_key":"${key}","schema":"${MANIFEST_SCHEMA}",` +
        `"totals":{"below_min_minor":"${t.belowMin}","capped_minor":"${t.capped}","payout_minor":"${t.payout}",` +
        `"pool_input_minor":"${t.poolInput}","pool_minor":"${t.pool}","residual_minor":"${t.residual}",` +
        `"rounding_dust_minor":"${t.roundingDust}"},` +
        `"window":{"end_ms":${ref.window.endMs},"start_ms":${ref.window.startMs}}}`,
    );
  const afterBytes = after(ROOT_PLACEHOLDER).length;
  // The commitment covers the manifest without its own member, which sorts right after the head
  // and has a fixed length: the manifest is written once with a gap for it, the commitment hashed
  // over the two parts around the gap, and the gap filled (no second 64 MB buffer at 1M payees).
  const gap = MEMBER_BYTES;
  const bytes = new Uint8Array(head.length + gap + before.length + entryBytes + afterBytes);
  bytes.set(head, 0);
  bytes.set(before, head.length + gap);
  const leaves: Texts = { bytes: new Uint8Array(leafBytes), offsets: new Uint32Array(n + 1) };
  const end = write(leaves, bytes, head.length + gap + before.length);
  const root = formatDigest(merkleRootOfRanges(leaves.bytes, leaves.offsets, n, 1));
  const tail = after(root);
  if (end + tail.length !== bytes.length) throw new Error('manifest of unexpected length');
  bytes.set(tail, end);
  const hasher = new Blake3Stream();
  hasher.update(bytes.subarray(0, head.length));
  hasher.update(bytes.subarray(head.length + gap));
  const commitment = hasher.digest();
  const member = encoder.encode(`"commitment":"${commitment}",`);
  if (member.length !== gap) throw new Error('commitment member of unexpected length');
  bytes.set(member, head.length);
  return { bytes, commitment, payoutsRoot: root, runKey: key, leaves };
}

/** The actor ids of the column path's payees, in payee order. */
function payeeActors(cols: PayeeColumns): string[] {
  const out: string[] = new Array<string>(cols.count);
  for (let i = 0; i < cols.count; i++) out[i] = cols.actors[cols.index[i] as number] as string;
  return out;
}

type DigitWriter = (out: Uint8Array, at: number, i: number) => number;

/** Fills `leaves` with `{"actor":<name>,"amount_minor":"<amount>"},` per payee. */
function writeLeaves(leaves: Texts, n: number, names: Texts, nameAt: (i: number) => number, amount: DigitWriter): void {
  const out = leaves.bytes;
  let at = 0;
  for (let i = 0; i < n; i++) {
    at = put(out, at, LEAF_OPEN);
    const a = nameAt(i);
    at = copy(out, at, names.bytes, names.offsets[a] as number, names.offsets[a + 1] as number);
    at = put(out, at, LEAF_AMOUNT);
    at = amount(out, at, i);
    out[at++] = 0x22; // "
    out[at++] = 0x7d; // }
    out[at++] = 0x2c; // ,
    leaves.offsets[i + 1] = at;
  }
}

/** Writes the payouts array's entries: each leaf without its `"},`, then `","score":"<score>"}`. */
function writeStringEntries(out: Uint8Array, at: number, leaves: Texts, n: number, score: DigitWriter): number {
  for (let i = 0; i < n; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    at = copy(out, at, leaves.bytes, leaves.offsets[i] as number, (leaves.offsets[i + 1] as number) - 3);
    at = put(out, at, ENTRY_SCORE);
    at = score(out, at, i);
    out[at++] = 0x22; // "
    out[at++] = 0x7d; // }
  }
  return at;
}

/**
 * Bytes of the leaves and of the payouts entries (with their commas) of the column path. Names
 * are by actor index (`byIndex`, the cached names of the inputs) or by payee position.
 */
function columnSizes(cols: PayeeColumns, names: Texts, byIndex: boolean): { leafBytes: number; entryBytes: number } {
  const n = cols.count;
  let leafBytes = 0;
  let scoreBytes = 0;
  for (let i = 0; i < n; i++) {
    const a = byIndex ? (cols.index[i] as number) : i;
    leafBytes += LEAF_FIXED + (names.offsets[a + 1] as number) - (names.offsets[a] as number) + limbDigits(cols.amount, i * LIMBS);
    scoreBytes += safeDigits(cols.score[i] as number);
  }
  // An entry is its leaf less `"},`, plus `","score":"<digits>"}`, plus a comma between entries.
  const entryBytes = leafBytes + n * (ENTRY_FIXED - LEAF_FIXED) + scoreBytes + (n > 0 ? n - 1 : 0);
  return { leafBytes, entryBytes };
}

/** writeLeaves for the column path, monomorphic: amounts' digits from their decimal limbs. */
function writeColumnLeaves(leaves: Texts, cols: PayeeColumns, names: Texts, byIndex: boolean): void {
  const out = leaves.bytes;
  const nb = names.bytes;
  const no = names.offsets;
  let at = 0;
  for (let i = 0; i < cols.count; i++) {
    // Native copies: measured faster here than byte loops, even for the 9- and 17-byte constants.
    out.set(LEAF_OPEN, at);
    at += LEAF_OPEN.length;
    const a = byIndex ? (cols.index[i] as number) : i;
    const from = no[a] as number;
    const to = no[a + 1] as number;
    out.set(nb.subarray(from, to), at);
    at += to - from;
    out.set(LEAF_AMOUNT, at);
    at += LEAF_AMOUNT.length;
    at = writeLimbDigits(out, at, cols.amount, i * LIMBS);
    out[at++] = 0x22; // "
    out[at++] = 0x7d; // }
    out[at++] = 0x2c; // ,
    leaves.offsets[i + 1] = at;
  }
}

/**
 * The head of each actor's leaf, `{"actor":<name>,"amount_minor":"`, by actor index: with them a
 * leaf is one copy and its digits (writeHeadLeaves) instead of three copies.
 */
export function leafHeads(names: Texts): Texts {
  const n = names.offsets.length - 1;
  const offsets = new Uint32Array(n + 1);
  const bytes = new Uint8Array(names.bytes.length + n * (LEAF_OPEN.length + LEAF_AMOUNT.length));
  let at = 0;
  for (let a = 0; a < n; a++) {
    bytes.set(LEAF_OPEN, at);
    at += LEAF_OPEN.length;
    const from = names.offsets[a] as number;
    const to = names.offsets[a + 1] as number;
    bytes.set(names.bytes.subarray(from, to), at);
    at += to - from;
    bytes.set(LEAF_AMOUNT, at);
    at += LEAF_AMOUNT.length;
    offsets[a + 1] = at;
  }
  return { bytes, offsets };
}

/** writeColumnLeaves from leaf heads (leafHeads), by actor index. */
function writeHeadLeaves(leaves: Texts, cols: PayeeColumns, heads: Texts): void {
  const out = leaves.bytes;
  const hb = heads.bytes;
  const ho = heads.offsets;
  let at = 0;
  for (let i = 0; i < cols.count; i++) {
    const a = cols.index[i] as number;
    const from = ho[a] as number;
    const to = ho[a + 1] as number;
    out.set(hb.subarray(from, to), at);
    at = writeLimbDigits(out, at + (to - from), cols.amount, i * LIMBS);
    out[at++] = 0x22; // "
    out[at++] = 0x7d; // }
    out[at++] = 0x2c; // ,
    leaves.offsets[i + 1] = at;
  }
}

/** writeStringEntries for the column path: scores' digits from the safe integers. */
function writeColumnEntries(out: Uint8Array, at: number, leaves: Texts, cols: PayeeColumns): number {
  const lb = leaves.bytes;
  const lo = leaves.offsets;
  for (let i = 0; i < cols.count; i++) {
    if (i > 0) out[at++] = 0x2c; // ,
    // A leaf is ~60–100 bytes: one native copy of a view beats a byte loop at that length.
    const from = lo[i] as number;
    const to = (lo[i + 1] as number) - 3;
    out.set(lb.subarray(from, to), at);
    at = put(out, at + (to - from), ENTRY_SCORE);
    at = writeSafeDigits(out, at, cols.score[i] as number);
    out[at++] = 0x22; // "
    out[at++] = 0x7d; // }
  }
  return at;
}

// Byte loops rather than set(subarray): the pieces are 1–40 bytes, where creating a view costs
// more than copying.
function put(out: Uint8Array, at: number, bytes: Uint8Array): number {
  for (let j = 0; j < bytes.length; j++) out[at + j] = bytes[j] as number;
  return at + bytes.length;
}

function copy(out: Uint8Array, at: number, src: Uint8Array, from: number, to: number): number {
  for (let j = from; j < to; j++) out[at++] = src[j] as number;
  return at;
}

/** ASCII digits of a decimal string. */
function digits(out: Uint8Array, at: number, s: string): number {
  for (let j = 0; j < s.length; j++) out[at + j] = s.charCodeAt(j);
  return at + s.length;
}

/** Every member of the manifest except `payouts`: what a compute response summarises. */
export interface ManifestHead {
  calculus: string;
  commitment: string;
  counts: { actors: number; events: number; excluded_actors: number; ignored_events: number; payees: number };
  epoch_id: string;
  inputs_cid: string;
  payouts_root: string;
  policy: { hash: string; id: string };
  run_key: string;
  schema: string;
  totals: {
    below_min_minor: string;
    capped_minor: string;
    payout_minor: string;
    pool_input_minor: string;
    pool_minor: string;
    residual_minor: string;
    rounding_dust_minor: string;
  };
  window: { end_ms: number; start_ms: number };
}

export function manifestHead(ref: RunRef, m: Manifest, calc: Calculation): ManifestHead {
  const c = calc.counts;
  const t = calc.totals;
  return {
    calculus: CALCULUS,
    commitment: m.commitment,
    counts: {
      actors: c.actors,
      events: c.events,
      excluded_actors: c.excludedActors,
      ignored_events: c.ignoredEvents,
      payees: c.payees,
    },
    epoch_id: ref.epochId,
    inputs_cid: ref.inputsCid,
    payouts_root: m.payoutsRoot,
    policy: { hash: ref.policyHash, id: ref.policyId },
    run_key: m.runKey,
    schema: MANIFEST_SCHEMA,
    totals: {
      below_min_minor: `${t.belowMin}`,
      capped_minor: `${t.capped}`,
      payout_minor: `${t.payout}`,
      pool_input_minor: `${t.poolInput}`,
      pool_minor: `${t.pool}`,
      residual_minor: `${t.residual}`,
      rounding_dust_minor: `${t.roundingDust}`,
    },
    window: { end_ms: ref.window.endMs, start_ms: ref.window.startMs },
  };
}

/** The head of stored manifest bytes (a replay after a restart has no Calculation at hand). */
export function headFromManifest(bytes: Uint8Array): ManifestHead {
  const { payouts: _payouts, ...head } = JSON.parse(new TextDecoder().decode(bytes)) as ManifestHead & { payouts: unknown };
  return head;
}
