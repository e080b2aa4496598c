// Corrections `rewarder.correction/v1` (SPEC §13): a new epoch that supersedes a bound one pays only
// the difference between its amounts and what the ledger acknowledged for the chain it replaces.
// Pure and exact: amounts are BigInts, the document and part bodies are JCS, and everything here is
// a function of the manifests and the basis (the acknowledged part ids), so `rewarder
// verify-correction` recomputes the same bytes offline that the service sends.

import { b3, b3Text, isDigest } from './hash.js';
import { canonicalBytes } from './jcs.js';
import { isObject } from './json/parse.js';
import { PART_SIZE, partId, runKey } from './keys.js';
import { compareUtf8 } from './rules.js';
import { firstDifferenceFrom } from './diff.js';

export const CORRECTION_SCHEMA = 'rewarder.correction/v1';
const MAX_MONEY = (1n << 128n) - 1n;
const MONEY = /^(?:0|[1-9][0-9]*)$/;

/** The members of a manifest a correction reads (amounts as BigInts). */
export interface ChainManifest {
  epoch_id: string;
  commitment: string;
  run_key: string;
  payout_minor: bigint;
  payouts: readonly { actor: string; amount: bigint }[];
}

export interface Entry {
  actor: string;
  op: 'credit' | 'debit';
  amount_minor: string;
}

/** An acknowledged ledger part: its id and what it moved, per actor (credits positive, debits negative). */
export interface BasisPart {
  part_id: string;
  moves: readonly { actor: string; amount: bigint }[];
}

export interface EpochRef {
  epoch_id: string;
  commitment: string;
}

export interface CorrectionDocument {
  schema: string;
  epoch_id: string;
  commitment: string;
  supersedes: EpochRef;
  basis: string[];
  entries: Entry[];
  totals: { credit_minor: string; debit_minor: string };
  correction_commitment: string;
}

export interface CorrectionPart {
  partId: string;
  index: number;
  count: number;
  body: Uint8Array;
}

export function correctionPartId(runKeyValue: string, index: number, count: number): string {
  return b3Text(`rewarder.correction.v1|${runKeyValue}|${index}|${count}`);
}

/** The §7 parts of a manifest as basis candidates: part ids and their credits, 4096 per part in payee order. */
export function plainParts(m: ChainManifest): BasisPart[] {
  const count = Math.ceil(m.payouts.length / PART_SIZE);
  const parts: BasisPart[] = [];
  for (let i = 0; i < count; i++) {
    parts.push({ part_id: partId(m.run_key, i, count), moves: m.payouts.slice(i * PART_SIZE, (i + 1) * PART_SIZE) });
  }
  return parts;
}

/** The parts a correction's entries make (as basis candidates of a later correction). */
export function correctionBasisParts(runKeyValue: string, entries: readonly Entry[]): BasisPart[] {
  return sliceEntries(entries).map((slice, i, all) => ({
    part_id: correctionPartId(runKeyValue, i, all.length),
    moves: slice.map((e) => ({ actor: e.actor, amount: e.op === 'credit' ? BigInt(e.amount_minor) : -BigInt(e.amount_minor) })),
  }));
}

function sliceEntries<T>(entries: readonly T[]): T[][] {
  const slices: T[][] = [];
  for (let i = 0; i < entries.length; i += PART_SIZE) slices.push(entries.slice(i, i + PART_SIZE));
  return slices;
}

/** paid(a) = credits − debits to `a` over the basis parts (SPEC §13). */
export function paidFrom(basis: readonly BasisPart[]): Map<string, bigint> {
  const paid = new Map<string, bigint>();
  for (const part of basis) for (const { actor, amount } of part.moves) paid.set(actor, (paid.get(actor) ?? 0n) + amount);
  return paid;
}

/** The entries that take every actor from paid(a) to amount_new(a), ordered by actor (UTF-8 bytes). */
export function correctionEntries(payouts: ChainManifest['payouts'], paid: ReadonlyMap<string, bigint>): Entry[] {
  const target = new Map<string, bigint>();
  for (const { actor, amount } of payouts) target.set(actor, amount);
  for (const actor of paid.keys()) if (!target.has(actor)) target.set(actor, 0n);
  const entries: Entry[] = [];
  for (const actor of [...target.keys()].sort(compareUtf8)) {
    const diff = (target.get(actor) as bigint) - (paid.get(actor) ?? 0n);
    if (diff === 0n) continue;
    const amount = diff > 0n ? diff : -diff;
    // Only a basis that debited more than it credited could get here; no money string can say it.
    if (amount > MAX_MONEY) throw new RangeError(`correction entry for ${actor} exceeds 2^128-1`);
    entries.push({ actor, op: diff > 0n ? 'credit' : 'debit', amount_minor: `${amount}` });
  }
  return entries;
}

/**
 * The correction document of `next` superseding `old` over `basis`, or null when the basis is empty
 * (then `next` settles as a plain §7 intent). Basis part ids must be distinct.
 */
export function buildCorrection(next: ChainManifest, old: EpochRef, basis: readonly BasisPart[]): CorrectionDocument | null {
  if (basis.length === 0) return null;
  const ids = basis.map((p) => p.part_id).sort();
  for (let i = 1; i < ids.length; i++) if (ids[i] === ids[i - 1]) throw new RangeError(`basis part ${ids[i]} given twice`);
  const entries = correctionEntries(next.payouts, paidFrom(basis));
  let credit = 0n;
  let debit = 0n;
  for (const e of entries) {
    if (e.op === 'credit') credit += BigInt(e.amount_minor);
    else debit += BigInt(e.amount_minor);
  }
  const doc = {
    schema: CORRECTION_SCHEMA,
    epoch_id: next.epoch_id,
    commitment: next.commitment,
    supersedes: { epoch_id: old.epoch_id, commitment: old.commitment },
    basis: ids,
    entries,
    totals: { credit_minor: `${credit}`, debit_minor: `${debit}` },
  };
  return { ...doc, correction_commitment: b3(canonicalBytes(doc)) };
}

/** The correction's ledger parts: 4096 entries each, bodies as SPEC §13 (JCS), none when there are no entries. */
export function correctionParts(doc: CorrectionDocument, runKeyValue: string, attestation?: unknown): CorrectionPart[] {
  const slices = sliceEntries(doc.entries);
  return slices.map((entries, index) => {
    const id = correctionPartId(runKeyValue, index, slices.length);
    const body: Record<string, unknown> = {
      part_id: id,
      kind: 'correction',
      run_key: runKeyValue,
      epoch_id: doc.epoch_id,
      commitment: doc.commitment,
      correction_commitment: doc.correction_commitment,
      supersedes: doc.supersedes,
      part: { index, count: slices.length },
      entries,
    };
    if (attestation !== undefined) body.attestation = attestation;
    return { partId: id, index, count: slices.length, body: canonicalBytes(body) };
  });
}

/** A manifest's members a correction reads, checked: its commitment and run_key must recompute. */
export function chainManifest(doc: unknown): ChainManifest | string {
  if (!isObject(doc)) return 'manifest is not a JSON object';
  const { epoch_id, commitment, run_key, inputs_cid, policy, totals, payouts } = doc;
  if (typeof epoch_id !== 'string' || !isDigest(commitment) || !isDigest(run_key) || typeof inputs_cid !== 'string') return 'manifest lacks epoch_id, commitment, run_key or inputs_cid';
  if (!isObject(policy) || typeof policy.hash !== 'string') return 'manifest lacks policy.hash';
  if (!isObject(totals) || typeof totals.payout_minor !== 'string' || !MONEY.test(totals.payout_minor)) return 'manifest totals.payout_minor is not money';
  if (!Array.isArray(payouts)) return 'manifest has no payouts array';
  const out: { actor: string; amount: bigint }[] = [];
  for (const p of payouts) {
    if (!isObject(p) || typeof p.actor !== 'string' || typeof p.amount_minor !== 'string' || !MONEY.test(p.amount_minor)) return 'manifest payouts are malformed';
    out.push({ actor: p.actor, amount: BigInt(p.amount_minor) });
  }
  if (run_key !== runKey(epoch_id, inputs_cid, policy.hash)) return 'manifest run_key does not recompute from epoch_id, inputs_cid and policy.hash';
  const { commitment: _c, ...rest } = doc;
  if (b3(canonicalBytes(rest)) !== commitment) return 'manifest commitment does not recompute (b3 of the JCS manifest without it)';
  return { epoch_id, commitment, run_key, payout_minor: BigInt(totals.payout_minor), payouts: out };
}

function isRef(v: unknown): v is EpochRef {
  return isObject(v) && typeof v.epoch_id === 'string' && isDigest(v.commitment);
}

/** A correction document's shape (not its values): null when it is one, else what is wrong. */
export function correctionShape(doc: unknown): string | null {
  if (!isObject(doc)) return 'correction is not a JSON object';
  const keys = Object.keys(doc).sort().join(',');
  if (keys !== 'basis,commitment,correction_commitment,entries,epoch_id,schema,supersedes,totals') return `correction members are ${keys}, not those of ${CORRECTION_SCHEMA}`;
  if (doc.schema !== CORRECTION_SCHEMA) return `correction schema is not ${CORRECTION_SCHEMA}`;
  if (typeof doc.epoch_id !== 'string' || !isDigest(doc.commitment) || !isDigest(doc.correction_commitment)) return 'correction lacks epoch_id, commitment or correction_commitment';
  if (!isRef(doc.supersedes)) return 'correction supersedes is not {epoch_id, commitment}';
  if (!Array.isArray(doc.basis) || !doc.basis.every(isDigest)) return 'correction basis is not a list of part ids';
  if (!Array.isArray(doc.entries)) return 'correction has no entries array';
  for (const e of doc.entries as unknown[]) {
    if (!isObject(e) || typeof e.actor !== 'string' || (e.op !== 'credit' && e.op !== 'debit') || typeof e.amount_minor !== 'string' || !MONEY.test(e.amount_minor)) return 'correction entries are malformed';
  }
  return null;
}

/**
 * Recomputes `doc` from the chain's manifests and correction documents (SPEC §13 "Offline"): null
 * when it matches member for member, else the first difference. The chain is walked from
 * `doc.supersedes` through the corrections given (each one verified the same way first); a basis part
 * id must be a §7 part of a chain epoch's manifest or a part of a chain correction.
 */
export function verifyCorrection(
  doc: CorrectionDocument,
  manifests: readonly ChainManifest[],
  corrections: readonly CorrectionDocument[],
  depth = 0,
): string | null {
  if (depth > corrections.length) return 'the corrections given supersede each other in a cycle';
  const byCommitment = new Map(manifests.map((m) => [m.commitment, m]));
  const next = byCommitment.get(doc.commitment);
  if (next === undefined) return `no --chain manifest has the correction's commitment ${doc.commitment}`;
  if (next.epoch_id !== doc.epoch_id) return `$.epoch_id: expected ${JSON.stringify(next.epoch_id)} (the manifest of ${doc.commitment}), got ${JSON.stringify(doc.epoch_id)}`;
  const known = new Map<string, BasisPart>();
  const walked = new Set<string>([doc.commitment]);
  for (let ref: EpochRef | undefined = doc.supersedes; ref !== undefined; ) {
    if (walked.has(ref.commitment)) return `the chain reaches ${ref.commitment} twice`;
    walked.add(ref.commitment);
    const m = byCommitment.get(ref.commitment);
    if (m === undefined) return `no --chain manifest for superseded epoch ${ref.epoch_id} (${ref.commitment})`;
    if (m.epoch_id !== ref.epoch_id) return `superseded epoch ${JSON.stringify(ref.epoch_id)} has commitment ${ref.commitment}, whose manifest is epoch ${JSON.stringify(m.epoch_id)}`;
    for (const p of plainParts(m)) known.set(p.part_id, p);
    const commitment: string = ref.commitment;
    const earlier: CorrectionDocument | undefined = corrections.find((c) => c.commitment === commitment);
    if (earlier === undefined) break;
    const inner = verifyCorrection(earlier, manifests, corrections, depth + 1);
    if (inner !== null) return `correction of ${earlier.epoch_id}: ${inner}`;
    for (const p of correctionBasisParts(m.run_key, earlier.entries)) known.set(p.part_id, p);
    ref = earlier.supersedes;
  }
  const seen = new Set<string>();
  const basis: BasisPart[] = [];
  for (const id of doc.basis) {
    if (seen.has(id)) return `$.basis: part ${id} listed twice`;
    seen.add(id);
    const part = known.get(id);
    if (part === undefined) return `$.basis: part ${id} is not a part of the superseded chain (a --chain manifest or --corrections document missing?)`;
    basis.push(part);
  }
  const expected = buildCorrection(next, doc.supersedes, basis);
  if (expected === null) return '$.basis: empty, so the epoch settles as a plain intent and has no correction';
  // What the commitment is computed from first: a wrong entry explains a wrong correction_commitment.
  return firstDifferenceFrom(expected, doc, [['schema'], ['supersedes'], ['basis'], ['entries'], ['totals']]);
}
