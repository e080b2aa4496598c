// Comparison bases of bound runs (src/core/compare-packed.ts), kept under a byte budget (least
// recently used first out) so a preview after the first neither reads nor parses the bound
// manifest: the first preview of a run builds its basis in the pool task and hands it back.
// Keyed by commitment: a manifest never changes, so a basis never goes stale. A run whose basis
// cannot be built (payees out of UTF-8 order, which no manifest of ours has) has nothing kept and its
// previews read the manifest.

import { type CompareBasis, compareBasisBytes } from './core/compare-packed.js';

export class PreviewBases {
  private readonly kept = new Map<string, { basis: CompareBasis; bytes: number }>();
  private held = 0;

  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.held;
  }

  get(commitment: string): CompareBasis | undefined {
    const hit = this.kept.get(commitment);
    if (hit === undefined) return undefined;
    this.kept.delete(commitment);
    this.kept.set(commitment, hit);
    return hit.basis;
  }

  keep(commitment: string, basis: CompareBasis): void {
    if (basis.commitment !== commitment || this.kept.has(commitment)) return;
    const bytes = compareBasisBytes(basis);
    // A basis over the whole budget is not kept: its previews read the manifest, as before.
    if (bytes > this.maxBytes) return;
    while (this.held + bytes > this.maxBytes) {
      const [oldest, v] = this.kept.entries().next().value as [string, { basis: CompareBasis; bytes: number }];
      this.kept.delete(oldest);
      this.held -= v.bytes;
    }
    this.kept.set(commitment, { basis, bytes });
    this.held += bytes;
  }
}
