// Micronode stores: plain maps, bounded by total bytes so a flood of uploads cannot take the box
// down. Nothing survives a restart (the micronode's amnesia is a feature: see README).

import { AppError } from '../errors.js';
import type { EpochRecord, PublishOutcome, StoredInputs, StoredPolicy, Stores } from './types.js';

export class MemoryStores implements Stores {
  readonly kind = 'memory' as const;
  private readonly inputs = new Map<string, StoredInputs>();
  private readonly policies = new Map<string, StoredPolicy>();
  private readonly epochs = new Map<string, EpochRecord>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  private reserve(n: number): void {
    if (this.bytes + n > this.maxBytes) {
      throw new AppError(
        'UNAVAILABLE',
        'the in-memory store is full',
        { reason: 'store_full', limit_bytes: this.maxBytes },
        { 'Retry-After': '60' },
      );
    }
    this.bytes += n;
  }

  async putInputs(doc: StoredInputs): Promise<boolean> {
    if (this.inputs.has(doc.cid)) return false;
    this.reserve(doc.bytes.length);
    this.inputs.set(doc.cid, doc);
    return true;
  }

  async getInputs(cid: string): Promise<StoredInputs | null> {
    return this.inputs.get(cid) ?? null;
  }

  async putPolicy(doc: StoredPolicy): Promise<boolean> {
    if (this.policies.has(doc.hash)) return false;
    this.reserve(doc.bytes.length);
    this.policies.set(doc.hash, doc);
    return true;
  }

  async getPolicy(hash: string): Promise<StoredPolicy | null> {
    return this.policies.get(hash) ?? null;
  }

  async getEpoch(epochId: string): Promise<EpochRecord | null> {
    return this.epochs.get(epochId) ?? null;
  }

  async publish(record: EpochRecord): Promise<PublishOutcome> {
    const existing = this.epochs.get(record.epochId);
    if (existing !== undefined) return { created: false, record: existing };
    this.reserve(record.manifest.length + (record.attestation?.length ?? 0));
    this.epochs.set(record.epochId, record);
    return { created: true, record };
  }

  async healthy(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
