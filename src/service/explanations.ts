// Explanations of published runs (SPEC §11), served from what the run already knows: the cached
// tally of its inputs (the inputs cache's Prepared) and its published amounts (the proof index).
// The per-run part (src/core/explain.ts `explainBasis`: scores, T, every actor's remainder rank)
// is built once per run in a pool worker and kept under a byte budget; after that one
// explanation costs a binary search over the actor ids and O(kinds) BigInt arithmetic here.

import type { Logger } from 'pino';
import type { DocLimits, Prepared } from '../compute/protocol.js';
import { type ExplainBasis, explainActor, explanationBytes, proofPart, textIndex } from '../core/explain.js';
import { type ProofIndex, proveFromIndex } from '../core/proof-index.js';
import { internalError } from '../errors.js';
import { type InputsCache, estimateBytes } from '../inputs-cache.js';
import type { ComputePool } from '../pool.js';
import type { EpochRecord, Stores } from '../stores/types.js';
import { boundDocuments } from './epochs.js';

interface Explainer {
  basis: ExplainBasis;
  inputs: Prepared;
}

export interface ExplanationDeps {
  stores: Stores;
  pool: ComputePool;
  cache: InputsCache;
  limits: () => DocLimits;
  logger?: Logger;
}

export class Explanations {
  private readonly kept = new Map<string, { explainer: Explainer; bytes: number }>();
  private readonly building = new Map<string, Promise<Explainer>>();
  private held = 0;

  constructor(
    private readonly deps: ExplanationDeps,
    private readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  get bytes(): number {
    return this.held;
  }

  /**
   * The canonical explanation of `actor` in the run `rec`; `proofs` is the run's proof index
   * (its published amounts and payouts tree). The build is shared by concurrent requests and
   * bounded by `signal`, never by one client's deadline.
   */
  async explain(rec: EpochRecord, actor: string, proofs: ProofIndex, signal: AbortSignal, tenant: string): Promise<Uint8Array> {
    const { basis, inputs } = await this.explainer(rec, signal, tenant);
    const proof = proveFromIndex(proofs, actor);
    const index = textIndex(inputs.ids, actor);
    const e = explainActor(basis, { kinds: inputs.tally.kinds, q: inputs.tally.q, seen: inputs.seen }, { epochId: rec.epochId, commitment: rec.commitment }, actor, index, proof === null ? null : proofPart(proof));
    if (e.amount_minor !== (proof?.amount_minor ?? '0')) {
      // Determinism broken or documents changed under a CID: never explain a different amount.
      this.deps.logger?.error({ epoch_id: rec.epochId, commitment: rec.commitment, explained: e.amount_minor, published: proof?.amount_minor ?? '0' }, 'explanation differs from the published amount');
      throw internalError();
    }
    return explanationBytes(e);
  }

  private async explainer(rec: EpochRecord, signal: AbortSignal, tenant: string): Promise<Explainer> {
    const hit = this.kept.get(rec.commitment);
    if (hit !== undefined) {
      this.kept.delete(rec.commitment);
      this.kept.set(rec.commitment, hit);
      return hit.explainer;
    }
    let pending = this.building.get(rec.commitment);
    if (pending === undefined) {
      pending = this.build(rec, signal, tenant).then((x) => {
        this.keep(rec.commitment, x);
        return x;
      });
      this.building.set(rec.commitment, pending);
      const forget = (): void => void this.building.delete(rec.commitment);
      pending.then(forget, forget);
    }
    return pending;
  }

  private async build(rec: EpochRecord, signal: AbortSignal, tenant: string): Promise<Explainer> {
    const { stores, cache, pool } = this.deps;
    const { policy, inputs } = await boundDocuments(stores, cache, rec);
    const r = await pool.explainBasis({ op: 'explain-basis', inputsCid: rec.inputsCid, policy: policy.bytes, inputs, limits: this.deps.limits() }, signal, tenant);
    if (!r.ok) {
      // The documents were sealed and computed with: they cannot fail to decode now.
      this.deps.logger?.error({ epoch_id: rec.epochId, kind: r.kind, error: r.error }, 'sealed documents of a published run do not decode');
      throw internalError();
    }
    if (r.decoded !== null) cache.set(rec.inputsCid, r.decoded);
    const prepared = inputs instanceof Uint8Array ? r.decoded : inputs;
    if (prepared === null) throw internalError();
    return { basis: r.basis, inputs: prepared };
  }

  private keep(commitment: string, explainer: Explainer): void {
    // The prepared inputs are usually shared with the inputs cache; counting them here too keeps
    // the bound honest when that cache has let them go.
    const bytes = explainer.basis.rank.byteLength + explainer.basis.excluded.byteLength + estimateBytes(explainer.inputs);
    if (bytes > this.maxBytes) return;
    while (this.held + bytes > this.maxBytes) {
      const [oldest, v] = this.kept.entries().next().value as [string, { bytes: number }];
      this.kept.delete(oldest);
      this.held -= v.bytes;
    }
    this.kept.set(commitment, { explainer, bytes });
    this.held += bytes;
  }
}
