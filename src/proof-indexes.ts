// Proof indexes of published manifests (src/core/proof-index.ts), built once per manifest in a
// pool worker and kept under a byte budget (least recently used first out). Concurrent requests
// for the same manifest share one build. Keyed by commitment: a manifest never changes, so an
// index never goes stale.

import type { ProofIndex } from './core/proof-index.js';
import { proofIndexBytes } from './core/proof-index.js';

export class ProofIndexes {
  private readonly kept = new Map<string, { index: ProofIndex; bytes: number }>();
  /** Epoch → commitment of the indexes kept: a binding never changes, so this never goes stale. */
  private readonly epochs = new Map<string, string>();
  private readonly building = new Map<string, Promise<ProofIndex>>();
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  /**
   * The kept index of an epoch's manifest, without asking the store: an epoch is bound once and
   * for ever, so its commitment cannot change (and a PostgreSQL read of a 1M-payee manifest per
   * proof would cost what the index saves).
   */
  ofEpoch(epochId: string): ProofIndex | undefined {
    const commitment = this.epochs.get(epochId);
    return commitment === undefined ? undefined : this.kept.get(commitment)?.index;
  }

  /** The index of the manifest with this commitment, built by `build` if it is not kept. */
  async get(commitment: string, build: () => Promise<ProofIndex>): Promise<ProofIndex> {
    const hit = this.kept.get(commitment);
    if (hit !== undefined) {
      this.kept.delete(commitment);
      this.kept.set(commitment, hit);
      return hit.index;
    }
    let pending = this.building.get(commitment);
    if (pending === undefined) {
      pending = build().then((index) => {
        this.keep(commitment, index);
        return index;
      });
      this.building.set(commitment, pending);
      const forget = (): void => void this.building.delete(commitment);
      pending.then(forget, forget);
    }
    return pending;
  }

  private keep(commitment: string, index: ProofIndex): void {
    const bytes = proofIndexBytes(index);
    // One index over the whole budget still answers its request; it is just not kept.
    if (bytes > this.maxBytes) return;
    while (this.held + bytes > this.maxBytes) {
      const [oldest, v] = this.kept.entries().next().value as [string, { index: ProofIndex; bytes: number }];
      this.kept.delete(oldest);
      this.epochs.delete(v.index.epochId);
      this.held -= v.bytes;
    }
    this.epochs.set(index.epochId, commitment);
    this.kept.set(commitment, { index, bytes });
    this.held += bytes;
  }
}
