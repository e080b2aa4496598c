// Previews (POST /epochs/{id}/preview): what a candidate policy (and optionally other inputs)
// would pay for a bound epoch, computed like a dry run — nothing is bound, published or sent to
// the ledger — and compared with the bound run in the same pool task (src/core/compare.ts), so
// the event loop only moves bytes. The first preview of a run hands the task the bound manifest
// and keeps the comparison basis the task builds from it (src/core/compare-packed.ts); later
// previews hand the task that basis (shared memory) and cost about what their dry run costs.

import type { DocLimits } from '../compute/protocol.js';
import type { Deadline } from '../deadline.js';
import { AppError, internalError } from '../errors.js';
import type { InputsCache } from '../inputs-cache.js';
import type { Logger } from 'pino';
import type { ComputePool } from '../pool.js';
import { type EpochRecord, type Stores, readInputs } from '../stores/types.js';
import { noSuchInputs, noSuchPolicy } from '../http/tenancy.js';
import type { EpochService } from './epochs.js';
import type { PreviewBases } from '../preview-bases.js';

export interface PreviewRequest {
  inputs_cid?: string | undefined;
  policy_id: string;
  policy_hash: string;
  top?: number | undefined;
}

export interface PreviewDeps {
  stores: Stores;
  pool: ComputePool;
  cache: InputsCache;
  epochs: EpochService;
  bases: PreviewBases;
  limits: () => DocLimits;
  logger?: Logger;
}

export class Previews {
  constructor(private readonly deps: PreviewDeps) {}

  /**
   * The comparison's canonical bytes: the bound run as `a`, the candidate as `b`. `rec` is a bound run the caller may read (the route checked its program). The candidate policy,
   * and candidate inputs when given, must be documents the caller sealed itself (SPEC §10: another
   * tenant's document is the missing-document 404); the bound run's own inputs are read as its
   * binder sealed them.
   */
  async preview(
    rec: EpochRecord,
    req: PreviewRequest,
    deadline: Deadline,
    signal: AbortSignal,
    caller: { tenant: string; scheduling: string },
  ): Promise<{ body: Uint8Array; timing: Record<string, number> }> {
    const { stores, cache, pool, epochs } = this.deps;
    const epochId = rec.epochId;
    const tenant = caller.scheduling;
    const inputsCid = req.inputs_cid ?? rec.inputsCid;
    const policy = await stores.getPolicy(req.policy_hash, caller.tenant);
    if (policy === null) throw noSuchPolicy();
    if (policy.id !== req.policy_id) {
      throw new AppError('POLICY_MISMATCH', 'policy_id does not match the stored policy', { reason: 'policy_id_mismatch', stored_policy_id: policy.id });
    }
    if (req.inputs_cid !== undefined && !(await stores.owns('inputs', req.inputs_cid, caller.tenant))) throw noSuchInputs();
    const inputs = cache.get(inputsCid) ?? (await readInputs(stores, inputsCid, req.inputs_cid === undefined ? rec.tenant : caller.tenant));
    if (inputs === null) throw noSuchInputs();
    const stop = AbortSignal.any([signal, deadline.signal()]);
    // The kept basis, else a copy of the manifest (its buffer is transferred to the task). With a
    // basis kept, a run whose manifest retention evicted is not recomputed for its previews (the
    // basis holds all a comparison reads of it), so they answer even once its policy is gone.
    const bound = this.deps.bases.get(rec.commitment) ?? (await epochs.manifestOf(rec, stop, tenant)).slice();
    const t0 = performance.now();
    const r = await pool.preview(
      { op: 'preview', epochId, inputsCid, policyHash: req.policy_hash, policy: policy.bytes, inputs, limits: this.deps.limits(), bound, top: req.top ?? 10 },
      stop,
      tenant,
    );
    const ms = performance.now() - t0;
    if (!r.ok) {
      if (r.kind === 'quarantined') {
        throw new AppError('QUARANTINED', 'an invariant of the calculus failed for the candidate', { reason: 'invariant_breach', invariants: r.breaches.map((b) => b.invariant) });
      }
      // Sealed documents and a published manifest cannot fail to decode.
      this.deps.logger?.error({ epoch_id: epochId, kind: r.kind }, 'preview of sealed documents failed');
      throw internalError();
    }
    if (r.decoded !== null) cache.set(inputsCid, r.decoded);
    if (r.basis !== null) this.deps.bases.keep(rec.commitment, r.basis);
    return { body: r.comparison, timing: { queue_and_compute: ms, compute: r.ms.compute, compare: r.ms.compare } };
  }
}
