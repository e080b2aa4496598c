// What crosses the thread boundary between the HTTP edge and a pool worker. Everything here is
// structured-cloneable; large byte arrays are transferred, not copied (see workers/compute.ts).

import { type InvariantBreach, type Tally, tally } from '../core/calculus.js';
import type { CompareBasis } from '../core/compare-packed.js';
import { type ExplainBasis, countedCells } from '../core/explain.js';
import type { InputLimits, Inputs } from '../core/inputs.js';
import type { IntentPart } from '../core/intents.js';
import { type ManifestHead, type Texts, quotedNames } from '../core/manifest.js';
import { encodeEach, quoteEach } from '../core/utf8.js';
import { tallyArrow } from '../core/arrow/tally.js';
import { type DocError, type Result, ok } from '../core/result.js';
import type { ProofIndex } from '../core/proof-index.js';

export interface DocLimits {
  inputs: InputLimits;
  policyMaxBytes: number;
}

export interface SealTask {
  op: 'seal';
  bytes: Uint8Array;
  limits: DocLimits;
  /** Which schema the route expects; anything else is a 400. */
  expect: 'rewarder.inputs/v1' | 'rewarder.policy/v1';
  /**
   * The edge transferred its only copy of `bytes` (an upload's own buffer): the worker hands them
   * back (transferred again) with an inputs result, so a 64 MiB upload is never copied to be stored.
   */
  giveBack?: boolean;
  /** The body's CID, when the edge hashed it while it was received (else the worker hashes it). */
  cid?: string;
  /**
   * The body was spooled to this file (a large Arrow upload on a micronode, src/stores/inputs-file.ts):
   * the worker reads it from there (`bytes` is then empty) and gives nothing back.
   */
  file?: { path: string; size: number };
}

export type SealResult =
  | { ok: true; schema: 'rewarder.inputs/v1'; cid: string; prepared: Prepared; bytes?: Uint8Array }
  | { ok: true; schema: 'rewarder.policy/v1'; cid: string; policyId: string }
  | { ok: false; error: DocError };

export interface ComputeTask {
  op: 'compute';
  epochId: string;
  inputsCid: string;
  policyHash: string;
  policy: Uint8Array;
  /** Prepared inputs from the cache, or the sealed bytes to decode here. */
  inputs: Prepared | Uint8Array;
  limits: DocLimits;
  /** Build the ledger intent parts too (a ledger is configured and this is not a dry run). */
  ledger: boolean;
}

export type ComputeResult =
  | {
      ok: true;
      manifest: Uint8Array;
      head: ManifestHead;
      /** Present when this task decoded the inputs, so the edge can cache them. */
      decoded: Prepared | null;
      /** Ledger intent parts (empty unless asked for, or when the run has no payees). */
      parts: IntentPart[];
      ms: { decode: number; calculus: number; manifest: number };
    }
  | { ok: false; kind: 'inputs' | 'policy'; error: DocError }
  | { ok: false; kind: 'quarantined'; breaches: InvariantBreach[] };

/** Builds the proof index of a published manifest (src/core/proof-index.ts). */
export interface ProofIndexTask {
  op: 'proof-index';
  /** The manifest's bytes (a copy: its buffer is transferred). */
  manifest: Uint8Array;
}

export type ProofIndexResult = { ok: true; index: ProofIndex } | { ok: false; reason: string };

/** A SPEC §12 export of a published manifest, built off the event loop (a million payees take seconds). */
export interface ExportTask {
  op: 'export';
  format: 'csv' | 'oz-tree';
  /** The manifest's bytes (a copy: its buffer is transferred). */
  manifest: Uint8Array;
}

/** The export in pieces of ~1 MiB, each its own transferred buffer: streamed out as they are, never joined. */
export type ExportResult = { ok: true; pieces: Uint8Array[] } | { ok: false; reason: 'no_payees' | 'malformed'; detail: string };

/** Builds the per-run part of explanations (src/core/explain.ts) of a published run. */
export interface ExplainBasisTask {
  op: 'explain-basis';
  inputsCid: string;
  policy: Uint8Array;
  inputs: Prepared | Uint8Array;
  limits: DocLimits;
}

export type ExplainBasisResult =
  | { ok: true; basis: ExplainBasis; decoded: Prepared | null }
  | { ok: false; kind: 'inputs' | 'policy'; error: DocError };

/**
 * Computes a candidate run without binding it (like a dry run) and compares it with the bound
 * run's manifest (src/core/compare.ts): the comparison's canonical bytes come back.
 */
export interface PreviewTask {
  op: 'preview';
  epochId: string;
  inputsCid: string;
  policyHash: string;
  policy: Uint8Array;
  inputs: Prepared | Uint8Array;
  limits: DocLimits;
  /**
   * The bound run's comparison basis when the edge keeps one (src/core/compare-packed.ts: shared
   * memory, nothing copied), else its manifest bytes (a copy: its buffer is transferred).
   */
  bound: Uint8Array | CompareBasis;
  top: number;
}

export type PreviewResult =
  | {
      ok: true;
      comparison: Uint8Array;
      decoded: Prepared | null;
      /** The basis built from the manifest bytes the task was given (for the edge to keep), else null. */
      basis: CompareBasis | null;
      ms: { compute: number; compare: number };
    }
  | { ok: false; kind: 'inputs' | 'policy'; error: DocError }
  | { ok: false; kind: 'quarantined'; breaches: InvariantBreach[] }
  | { ok: false; kind: 'bound'; reason: string };

export type Task = SealTask | ComputeTask | ProofIndexTask | ExplainBasisTask | PreviewTask | ExportTask;

/**
 * What the edge caches per sealed inputs and hands to a worker for each run: everything a run
 * needs that does not depend on the policy (the tally of SPEC §4.1 and the actors' quoted
 * names). The large parts live in SharedArrayBuffers, so handing them to a worker copies nothing
 * (cloning them and 10k actor strings cost ~1.4 ms on the event loop and ~1.1 ms in the worker
 * per run at M); the actor ids travel as UTF-8 bytes and each worker keeps the strings it decoded
 * from them, by CID (see workers/compute.ts).
 */
export interface Prepared {
  cid: string;
  tally: Omit<Tally, 'actors'>;
  /** Raw UTF-8 of each actor id, in actor order. */
  ids: Texts;
  /** Which (actor, kind) cells have a counted event (explanations: a zero tally does not say). */
  seen: Uint8Array;
  names: Texts;
}

export function prepare(cid: string, inputs: Inputs): Prepared {
  const { actors, ...rest } = tally(inputs);
  const q = rest.q instanceof Float64Array ? shared(rest.q) : rest.q;
  return {
    cid,
    tally: { ...rest, q },
    ids: sharedTexts(encodeEach(actors)),
    seen: shared(countedCells(inputs)),
    names: sharedTexts(quotedNames(actors)),
  };
}

export function actorCount(p: Prepared): number {
  return p.ids.offsets.length - 1;
}

/** The actor ids of prepared inputs as strings (what a worker caches per CID). */
export function actorIds(p: Prepared): string[] {
  const { bytes, offsets } = p.ids;
  // Buffer.from over the shared memory is a view: nothing is copied before decoding.
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = new Array<string>(actorCount(p));
  for (let i = 0; i < out.length; i++) out[i] = buf.toString('utf8', offsets[i] as number, offsets[i + 1] as number);
  return out;
}

/**
 * Seals Arrow inputs for the cache in one pass over the stream (src/core/arrow/tally.ts): the
 * tally, counted cells, ids and quoted names written straight into shared memory. The same
 * Prepared as `prepare(cid, decodeArrowInputs(bytes))`, with the actor ids as strings for the
 * worker's cache; null when the tally needs BigInt cells (then decode and `prepare`).
 */
export function prepareArrow(cid: string, bytes: Uint8Array, limits: InputLimits): Result<{ prepared: Prepared; actors: string[] } | null, DocError> {
  const r = tallyArrow(bytes, limits, sharedMemory);
  if (!r.ok) return r;
  if (r.value === null) return ok(null);
  const { tally: t, seen, ids } = r.value;
  const { actors, ...rest } = t;
  return ok({ prepared: { cid, tally: rest, ids, seen, names: quoteEach(ids, sharedMemory) }, actors });
}

/** Memory for a comparison basis (compareBasis's `alloc`): shared, so the basis crosses threads uncopied. */
export function sharedMemory(bytes: number): SharedArrayBuffer {
  return new SharedArrayBuffer(bytes);
}

function shared<T extends Float64Array | Uint8Array | Uint32Array>(a: T): T {
  const Ctor = a.constructor as new (b: SharedArrayBuffer) => T;
  const out = new Ctor(new SharedArrayBuffer(a.byteLength));
  out.set(a as never);
  return out;
}

function sharedTexts(t: Texts): Texts {
  return { bytes: shared(t.bytes), offsets: shared(t.offsets) };
}
