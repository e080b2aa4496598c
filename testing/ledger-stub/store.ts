// What the stub ledger has committed, and what it has been asked. Tests read these to check the
// rewarder's promise (each part credited at most once, retried until acknowledged) from the
// ledger's side, so the records keep what a test needs: ids, sizes, the BigInt sum, and the
// headers the rewarder sent.

import type { Intent } from './intent.js';

export interface PartRecord extends Intent {
  /** `correction` for a SPEC §13 correction part (its `entries`, no credits), else `intent`. */
  kind: 'intent' | 'correction';
  /** A correction part's entries (0 for an intent). */
  entries: number;
  x_deadline: string | null;
  x_corr_id: string | null;
  /** Wall-clock time of the first (committing) request, RFC 3339 UTC with milliseconds. */
  received_at: string;
  /** Later requests for this part with the same bytes (answered `dup`). */
  dups: number;
  /** Later requests for this part with different bytes (answered `conflict`). */
  conflicts: number;
}

export interface Counters {
  /** Every request to POST /v1/intents, whatever became of it. */
  requests_total: number;
  accepted: number;
  dup: number;
  conflict: number;
  /** Answered with the injected `error_status` (error_rate). */
  errors_injected: number;
  /** Answered 503 because the stub was down or inside an outage window. */
  unavailable: number;
  /** Never answered (hang). */
  hung: number;
  /** Recorded, then the socket was reset instead of answering. */
  reset_after_commit: number;
  /** 400, 413 and 415 answers. */
  bad_request: number;
  unauthorized: number;
  /** Answered with the `canned_answer` fault (not a SPEC §7 answer). */
  canned: number;
}

export function zeroCounters(): Counters {
  return {
    requests_total: 0,
    accepted: 0,
    dup: 0,
    conflict: 0,
    errors_injected: 0,
    unavailable: 0,
    hung: 0,
    reset_after_commit: 0,
    bad_request: 0,
    unauthorized: 0,
    canned: 0,
  };
}

export type Outcome = 'accepted' | 'dup' | 'conflict';

export interface PartFilter {
  epoch_id?: string | undefined;
  run_key?: string | undefined;
}

export class PartStore {
  readonly #parts = new Map<string, PartRecord>();

  get size(): number {
    return this.#parts.size;
  }

  /** Records a part the first time its id is seen; afterwards compares the body digest only. */
  commit(intent: Intent, headers: Pick<PartRecord, 'kind' | 'entries' | 'x_deadline' | 'x_corr_id'>, now: Date): Outcome {
    const known = this.#parts.get(intent.part_id);
    if (known === undefined) {
      this.#parts.set(intent.part_id, { ...intent, ...headers, received_at: now.toISOString(), dups: 0, conflicts: 0 });
      return 'accepted';
    }
    if (known.body_b3 === intent.body_b3) {
      known.dups += 1;
      return 'dup';
    }
    known.conflicts += 1;
    return 'conflict';
  }

  /** Copies in commit order, so callers cannot alter the ledger through them. */
  list(filter: PartFilter = {}): PartRecord[] {
    const out: PartRecord[] = [];
    for (const r of this.#parts.values()) {
      if (filter.epoch_id !== undefined && r.epoch_id !== filter.epoch_id) continue;
      if (filter.run_key !== undefined && r.run_key !== filter.run_key) continue;
      out.push({ ...r, part: { ...r.part } });
    }
    return out;
  }

  clear(): void {
    this.#parts.clear();
  }
}
