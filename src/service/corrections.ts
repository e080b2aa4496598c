// SPEC §13, the service half of corrections: fixing a superseding epoch's basis and enqueueing what
// it settles with. The calculus is src/core/correction.ts; this module only gathers its inputs from
// the store (the chain's manifests, earlier correction documents, which parts the ledger
// acknowledged) and hands the result back to the store in one operation.
//
// When is the basis fixed? When every part of the chain the new epoch replaces is final: parts
// nobody had claimed were cancelled when the epoch was superseded (never sent), and claimed ones
// (which may have reached the ledger) are driven to an answer by the drainer like any other part.
// Until then the new epoch is `awaiting_basis`. Every replica's drainer tries on each tick; the
// store fixes a basis at most once (a conditional update under the epoch's row lock), and the
// bytes are a pure function of the chain, so two replicas racing compute the same document.

import type { Logger } from 'pino';
import type { Signer } from '../attest/signer.js';
import {
  type BasisPart,
  type ChainManifest,
  type CorrectionDocument,
  type Entry,
  buildCorrection,
  chainManifest,
  correctionBasisParts,
  correctionEntries,
  correctionParts,
  paidFrom,
  plainParts,
} from '../core/correction.js';
import { intentParts } from '../core/intents.js';
import { canonicalBytes } from '../core/jcs.js';
import { headFromManifest } from '../core/manifest.js';
import { AppError } from '../errors.js';
import { type EpochRecord, FINAL_STATES, type OutboxPart, type Stores } from '../stores/types.js';

export interface CorrectionsDeps {
  stores: Stores;
  signer: Signer | null;
  /** The manifest bytes of a bound epoch (recomputed when the store evicted them). */
  manifestOf: (rec: EpochRecord) => Promise<Uint8Array>;
  /** Whether runs are settled to a ledger (LEDGER_URL): without one, no parts are enqueued. */
  ledger: boolean;
  /** Quarantine-only mode (egress degraded): parts enqueued now are held like any pending part. */
  degraded?: () => boolean;
  logger?: Logger;
}

/** The chain a superseding epoch replaces, newest first, with what the ledger acknowledged of it. */
interface Chain {
  epochs: EpochRecord[];
  /** Every part of the chain is final (nothing may still reach the ledger). */
  complete: boolean;
  basis: BasisPart[];
}

/** What a dry run with `supersedes` shows: the correction as it would be on today's basis. */
export interface CorrectionPreview {
  supersedes: { epoch_id: string; commitment: string };
  /** false while some part of the chain may still be acknowledged (the basis can still grow). */
  basis_complete: boolean;
  basis: string[];
  /** true when nothing was acknowledged: the epoch would settle as a plain §7 intent. */
  plain: boolean;
  entries: Entry[];
  totals: { credit_minor: string; debit_minor: string };
}

const decoder = new TextDecoder();

export class Corrections {
  /** Epochs being fixed by this replica now (the drainer and a compute may both try). */
  private readonly fixing = new Map<string, Promise<OutboxPart[] | null>>();

  constructor(private readonly deps: CorrectionsDeps) {}

  /** Tries every superseding epoch still awaiting its basis (the drainer's tick). */
  async resolveAll(): Promise<void> {
    for (const epochId of await this.deps.stores.awaitingBasis()) await this.resolve(epochId);
  }

  /**
   * Fixes the basis of `epochId` if its chain is answered: returns the parts it enqueued (the
   * correction's, or its own plain parts when the basis is empty), or null when it is still
   * waiting, was fixed already, or was superseded meanwhile.
   */
  resolve(epochId: string): Promise<OutboxPart[] | null> {
    let work = this.fixing.get(epochId);
    if (work === undefined) {
      work = this.fix(epochId);
      this.fixing.set(epochId, work);
      const forget = (): void => void this.fixing.delete(epochId);
      work.then(forget, forget);
    }
    return work;
  }

  private async fix(epochId: string): Promise<OutboxPart[] | null> {
    const { stores } = this.deps;
    const rec = await stores.getEpoch(epochId);
    if (rec === null || rec.basis !== 'awaiting' || (rec.supersededBy ?? null) !== null) return null;
    const chain = await this.chain(rec.epochId, rec.supersedes ?? null);
    if (!chain.complete) return null;
    const bytes = await this.deps.manifestOf(rec);
    const next = parseManifest(bytes);
    const old = chain.epochs[0] as EpochRecord;
    const doc = buildCorrection(next, { epoch_id: old.epochId, commitment: old.commitment }, chain.basis);
    const asOutbox = (p: { partId: string; index: number; count: number; body: Uint8Array }): OutboxPart => ({ partId: p.partId, epochId, runKey: rec.runKey, index: p.index, count: p.count, body: p.body });
    if (doc === null) {
      // Nothing of the chain reached the ledger: the epoch settles as a plain §7 intent, its parts
      // exactly those a plain compute of it would have published (with its manifest's attestation).
      const signed = rec.attestation === null ? undefined : (JSON.parse(decoder.decode(rec.attestation)) as unknown);
      const credits = next.payouts.map((p) => ({ actor: p.actor, amount_minor: String(p.amount) }));
      const plain = this.deps.ledger ? intentParts(headFromManifest(bytes), credits, signed).map(asOutbox) : [];
      if (!(await stores.fixBasis(epochId, { document: null, attestation: null, parts: plain }))) return null;
      await this.holdIfDegraded(plain);
      this.deps.logger?.info({ epoch_id: epochId, supersedes: old.epochId }, 'correction basis fixed: empty, the epoch settles plainly');
      return plain;
    }
    const attestation = this.deps.signer === null ? undefined : await this.deps.signer.signCorrection(doc.correction_commitment);
    const parts = this.deps.ledger ? correctionParts(doc, rec.runKey, attestation).map(asOutbox) : [];
    const fixed = await stores.fixBasis(epochId, {
      document: canonicalBytes(doc),
      attestation: attestation === undefined ? null : canonicalBytes(attestation),
      parts,
    });
    if (!fixed) return null;
    await this.holdIfDegraded(parts);
    this.deps.logger?.info(
      { epoch_id: epochId, supersedes: old.epochId, basis: doc.basis.length, entries: doc.entries.length, correction_commitment: doc.correction_commitment },
      'correction basis fixed',
    );
    return parts;
  }

  /** In quarantine-only mode pending parts are held (as entering it holds them): the probe sends them once the ledger answers. */
  private async holdIfDegraded(parts: readonly OutboxPart[]): Promise<void> {
    if (parts.length > 0 && this.deps.degraded?.() === true) await this.deps.stores.holdPending();
  }

  /** A dry run's view of the correction `next` would make if it superseded `old` now. */
  async preview(nextManifest: Uint8Array, old: EpochRecord): Promise<CorrectionPreview> {
    const next = parseManifest(nextManifest);
    const chain = await this.chain(null, old.epochId, old);
    const paid = paidFrom(chain.basis);
    const entries = correctionEntries(next.payouts, paid);
    let credit = 0n;
    let debit = 0n;
    for (const e of entries) {
      if (e.op === 'credit') credit += BigInt(e.amount_minor);
      else debit += BigInt(e.amount_minor);
    }
    return {
      supersedes: { epoch_id: old.epochId, commitment: old.commitment },
      basis_complete: chain.complete,
      basis: chain.basis.map((p) => p.part_id).sort(),
      plain: chain.basis.length === 0,
      entries,
      totals: { credit_minor: `${credit}`, debit_minor: `${debit}` },
    };
  }

  /**
   * The chain an epoch (`self`, null for a dry run's unbound one) replaces from `from` on
   * (`supersedes`, recursively), whether all its parts are final, and the acknowledged parts as
   * basis candidates: each epoch's §7 parts and its correction's parts. `first` is the record of
   * `from` when the caller already holds it.
   */
  private async chain(self: string | null, from: string | null, first?: EpochRecord): Promise<Chain> {
    const { stores } = this.deps;
    const epochs: EpochRecord[] = [];
    let complete = true;
    const basis: BasisPart[] = [];
    const seen = new Set<string>(self === null ? [] : [self]);
    for (let ref = from; ref !== null; ) {
      if (seen.has(ref)) throw invariant(`the supersession chain of ${self ?? from} reaches ${ref} twice`);
      seen.add(ref);
      const e = epochs.length === 0 && first !== undefined ? first : await stores.getEpoch(ref);
      if (e === null) throw invariant(`epoch ${ref} of the supersession chain of ${self ?? from} is not bound`);
      epochs.push(e);
      const parts = await stores.partsOf(e.epochId);
      if (parts.some((p) => !FINAL_STATES.includes(p.state))) complete = false;
      const acked = new Set(parts.filter((p) => p.state === 'accepted' || p.state === 'dup').map((p) => p.partId));
      if (acked.size > 0) {
        const m = await this.manifest(e);
        const candidates = [...plainParts(m), ...(e.correction ? correctionBasisParts(e.runKey, parseCorrection(e.correction).entries) : [])];
        for (const c of candidates) if (acked.has(c.part_id)) basis.push(c);
      }
      ref = e.supersedes ?? null;
    }
    return { epochs, complete, basis };
  }

  private async manifest(rec: EpochRecord): Promise<ChainManifest> {
    return parseManifest(await this.deps.manifestOf(rec));
  }
}

function parseManifest(bytes: Uint8Array): ChainManifest {
  const m = chainManifest(JSON.parse(decoder.decode(bytes)));
  if (typeof m === 'string') throw invariant(`a published manifest does not read as a chain manifest: ${m}`);
  return m;
}

export function parseCorrection(bytes: Uint8Array): CorrectionDocument {
  return JSON.parse(decoder.decode(bytes)) as CorrectionDocument;
}

function invariant(message: string): AppError {
  return new AppError('INTERNAL', 'internal error', { reason: 'internal', problem: message });
}
