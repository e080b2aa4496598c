// Egress health (seed 002 §1.2): recent attempt latencies against the p95/p99 budgets. Degraded
// means quarantine-only mode: runs still publish, their intents are held. It is left only after
// p95 has stayed under budget for the whole recovery window, measured by the drainer's probes.

export interface HealthOptions {
  p95BudgetMs: number;
  p99BudgetMs: number;
  recoveryWindowMs: number;
  /** Attempts remembered (a sliding window). */
  window?: number;
  /** Attempts needed before percentiles are trusted. */
  minSamples?: number;
  now?: () => number;
  onChange?: (degraded: boolean, why: string) => void;
}

export class EgressHealth {
  private readonly samples: number[] = [];
  private readonly size: number;
  private readonly minSamples: number;
  private readonly now: () => number;
  private degradedSince: number | null = null;
  /** Start of the current run of healthy probes while degraded. */
  private goodSince: number | null = null;

  constructor(private readonly o: HealthOptions) {
    this.size = o.window ?? 50;
    this.minSamples = o.minSamples ?? 10;
    this.now = o.now ?? Date.now;
  }

  get degraded(): boolean {
    return this.degradedSince !== null;
  }

  /** One attempt: its latency, or Infinity when it got no answer (timeout, reset). */
  observe(latencyMs: number): void {
    this.samples.push(latencyMs);
    if (this.samples.length > this.size) this.samples.shift();
    if (this.degraded) {
      this.trackRecovery();
      return;
    }
    if (this.samples.length < this.minSamples) return;
    // Every part's answer lands here, on the event loop: one numeric sort serves both percentiles.
    const sorted = this.sorted();
    const p95 = rank(sorted, 0.95);
    const p99 = rank(sorted, 0.99);
    if (p95 > this.o.p95BudgetMs) this.enter(`p95 ${fmt(p95)} ms over budget ${this.o.p95BudgetMs} ms`);
    else if (p99 > this.o.p99BudgetMs) this.enter(`p99 ${fmt(p99)} ms over budget ${this.o.p99BudgetMs} ms`);
  }

  /** A part whose retries ran out without an answer: degraded at once. */
  exhausted(): void {
    if (!this.degraded) this.enter('retries exhausted');
    else this.goodSince = null;
  }

  percentile(q: number): number {
    return rank(this.sorted(), q);
  }

  /** The samples in ascending order (a typed array sorts numerically without a comparator; Infinity last). */
  private sorted(): Float64Array {
    return Float64Array.from(this.samples).sort();
  }

  private enter(why: string): void {
    this.degradedSince = this.now();
    this.goodSince = null;
    // Recovery is judged on the probes made after entering, not on the brownout's samples.
    this.samples.length = 0;
    this.o.onChange?.(true, why);
  }

  private trackRecovery(): void {
    const healthy = this.percentile(0.95) <= this.o.p95BudgetMs;
    const now = this.now();
    if (!healthy) {
      this.goodSince = null;
      return;
    }
    this.goodSince ??= now;
    if (now - this.goodSince >= this.o.recoveryWindowMs) {
      this.degradedSince = null;
      this.goodSince = null;
      // Forget the brownout's samples: the next decision is about the recovered ledger.
      this.samples.length = 0;
      this.o.onChange?.(false, `p95 under budget for ${this.o.recoveryWindowMs} ms`);
    }
  }
}

/** The nearest-rank percentile of ascending samples (0 without samples). */
function rank(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(0) : 'no answer');
