// Inclusion proofs as documents (SPEC §5): what `rewarder prove` prints, what
// GET /epochs/{id}/payouts/{actor} answers, and what a payee checks offline against a root.

import { formatDigest, isDigest, parseDigest } from './hash.js';
import { isObject } from './json/parse.js';
import { auditPath, leafData, verifyInclusion } from './merkle.js';

export interface PayoutProof {
  actor: string;
  amount_minor: string;
  epoch_id: string;
  leaf_index: number;
  tree_size: number;
  audit_path: string[];
  payouts_root: string;
}

export interface ManifestPayouts {
  epoch_id: string;
  payouts_root: string;
  payouts: { actor: string; amount_minor: string }[];
}

/** Reads the members a proof needs from a parsed manifest, or says which is malformed. */
export function manifestPayouts(doc: unknown): ManifestPayouts | string {
  if (!isObject(doc)) return 'manifest is not a JSON object';
  if (typeof doc.epoch_id !== 'string') return 'manifest has no epoch_id';
  if (!isDigest(doc.payouts_root)) return 'manifest has no valid payouts_root';
  if (!Array.isArray(doc.payouts)) return 'manifest has no payouts array';
  const payouts: ManifestPayouts['payouts'] = [];
  for (const p of doc.payouts) {
    if (!isObject(p) || typeof p.actor !== 'string' || typeof p.amount_minor !== 'string') {
      return 'manifest payouts are malformed';
    }
    payouts.push({ actor: p.actor, amount_minor: p.amount_minor });
  }
  return { epoch_id: doc.epoch_id, payouts_root: doc.payouts_root, payouts };
}

/** The proof for `actor`, or null when it is not a payee. Binary search: payees are sorted. */
export function proveActor(m: ManifestPayouts, actor: string, index?: number): PayoutProof | null {
  const i = index ?? m.payouts.findIndex((p) => p.actor === actor);
  const entry = m.payouts[i];
  if (i < 0 || entry === undefined || entry.actor !== actor) return null;
  const leaves = m.payouts.map((p) => leafData(p.actor, p.amount_minor));
  return {
    actor,
    amount_minor: entry.amount_minor,
    epoch_id: m.epoch_id,
    leaf_index: i,
    tree_size: leaves.length,
    audit_path: auditPath(leaves, i).map(formatDigest),
    payouts_root: m.payouts_root,
  };
}

/** Checks a proof document against a root the verifier trusts; never throws on hostile input. */
export function checkProof(doc: unknown, trustedRoot: string): { ok: true; proof: PayoutProof } | { ok: false; reason: string } {
  if (!isObject(doc)) return { ok: false, reason: 'proof is not a JSON object' };
  const { actor, amount_minor, leaf_index, tree_size, audit_path } = doc;
  if (typeof actor !== 'string' || typeof amount_minor !== 'string') return { ok: false, reason: 'proof lacks actor or amount_minor' };
  if (typeof leaf_index !== 'number' || typeof tree_size !== 'number') return { ok: false, reason: 'proof lacks leaf_index or tree_size' };
  if (!Array.isArray(audit_path) || !audit_path.every(isDigest)) return { ok: false, reason: 'proof audit_path is malformed' };
  if (!isDigest(trustedRoot)) return { ok: false, reason: 'root is not a b3: digest' };
  if (!/^(0|[1-9][0-9]*)$/.test(amount_minor) || !actor.isWellFormed()) {
    return { ok: false, reason: 'proof actor or amount_minor is malformed' };
  }
  // tree_size is not bound by the root alone (RFC 9162): a verifier that knows the payee count
  // (counts.payees of a signed manifest) should check it too. The amount and index are bound.
  const valid = verifyInclusion(
    leafData(actor, amount_minor),
    leaf_index,
    tree_size,
    (audit_path as string[]).map(parseDigest),
    parseDigest(trustedRoot),
  );
  return valid ? { ok: true, proof: doc as unknown as PayoutProof } : { ok: false, reason: 'proof does not match the root' };
}
