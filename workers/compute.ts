// The pool worker: a shim from cloneable task data to the pure core. Results that carry big
// arrays are returned as Piscina Transferables so their buffers move instead of being copied.

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { calculate } from '../src/core/calculus.js';
import { decodeInputs } from '../src/core/inputs.js';
import type { NameKey } from '../src/core/json/names.js';
import { buildClaimTree, buildClaimTreeOfSpans, manifestExportPayees, manifestPayeeSpans } from '../src/core/exports.js';
import { claimDumpPieces, claimDumpSpanPieces, csvPieces, csvSpanPieces } from '../src/core/export-pieces.js';
import { intentParts } from '../src/core/intents.js';
import { type Texts, buildManifest, leafHeads, manifestHead } from '../src/core/manifest.js';
import { seal } from '../src/core/run.js';
import { manifestPayouts } from '../src/core/proof.js';
import { buildProofIndex, proofIndexBuffers } from '../src/core/proof-index.js';
import { explainBasis } from '../src/core/explain.js';
import { type ComparedManifest, type Comparison, compare, comparedManifest } from '../src/core/compare.js';
import { type CompareBasis, type ComparedHead, basisManifest, candidatePayees, compareBasis, comparePacked } from '../src/core/compare-packed.js';
import { canonicalBytes } from '../src/core/jcs.js';
import type { DocError } from '../src/core/result.js';
import { type Policy, decodePolicy } from '../src/core/policy.js';
import { type Clocked, timed } from '../src/compute/clock.js';
import {
  type ComputeResult,
  type ComputeTask,
  type ExportResult,
  type ExportTask,
  type ExplainBasisResult,
  type ExplainBasisTask,
  type PreviewResult,
  type PreviewTask,
  type ProofIndexResult,
  type ProofIndexTask,
  type Prepared,
  type SealResult,
  type SealTask,
  type Task,
  actorIds,
  prepare,
  prepareArrow,
  sharedMemory,
} from '../src/compute/protocol.js';
import { isArrowStream } from '../src/core/arrow/format.js';
import { b3 } from '../src/core/hash.js';
import { nativeAddon } from '../src/core/native.js';

// Actor id strings of recently used inputs, by CID. Prepared inputs carry the ids as shared
// UTF-8 bytes; decoding 10k of them costs ~1 ms, so each worker does it once per CID, not per
// run. A few CIDs are enough: runs over the same inputs come in bursts (epochs, policy trials).
const KNOWN_MAX = 4;
const knownActors = new Map<string, string[]>();

function remember(cid: string, actors: string[]): string[] {
  knownActors.delete(cid);
  knownActors.set(cid, actors);
  if (knownActors.size > KNOWN_MAX) knownActors.delete(knownActors.keys().next().value as string);
  return actors;
}

// Leaf heads (`{"actor":<name>,"amount_minor":"`, src/core/manifest.ts leafHeads) of the last
// few CIDs, for the TypeScript writers only (the native one copies a name as cheaply as a head):
// a leaf is then one copy and its digits, ~4 % of a warm token M run. Built on a CID's first
// compute (~0.5 ms at 10k actors) when its names are at most HEADS_MAX_NAME_BYTES (~25 MiB of
// heads at most per worker: XL inputs write their leaves the three-copy way instead).
const HEADS_MAX = 2;
const HEADS_MAX_NAME_BYTES = 8 * 1024 * 1024;
const knownHeads = new Map<string, Texts>();

function headsOf(inputs: Prepared): Texts | undefined {
  if (nativeAddon() !== null) return undefined;
  const known = knownHeads.get(inputs.cid);
  if (known !== undefined || inputs.names.bytes.length > HEADS_MAX_NAME_BYTES) return known;
  const heads = leafHeads(inputs.names);
  knownHeads.set(inputs.cid, heads);
  if (knownHeads.size > HEADS_MAX) knownHeads.delete(knownHeads.keys().next().value as string);
  return heads;
}

function moved<T extends object>(value: T, buffers: ArrayBuffer[]): T {
  // A Piscina Transferable: the value to send and the buffers to move with it; move() marks it.
  return move({ [transferableSymbol]: buffers, [valueSymbol]: value }) as unknown as T;
}

/**
 * This thread's key for the name tables' hash (src/core/json/names.ts), drawn once: ids crafted to
 * collide need the key, which never leaves the thread.
 */
const NAME_KEY: NameKey = (() => {
  const k = randomBytes(8);
  return [k.readUInt32LE(0), k.readUInt32LE(4)] as const;
})();

function sealDoc(t: SealTask): SealResult {
  if (t.file !== undefined) return sealFile(t, t.file);
  if (t.expect === 'rewarder.inputs/v1' && isArrowStream(t.bytes)) {
    // Arrow inputs: tallied from the stream in one pass, straight into shared memory.
    const cid = t.cid ?? b3(t.bytes);
    const a = prepareArrow(cid, t.bytes, t.limits.inputs);
    if (!a.ok) return a;
    if (a.value !== null) {
      remember(cid, a.value.actors);
      return sealedInputs(t, cid, a.value.prepared);
    }
  }
  const r = seal(t.bytes, t.limits, NAME_KEY, t.cid);
  if (!r.ok) return r;
  if (r.value.schema !== t.expect) return { ok: false, error: { path: '$.schema', reason: `expected "${t.expect}"` } };
  if (r.value.schema === 'rewarder.inputs/v1') {
    const prepared = prepare(r.value.cid, r.value.inputs);
    remember(r.value.cid, r.value.inputs.actors);
    return sealedInputs(t, r.value.cid, prepared);
  }
  return { ok: true, schema: r.value.schema, cid: r.value.cid, policyId: r.value.policy.id };
}

/**
 * A body the edge spooled to a file as it arrived (hashed then): read here whole, sealed as the
 * same bytes in memory would be (giveBack false: nothing goes back, the file stays the stored copy).
 */
function sealFile(t: SealTask, file: { path: string; size: number }): SealResult {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file.path);
  } catch (e) {
    // The request was cancelled (its file removed) between queueing and this read: nobody waits
    // for the answer, and a missing file is not the worker's failure.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, error: { path: '$', reason: 'the upload was withdrawn before it was sealed' } };
    throw e;
  }
  if (bytes.length !== file.size) throw new Error(`spooled inputs ${file.path} hold ${bytes.length} bytes, not ${file.size}`);
  const { file: _spooled, ...task } = t;
  return sealDoc({ ...task, bytes, giveBack: false });
}

function sealedInputs(t: SealTask, cid: string, prepared: Prepared): SealResult {
  // Preparing keeps no view into the bytes (strings, columns and texts are new), so they can go back.
  if (t.giveBack === true) return moved<SealResult>({ ok: true, schema: 'rewarder.inputs/v1', cid, prepared, bytes: t.bytes }, [t.bytes.buffer as ArrayBuffer]);
  return { ok: true, schema: 'rewarder.inputs/v1', cid, prepared };
}

function compute(t: ComputeTask): ComputeResult {
  const t0 = performance.now();
  const l = load(t);
  if (!l.ok) return l;
  const { inputs, decoded, actors, policy } = l;
  const t1 = performance.now();
  const calc = calculate({ ...inputs.tally, actors }, policy);
  if (!calc.ok) return { ok: false, kind: 'quarantined', breaches: calc.error };
  const t2 = performance.now();
  const ref = {
    epochId: t.epochId,
    inputsCid: t.inputsCid,
    policyId: policy.id,
    policyHash: t.policyHash,
    window: inputs.tally.window,
  };
  const manifest = buildManifest(ref, calc.value, inputs.names, headsOf(inputs));
  const head = manifestHead(ref, manifest, calc.value);
  const parts = t.ledger ? intentParts(head, manifest.leaves) : [];
  const t3 = performance.now();
  const result: ComputeResult = {
    ok: true,
    manifest: manifest.bytes,
    head,
    decoded,
    parts,
    ms: { decode: t1 - t0, calculus: t2 - t1, manifest: t3 - t2 },
  };
  return moved(result, [manifest.bytes.buffer as ArrayBuffer, ...parts.map((p) => p.body.buffer as ArrayBuffer)]);
}

function proofIndex(t: ProofIndexTask): ProofIndexResult {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(t.manifest));
  } catch {
    return { ok: false, reason: 'manifest is not JSON' };
  }
  const m = manifestPayouts(doc);
  if (typeof m === 'string') return { ok: false, reason: m };
  const index = buildProofIndex(m);
  return moved<ProofIndexResult>({ ok: true, index }, proofIndexBuffers(index));
}

function exportManifest(t: ExportTask): ExportResult {
  // Our writer's manifests: the payees as spans of its bytes, copied into the pieces (no string
  // or object per payee); anything else (and every error) by the general reader below.
  const spans = manifestPayeeSpans(t.manifest);
  if (spans !== null && spans.count > 0) {
    const pieces = t.format === 'csv' ? csvSpanPieces(spans) : claimDumpSpanPieces(spans, buildClaimTreeOfSpans(spans));
    return moved<ExportResult>({ ok: true, pieces }, pieces.map((p) => p.buffer as ArrayBuffer));
  }
  const payees = manifestExportPayees(t.manifest);
  if (typeof payees === 'string') return { ok: false, reason: 'malformed', detail: payees };
  if (t.format === 'oz-tree' && payees.length === 0) return { ok: false, reason: 'no_payees', detail: 'an epoch without payees has no claim tree' };
  const pieces = t.format === 'csv' ? csvPieces(payees) : claimDumpPieces(payees, buildClaimTree(payees));
  return moved<ExportResult>({ ok: true, pieces }, pieces.map((p) => p.buffer as ArrayBuffer));
}

/** Prepared inputs (decoded here when the edge had none cached), their actor ids and the policy. */
function load(t: { inputsCid: string; inputs: Prepared | Uint8Array; policy: Uint8Array; limits: ComputeTask['limits'] }):
  | { ok: true; inputs: Prepared; decoded: Prepared | null; actors: string[]; policy: Policy }
  | { ok: false; kind: 'inputs' | 'policy'; error: DocError } {
  let inputs: Prepared;
  let decoded: Prepared | null = null;
  let actors: string[];
  if (t.inputs instanceof Uint8Array) {
    const r = decodeInputs(t.inputs, t.limits.inputs, NAME_KEY);
    if (!r.ok) return { ok: false, kind: 'inputs', error: r.error };
    inputs = decoded = prepare(t.inputsCid, r.value);
    actors = remember(t.inputsCid, r.value.actors);
  } else {
    inputs = t.inputs;
    actors = knownActors.get(inputs.cid) ?? remember(inputs.cid, actorIds(inputs));
  }
  const policy = decodePolicy(t.policy, t.limits.policyMaxBytes);
  if (!policy.ok) return { ok: false, kind: 'policy', error: policy.error };
  return { ok: true, inputs, decoded, actors, policy: policy.value };
}

function basis(t: ExplainBasisTask): ExplainBasisResult {
  const l = load(t);
  if (!l.ok) return l;
  const b = explainBasis(l.inputs.tally, l.actors.length, l.actors, l.policy);
  return moved<ExplainBasisResult>({ ok: true, basis: b, decoded: l.decoded }, [b.rank.buffer as ArrayBuffer, b.excluded.buffer as ArrayBuffer]);
}

function preview(t: PreviewTask): PreviewResult {
  const t0 = performance.now();
  const l = load(t);
  if (!l.ok) return l;
  const calc = calculate({ ...l.inputs.tally, actors: l.actors }, l.policy);
  if (!calc.ok) return { ok: false, kind: 'quarantined', breaches: calc.error };
  const ref = { epochId: t.epochId, inputsCid: t.inputsCid, policyId: l.policy.id, policyHash: t.policyHash, window: l.inputs.tally.window };
  const head = manifestHead(ref, buildManifest(ref, calc.value, l.inputs.names, headsOf(l.inputs)), calc.value);
  const t1 = performance.now();
  // The bound side: the basis the edge keeps, else built here from the manifest (and handed back
  // to be kept); compare() of the parsed manifests when the packed path cannot answer exactly.
  let basis: CompareBasis | null;
  let built: CompareBasis | null = null;
  let parsed: ComparedManifest | null = null;
  if (t.bound instanceof Uint8Array) {
    let doc: unknown;
    try {
      doc = JSON.parse(new TextDecoder().decode(t.bound));
    } catch {
      return { ok: false, kind: 'bound', reason: 'manifest is not JSON' };
    }
    const m = comparedManifest(doc);
    if (typeof m === 'string') return { ok: false, kind: 'bound', reason: m };
    parsed = m;
    // Over the bound run's own inputs, the basis also records its payees' actor positions.
    basis = built = compareBasis(m, sharedMemory, m.inputs_cid === t.inputsCid ? l.inputs.ids : undefined);
  } else basis = t.bound;
  const c = calc.value.totals;
  const candidateHead: ComparedHead = {
    epoch_id: t.epochId,
    commitment: head.commitment,
    inputs_cid: t.inputsCid,
    policy_hash: t.policyHash,
    totals: { pool_input_minor: c.poolInput, pool_minor: c.pool, payout_minor: c.payout, residual_minor: c.residual, capped_minor: c.capped, below_min_minor: c.belowMin, rounding_dust_minor: c.roundingDust },
  };
  const packed = basis === null ? null : candidatePayees(calc.value, l.inputs.ids);
  let answer: Comparison;
  if (basis !== null && packed !== null) answer = comparePacked(basis, candidateHead, packed, t.top);
  else {
    const bound = parsed ?? basisManifest(basis as CompareBasis);
    answer = compare(bound, { ...candidateHead, payouts: calc.value.payees.map((p) => ({ actor: p.actor, amount: p.amount })) }, t.top);
  }
  const comparison = canonicalBytes(answer);
  const result: PreviewResult = { ok: true, comparison, decoded: l.decoded, basis: built, ms: { compute: t1 - t0, compare: performance.now() - t1 } };
  return moved(result, [comparison.buffer as ArrayBuffer]);
}

function run(task: Task): SealResult | ComputeResult | ProofIndexResult | ExplainBasisResult | PreviewResult | ExportResult {
  if (task.op === 'seal') return sealDoc(task);
  if (task.op === 'proof-index') return proofIndex(task);
  if (task.op === 'explain-basis') return basis(task);
  if (task.op === 'preview') return preview(task);
  if (task.op === 'export') return exportManifest(task);
  return compute(task);
}

/** The pool reads each task's time in the worker from its clock (src/compute/clock.ts). */
export default timed<Task & Clocked, ReturnType<typeof run>>(run);
