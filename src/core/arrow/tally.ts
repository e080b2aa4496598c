// SPEC §4.1's tally straight from an Arrow stream (SPEC §2.1), for sealing: one pass over each
// record batch's buffers adds every counted event into Q and marks its cell, without building the
// four event columns decodeArrowInputs fills (320 MB of Float64 at 10M events, then walked again
// by tally() and countedCells()). It accepts exactly what decodeArrowInputs accepts and refuses
// with the same reason: on any index or value it would refuse, the columns are decoded by the
// strict reader, whose refusal is the answer. When the Number guard of tally() fails (counted
// quantities past 2^53−1) it returns null and the caller takes the general path (BigInt cells).

import type { Tally } from '../calculus.js';
import type { InputLimits } from '../inputs.js';
import type { Texts } from '../manifest.js';
import { nativeAddon } from '../native.js';
import { type DocError, type Result, err, ok } from '../result.js';
import { ArrowFail } from './flatbuf.js';
import { ArrowReader, type RowViews } from './read.js';

/** Allocates the backing memory of an output array (the service passes SharedArrayBuffers). */
export type Alloc = (bytes: number) => ArrayBufferLike;

export interface ArrowTally {
  tally: Tally & { q: Float64Array };
  /** Which (actor, kind) cells have a counted event (`countedCells`). */
  seen: Uint8Array;
  /** The actor ids' UTF-8 as the stream carries them (the dictionary's data, offsets from 0). */
  ids: Texts;
}

const TWO32 = 2 ** 32;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const HI_MAX = 0x1fffff;
let nativeArrowTally = true;

/** Tests only: false makes tallyArrow use its TypeScript loops alone (the path without the addon). */
export function useNativeArrowTally(on: boolean): void {
  nativeArrowTally = on;
}

/**
 * The tally, counted cells and actor UTF-8 of an Arrow inputs stream; `null` when the counted
 * quantities' sum is not a safe integer (decode the columns and tally in BigInt instead).
 */
export function tallyArrow(bytes: Uint8Array, limits: InputLimits, alloc: Alloc = (n) => new ArrayBuffer(n)): Result<ArrowTally | null, DocError> {
  try {
    return ok(tallyOf(new ArrowReader(bytes, limits), alloc));
  } catch (e) {
    if (e instanceof ArrowFail) return err({ path: e.path, reason: e.reason });
    throw e;
  }
}

function tallyOf(reader: ArrowReader, alloc: Alloc): ArrowTally | null {
  const p = reader.plan();
  const K = p.kinds.length;
  const nActors = p.actors.length;
  const q = new Float64Array(alloc(8 * nActors * K));
  const seen = new Uint8Array(alloc(nActors * K));
  // Every cell starts at −0: −0 + 0 is +0 and −0 + x is x, so a cell still −0 after the tally had
  // no counted event, and one at +0 had only zero quantities. That marks the counted cells without
  // a second random write per event (Q is the big random-access array; `seen` would be another).
  q.fill(-0);
  const sum = new Float64Array(2); // counted quantity, ignored events
  // The addon runs addBatch's loop and the finishing pass in the same order with the same
  // doubles (native/arrow_tally.c): bit-identical q, sums and refusals, ~4× faster at XL.
  const addon = nativeArrowTally ? nativeAddon() : null;
  const { startMs, endMs } = p.window;
  for (const b of p.batches) {
    const v = reader.rows(b, p);
    const done =
      addon !== null ? addon.arrowTallyBatch(v.actor, v.kind, v.qty, v.ts, v.n, startMs, endMs, nActors, K, q, sum) : addBatch(v, p.window, nActors, K, q, sum);
    if (!done) {
      // The strict reader names the refusal (and its row) exactly as decodeArrowInputs does.
      reader.columns(p);
      throw new ArrowFail('an event the strict reader accepts was refused', '$.events');
    }
  }
  if (addon !== null) addon.arrowTallyFinish(q, seen);
  else finish(q, seen);
  const total = sum[0] as number;
  const ignored = sum[1] as number;
  if (total > MAX_SAFE) return null;
  const tally = { window: p.window, poolMinor: p.poolMinor, kinds: p.kinds, actors: p.actors, events: p.total, ignored, q };
  return { tally, seen, ids: rebased(p.actorTexts, nActors, alloc) };
}

/**
 * Adds one batch's counted events into `q`, and its quantity and ignored events into
 * `sum`; false at the first index out of range or value past 2^53−1. A function of its own so the
 * hot loop is optimised once with stable types (inlined in its caller, it was deoptimised and
 * reoptimised around the per-batch code). The addon's arrowTallyBatch must equal it bit for bit
 * (exported for tally.test.ts, which checks that).
 */
export function addBatch(v: RowViews, w: { startMs: number; endMs: number }, nActors: number, K: number, q: Float64Array, sum: Float64Array): boolean {
  const { n, actor, kind, qty, ts } = v;
  const { startMs, endMs } = w;
  let total = sum[0] as number;
  let ignored = sum[1] as number;
  for (let i = 0; i < n; i++) {
    const a = actor[i] as number;
    const k = kind[i] as number;
    const tHi = ts[2 * i + 1] as number;
    const qHi = qty[2 * i + 1] as number;
    if (a < 0 || a >= nActors || k < 0 || k >= K || tHi > HI_MAX || qHi > HI_MAX) return false;
    const t = tHi * TWO32 + (ts[2 * i] as number);
    if (t < startMs || t >= endMs) {
      ignored++;
      continue;
    }
    const x = qHi * TWO32 + (qty[2 * i] as number);
    const cell = a * K + k;
    q[cell] = (q[cell] as number) + x;
    total += x;
  }
  sum[0] = total;
  sum[1] = ignored;
  return true;
}

/** Cells still −0 had no counted event: +0, unseen; every other cell is seen (arrowTallyFinish's reference). */
export function finish(q: Float64Array, seen: Uint8Array): void {
  for (let c = 0; c < q.length; c++) {
    if (Object.is(q[c], -0)) q[c] = 0;
    else seen[c] = 1;
  }
}

/** The dictionary's bytes from its first entry on, and offsets counted from there (exported for tally.test.ts). */
export function rebased(t: { offsets: Int32Array; data: Uint8Array }, n: number, alloc: Alloc): Texts {
  const base = t.offsets[0] as number;
  const end = t.offsets[n] as number;
  const bytes = new Uint8Array(alloc(end - base));
  bytes.set(t.data.subarray(base, end));
  const offsets = new Uint32Array(alloc(4 * (n + 1)));
  // Writers start the dictionary's data at 0: then the offsets are copied as they are (a typed-array
  // copy, not a loop that runs cold once per seal: ~20–80 ms at 1M actors in a fresh worker).
  if (base === 0) offsets.set(t.offsets.subarray(0, n + 1));
  else for (let i = 0; i <= n; i++) offsets[i] = (t.offsets[i] as number) - base;
  return { bytes, offsets };
}
