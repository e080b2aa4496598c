// Refusals under overload are counted (rejected_total) and summarised in the log, never one
// line each: at 170k refusals a minute a line per refusal was itself a load. The first refusal
// after a quiet interval is logged at once with what was counted since the last summary.

import type { Logger } from 'pino';

export class RefusalLog {
  private counts = new Map<string, number>();
  private lastMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  note(status: number, reason: string, corrId: string): void {
    const key = `${status} ${reason}`;
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const now = this.now();
    if (now - this.lastMs < this.intervalMs) return;
    const window = Number.isFinite(this.lastMs) ? Math.round((now - this.lastMs) / 1000) : 0;
    this.logger.warn({ event: 'RequestsRefused', refused: Object.fromEntries(this.counts), since_s: window, corr_id: corrId }, 'requests refused under load (summary)');
    this.counts = new Map();
    this.lastMs = now;
  }
}
