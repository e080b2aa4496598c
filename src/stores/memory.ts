// Micronode stores: plain maps, bounded by total bytes so a flood of uploads cannot take the box
// down. Nothing survives a restart, held ledger intents included: that is the micronode's
// amnesia trade-off (see README), and the service warns about it at start.
//
// Retention: the byte bound is a budget, not a wall. When something new does not fit, the
// manifests of settled runs (every ledger part final, or none) are evicted oldest first, then the
// documents no unsettled run needs; bindings are kept for ever (a replay or a conflicting triple
// still meets its binding) and an evicted manifest is recomputed from its documents while they
// are held. Only what is pinned (unsettled runs, their parts and documents) can fill the store:
// then, and only then, a write is refused (503 store_full).

import { AppError } from '../errors.js';
import type { ManifestSpill } from './spill.js';
import {
  type EpochRecord,
  type EpochSummary,
  CANCELLABLE_STATES,
  FINAL_STATES,
  type FixedBasis,
  type InitialState,
  type OutboxPart,
  type PartState,
  type PartStatus,
  type PublishLease,
  type PublishOutcome,
  type Sealer,
  type StoredInputs,
  type StoredPolicy,
  type Stores,
  type Window,
  alreadySuperseded,
  noSuchSuperseded,
  overlaps,
  quotaExceeded,
  windowOverlap,
  inputsSize,
} from './types.js';

interface Row extends PartStatus {
  part: OutboxPart;
  leaseOwner: string | null;
  leaseUntil: number;
  /** Its epoch's hold (SPEC §13): an `on_hold` part is claimable from then on. */
  holdUntil: number;
  /** Ever leased: it may have been sent, so it is never cancelled (SPEC §13 "never attempted"). */
  claimed: boolean;
}

/** States a claim may lease (an `on_hold` part first becomes `pending` once its hold ends). */
const CLAIMABLE: readonly PartState[] = ['pending', 'held'];

export class MemoryStores implements Stores {
  readonly kind = 'memory' as const;
  private readonly inputs = new Map<string, StoredInputs>();
  private readonly policies = new Map<string, StoredPolicy>();
  private readonly epochs = new Map<string, EpochRecord>();
  /** Owners of each document, by `inputs|cid` or `policy|hash`, and the bytes each tenant owns. */
  private readonly owners = new Map<string, Set<string>>();
  private readonly usage = new Map<string, number>();
  /** Each program's bound epochs in window order (start, then epoch id). */
  private readonly programs = new Map<string, EpochSummary[]>();
  /**
   * Parts not yet settled; insertion order is publication order, which is the drain order. A part
   * leaves when it settles, so claims never walk the history, and its body (~234 KB at 4096
   * credits) is released: nothing sends it again.
   */
  private readonly outbox = new Map<string, Row>();
  /** Every part, settled or not, by id and by epoch, for its ledger state. */
  private readonly parts = new Map<string, Row>();
  private readonly byEpoch = new Map<string, Row[]>();
  private bytes = 0;
  /** Epochs whose manifest is held, in publication order (eviction order). */
  private readonly resident = new Set<string>();
  /** Non-final parts per epoch; an epoch with none here is settled. */
  private readonly openParts = new Map<string, number>();
  /** Unsettled runs that need each document ('i:' + inputs CID, 'p:' + policy hash). */
  private readonly needs = new Map<string, number>();
  /**
   * SPEC §13: while a superseding epoch awaits its basis, the chain it replaces is read to fix it
   * (manifests, documents to recompute an evicted one): the chain's epochs are pinned, by count
   * (an epoch is in at most one awaiting chain, but a chain's pins pass to its successor's).
   */
  private readonly chainPinned = new Map<string, number>();
  private readonly chainPins = new Map<string, EpochRecord[]>();
  /** Called for each eviction (metrics; a refusal is counted by the app, which sees its error). */
  onEvict: (kind: 'manifest' | 'inputs' | 'policy') => void = () => {};

  constructor(
    private readonly maxBytes: number,
    private readonly now: () => number = Date.now,
    /** Micronode: where evicted manifests go first (the amnesia tmpfs), read back from there. */
    private readonly spill: ManifestSpill | null = null,
  ) {}

  get spilledBytes(): number {
    return this.spill?.bytes ?? 0;
  }

  private reserve(n: number): void {
    if (this.bytes + n > this.maxBytes) this.makeRoom(this.bytes + n - this.maxBytes);
    if (this.bytes + n > this.maxBytes) {
      throw new AppError('UNAVAILABLE', 'the in-memory store is full of unsettled runs', { reason: 'store_full', limit_bytes: this.maxBytes }, { 'Retry-After': '60' });
    }
    this.bytes += n;
  }

  /** Evicts settled manifests (oldest first), then unneeded documents, until `need` bytes are freed. */
  private makeRoom(need: number): void {
    let freed = 0;
    for (const epochId of this.resident) {
      if (freed >= need) return;
      if (this.openParts.has(epochId) || this.chainPinned.has(epochId)) continue;
      const rec = this.epochs.get(epochId) as EpochRecord;
      this.resident.delete(epochId);
      this.spill?.put(epochId, rec.manifest);
      this.epochs.set(epochId, { ...rec, manifest: new Uint8Array(0), evicted: true });
      this.bytes -= rec.manifest.length;
      freed += rec.manifest.length;
      this.onEvict('manifest');
    }
    for (const [cid, doc] of this.inputs) {
      if (freed >= need) return;
      if (this.needs.has(`i:${cid}`)) continue;
      const size = inputsSize(doc);
      this.inputs.delete(cid);
      // A spooled document's file goes with it (once any reader of it is done).
      doc.file?.remove();
      this.disown(`inputs|${cid}`, size);
      this.bytes -= size;
      freed += size;
      this.onEvict('inputs');
    }
    for (const [hash, doc] of this.policies) {
      if (freed >= need) return;
      if (this.needs.has(`p:${hash}`)) continue;
      this.policies.delete(hash);
      this.disown(`policy|${hash}`, doc.bytes.length);
      this.bytes -= doc.bytes.length;
      freed += doc.bytes.length;
      this.onEvict('policy');
    }
  }

  /** Bytes held, the budget, and the bytes nothing may evict (unsettled runs and what they need). */
  fill(): { bytes: number; maxBytes: number; pinnedBytes: number } {
    let evictable = 0;
    for (const epochId of this.resident) if (!this.openParts.has(epochId) && !this.chainPinned.has(epochId)) evictable += this.epochs.get(epochId)?.manifest.length ?? 0;
    for (const [cid, doc] of this.inputs) if (!this.needs.has(`i:${cid}`)) evictable += inputsSize(doc);
    for (const [hash, doc] of this.policies) if (!this.needs.has(`p:${hash}`)) evictable += doc.bytes.length;
    return { bytes: this.bytes, maxBytes: this.maxBytes, pinnedBytes: this.bytes - evictable };
  }

  private need(rec: EpochRecord, by: 1 | -1): void {
    for (const key of [`i:${rec.inputsCid}`, `p:${rec.policyHash}`]) {
      const n = (this.needs.get(key) ?? 0) + by;
      if (n > 0) this.needs.set(key, n);
      else this.needs.delete(key);
    }
  }

  async putInputs(doc: StoredInputs, by: Sealer): Promise<boolean> {
    const known = this.inputs.has(doc.cid);
    const created = this.own(`inputs|${doc.cid}`, inputsSize(doc), by, !known);
    if (!known) {
      this.inputs.set(doc.cid, doc);
      // The store keeps a spooled document's file from here on (a known CID keeps its own copy:
      // the caller removes the file it brought).
      if (doc.file !== undefined) doc.file.kept = true;
    }
    return created;
  }

  async getInputs(cid: string, tenant: string): Promise<StoredInputs | null> {
    return this.owners.get(`inputs|${cid}`)?.has(tenant) === true ? (this.inputs.get(cid) ?? null) : null;
  }

  async putPolicy(doc: StoredPolicy, by: Sealer): Promise<boolean> {
    const known = this.policies.has(doc.hash);
    const created = this.own(`policy|${doc.hash}`, doc.bytes.length, by, !known);
    if (!known) this.policies.set(doc.hash, doc);
    return created;
  }

  async getPolicy(hash: string, tenant: string): Promise<StoredPolicy | null> {
    return this.owners.get(`policy|${hash}`)?.has(tenant) === true ? (this.policies.get(hash) ?? null) : null;
  }

  async owns(kind: 'inputs' | 'policy', id: string, tenant: string): Promise<boolean> {
    return this.owners.get(`${kind}|${id}`)?.has(tenant) === true;
  }

  async tenantUsage(): Promise<Map<string, number>> {
    return new Map(this.usage);
  }

  /**
   * Makes `by.tenant` an owner: its quota first, then, when the bytes are new, the store's own
   * budget (which may evict documents, other owners' and this tenant's, before it refuses).
   */
  private own(key: string, size: number, by: Sealer, storeBytes: boolean): boolean {
    if (this.owners.get(key)?.has(by.tenant) === true) return false;
    const used = this.usage.get(by.tenant) ?? 0;
    if (by.quotaBytes !== null && used + size > by.quotaBytes) throw quotaExceeded(by.quotaBytes, used, size);
    if (storeBytes) this.reserve(size);
    let set = this.owners.get(key);
    if (set === undefined) this.owners.set(key, (set = new Set()));
    set.add(by.tenant);
    this.usage.set(by.tenant, (this.usage.get(by.tenant) ?? 0) + size);
    return true;
  }

  /** An evicted document has no owners any more: their usage gives its bytes back. */
  private disown(key: string, size: number): void {
    for (const tenant of this.owners.get(key) ?? []) {
      const left = (this.usage.get(tenant) ?? 0) - size;
      if (left > 0) this.usage.set(tenant, left);
      else this.usage.delete(tenant);
    }
    this.owners.delete(key);
  }

  async getEpoch(epochId: string): Promise<EpochRecord | null> {
    const rec = this.epochs.get(epochId);
    if (rec === undefined) return null;
    if (rec.evicted === true && this.spill?.has(epochId) === true) {
      // Spilled: the bytes are read back as they were written (no recomputation).
      const manifest = await this.spill.get(epochId);
      if (manifest !== null) return { ...rec, manifest, evicted: false };
    }
    return rec;
  }

  async overlapping(program: string, window: Window): Promise<string | null> {
    return (this.programs.get(program) ?? []).find((r) => !this.superseded(r.epochId) && overlaps(r.window, window))?.epochId ?? null;
  }

  /** Whether the epoch has passed its window to a successor (SPEC §13). */
  private superseded(epochId: string): boolean {
    return (this.epochs.get(epochId)?.supersededBy ?? null) !== null;
  }

  async listEpochs(program: string, after: string | null, limit: number): Promise<EpochSummary[] | null> {
    const list = this.programs.get(program) ?? [];
    let from = 0;
    if (after !== null) {
      from = list.findIndex((r) => r.epochId === after) + 1;
      if (from === 0) return null;
    }
    return list.slice(from, from + limit).map((summary) => ({ ...summary }));
  }

  async publish(record: EpochRecord, parts: readonly OutboxPart[], initial: InitialState, lease?: PublishLease): Promise<PublishOutcome> {
    const existing = this.epochs.get(record.epochId);
    if (existing !== undefined) return { created: false, record: existing };
    const bound = this.programs.get(record.program) ?? [];
    const old = record.supersedes ?? null;
    if (old !== null) {
      const rec = this.epochs.get(old);
      if (rec === undefined || rec.program !== record.program) throw noSuchSuperseded(old);
      if ((rec.supersededBy ?? null) !== null) throw alreadySuperseded(old, rec.supersededBy as string);
    }
    // The superseded epoch's window passes to this one (SPEC §13); superseded epochs hold none.
    const clash = bound.find((r) => r.epochId !== old && !this.superseded(r.epochId) && overlaps(r.window, record.window));
    if (clash !== undefined) throw windowOverlap(clash.epochId);
    this.reserve(record.manifest.length + (record.attestation?.length ?? 0) + parts.reduce((n, p) => n + p.body.length, 0));
    // Everything below is synchronous: no claim can run between the mark and the cancellation.
    if (old !== null) {
      const superseded = this.epochs.get(old) as EpochRecord;
      this.epochs.set(old, { ...superseded, supersededBy: record.epochId });
      this.cancelUnclaimed(old);
      this.pinChain(record.epochId, old);
      this.unpinChain(old);
      // An epoch superseded while awaiting its basis will never fix it: it stops pinning.
      if (superseded.basis === 'awaiting' && this.openParts.get(old) === 0) {
        this.openParts.delete(old);
        this.need(superseded, -1);
      }
    }
    this.epochs.set(record.epochId, record);
    this.resident.add(record.epochId);
    // A superseding epoch awaiting its basis is unsettled (0 open parts so far): its manifest and
    // documents are pinned until its parts settle, as a pending run's are.
    if (parts.length > 0 || old !== null) {
      this.openParts.set(record.epochId, parts.length);
      this.need(record, 1);
    }
    // The listing keeps the binding without its bytes (an evicted manifest is then really freed).
    // Disjoint windows: ordering by start alone is total except for empty-range ties, broken by id.
    const { manifest: _m, attestation: _a, evicted: _e, correction: _c, correctionAttestation: _ca, ...summary } = record;
    const at = bound.findIndex((r) => r.window.startMs > record.window.startMs || (r.window.startMs === record.window.startMs && r.epochId > record.epochId));
    bound.splice(at === -1 ? bound.length : at, 0, summary);
    this.programs.set(record.program, bound);
    const rows = parts.map(
      (part): Row => ({
        part,
        partId: part.partId,
        epochId: part.epochId,
        index: part.index,
        count: part.count,
        state: initial,
        attempts: 0,
        lastError: null,
        leaseOwner: lease?.owner ?? null,
        leaseUntil: lease === undefined ? 0 : this.now() + lease.ms,
        holdUntil: record.holdUntil ?? 0,
        claimed: lease !== undefined,
      }),
    );
    for (const row of rows) {
      this.outbox.set(row.partId, row);
      this.parts.set(row.partId, row);
    }
    if (rows.length > 0) this.byEpoch.set(record.epochId, rows);
    return { created: true, record };
  }

  async claimParts(owner: string, limit: number, leaseMs: number, states: readonly PartState[]): Promise<OutboxPart[]> {
    const now = this.now();
    const out: OutboxPart[] = [];
    // An `on_hold` part whose hold has ended is claimable as `pending`.
    const afterHold = states.includes('pending');
    for (const row of this.outbox.values()) {
      if (out.length >= limit) break;
      if (row.leaseUntil > now) continue;
      if (row.state === 'on_hold' && afterHold && row.holdUntil <= now) row.state = 'pending';
      if (!states.includes(row.state) || !CLAIMABLE.includes(row.state)) continue;
      row.leaseOwner = owner;
      row.leaseUntil = now + leaseMs;
      row.claimed = true;
      out.push(row.part);
    }
    return out;
  }

  async claimPartsById(owner: string, partIds: readonly string[], leaseMs: number): Promise<OutboxPart[]> {
    const now = this.now();
    const out: OutboxPart[] = [];
    for (const id of partIds) {
      const row = this.outbox.get(id);
      if (row === undefined || !CLAIMABLE.includes(row.state) || (row.leaseUntil > now && row.leaseOwner !== owner)) continue;
      row.leaseOwner = owner;
      row.leaseUntil = now + leaseMs;
      row.claimed = true;
      out.push(row.part);
    }
    return out;
  }

  async releaseLeases(owner: string): Promise<number> {
    let n = 0;
    for (const row of this.outbox.values()) {
      if (row.leaseOwner !== owner) continue;
      row.leaseOwner = null;
      row.leaseUntil = 0;
      n++;
    }
    return n;
  }

  async settlePart(partId: string, owner: string, state: PartState, attemptsAdded: number, lastError: string | null): Promise<void> {
    const row = this.parts.get(partId);
    if (row === undefined) return;
    row.attempts += attemptsAdded;
    row.lastError = lastError;
    // Final states are never left; a late answer is still counted.
    if (!this.outbox.has(partId)) return;
    row.state = state;
    if (row.leaseOwner === owner) {
      row.leaseOwner = null;
      row.leaseUntil = 0;
    }
    if (FINAL_STATES.includes(state)) this.finish(row);
  }

  /** A part that reached a final state leaves the outbox (and, unless `failed`, gives its body back). */
  private finish(row: Row): void {
    this.outbox.delete(row.partId);
    // A `failed` part keeps its body and pins its run: an operator may re-drive it (redriveFailed).
    if (row.state === 'failed') return;
    this.bytes -= row.part.body.length;
    row.part = { ...row.part, body: new Uint8Array(0) };
    const open = (this.openParts.get(row.epochId) ?? 1) - 1;
    if (open > 0) this.openParts.set(row.epochId, open);
    else {
      // Settled: its manifest and documents become evictable.
      this.openParts.delete(row.epochId);
      const rec = this.epochs.get(row.epochId);
      if (rec !== undefined) this.need(rec, -1);
    }
  }

  /** Pins the chain `epochId` replaces, from `from` back to its first epoch. */
  private pinChain(epochId: string, from: string): void {
    const chain: EpochRecord[] = [];
    for (let ref: string | null = from; ref !== null && chain.length < 10_000; ) {
      const rec = this.epochs.get(ref);
      if (rec === undefined) break;
      chain.push(rec);
      this.chainPinned.set(ref, (this.chainPinned.get(ref) ?? 0) + 1);
      this.need(rec, 1);
      ref = rec.supersedes ?? null;
    }
    this.chainPins.set(epochId, chain);
  }

  /** Releases what `epochId`'s wait for its basis pinned (fixed, or superseded in turn). */
  private unpinChain(epochId: string): void {
    for (const rec of this.chainPins.get(epochId) ?? []) {
      const n = (this.chainPinned.get(rec.epochId) ?? 1) - 1;
      if (n > 0) this.chainPinned.set(rec.epochId, n);
      else this.chainPinned.delete(rec.epochId);
      this.need(rec, -1);
    }
    this.chainPins.delete(epochId);
  }

  /** SPEC §13: every part of `epochId` nobody ever claimed is cancelled (never sent). */
  private cancelUnclaimed(epochId: string): void {
    for (const row of this.byEpoch.get(epochId) ?? []) {
      if (row.claimed || !this.outbox.has(row.partId) || !CANCELLABLE_STATES.includes(row.state)) continue;
      row.state = 'cancelled';
      this.finish(row);
    }
  }

  async awaitingBasis(): Promise<string[]> {
    const out: string[] = [];
    for (const rec of this.epochs.values()) if (rec.basis === 'awaiting' && (rec.supersededBy ?? null) === null) out.push(rec.epochId);
    return out;
  }

  async fixBasis(epochId: string, fixed: FixedBasis): Promise<boolean> {
    const rec = this.epochs.get(epochId);
    if (rec === undefined || rec.basis !== 'awaiting' || (rec.supersededBy ?? null) !== null) return false;
    const holdUntil = rec.holdUntil ?? 0;
    const released: PartState = holdUntil > this.now() ? 'on_hold' : 'pending';
    this.reserve((fixed.document?.length ?? 0) + (fixed.attestation?.length ?? 0) + fixed.parts.reduce((n, p) => n + p.body.length, 0));
    const rows = fixed.parts.map(
      (part): Row => ({ part, partId: part.partId, epochId, index: part.index, count: part.count, state: released, attempts: 0, lastError: null, leaseOwner: null, leaseUntil: 0, holdUntil, claimed: false }),
    );
    for (const row of rows) {
      this.outbox.set(row.partId, row);
      this.parts.set(row.partId, row);
    }
    // A superseding epoch is bound without parts (pinned with 0 open): these are its first.
    if (rows.length > 0) {
      this.byEpoch.set(epochId, rows);
      this.openParts.set(epochId, rows.length);
    } else if (this.openParts.has(epochId)) {
      this.openParts.delete(epochId);
      this.need(rec, -1);
    }
    this.epochs.set(epochId, { ...rec, basis: 'fixed', correction: fixed.document, correctionAttestation: fixed.attestation });
    this.unpinChain(epochId);
    return true;
  }


  async redriveFailed(epochId?: string): Promise<number> {
    const rows = epochId === undefined ? this.parts.values() : (this.byEpoch.get(epochId) ?? []);
    let n = 0;
    for (const row of rows) {
      // A superseded epoch's parts are never sent again: its successor's basis counts them unpaid.
      if (row.state !== 'failed' || this.superseded(row.epochId)) continue;
      row.state = 'pending';
      row.leaseOwner = null;
      row.leaseUntil = 0;
      this.outbox.set(row.partId, row);
      n++;
    }
    return n;
  }

  async holdPending(): Promise<number> {
    let n = 0;
    for (const row of this.outbox.values()) {
      if (row.state === 'pending') {
        row.state = 'held';
        n++;
      }
    }
    return n;
  }

  async partsOf(epochId: string): Promise<PartStatus[]> {
    // Published in index order.
    return (this.byEpoch.get(epochId) ?? []).map((r) => ({
      partId: r.partId,
      epochId: r.epochId,
      index: r.index,
      count: r.count,
      state: r.state,
      attempts: r.attempts,
      lastError: r.lastError,
    }));
  }

  async countParts(states: readonly PartState[]): Promise<number> {
    let n = 0;
    // Unsettled states only: the open parts are enough (that is how the service asks).
    const rows = states.some((s) => FINAL_STATES.includes(s)) ? this.parts.values() : this.outbox.values();
    for (const r of rows) if (states.includes(r.state)) n++;
    return n;
  }

  async healthy(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {
    // Spooled documents' files (under the amnesia tmpfs, removed on exit anyway) go now.
    for (const doc of this.inputs.values()) doc.file?.remove();
  }
}
