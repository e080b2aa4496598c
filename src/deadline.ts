// Request deadlines (seed: every hop checks the time left). A deadline is fixed once at arrival
// as an absolute wall-clock instant (that is what X-Deadline carries to the ledger) plus a
// monotonic budget for the checks, so a clock step cannot shorten or extend a running request.

import { AppError } from './errors.js';

export class Deadline {
  constructor(
    /** Absolute deadline, ms since the epoch: forwarded unchanged, never extended. */
    readonly atMs: number,
    /** performance.now() at arrival. */
    readonly startedAt: number,
    /** Budget from arrival to the deadline, ms; never negative. */
    readonly budgetMs: number,
    /**
     * How long before arrival an absolute deadline had already passed (an X-Deadline in the
     * past), capped at the maximum budget so a typo or a broken clock cannot skew the figures.
     */
    readonly lateMs = 0,
  ) {}

  /** Milliseconds left; negative once past. A subtraction: well under 1 µs. */
  remaining(now = performance.now()): number {
    return this.budgetMs - (now - this.startedAt);
  }

  elapsed(now = performance.now()): number {
    return now - this.startedAt;
  }

  /** The 504 for this deadline at `stage`, with the SPEC §8 details and headers. */
  exceeded(stage: string, now = performance.now()): AppError {
    const elapsed = Math.round(this.elapsed(now));
    const by = Math.max(0, Math.round(-this.remaining(now))) + Math.round(this.lateMs);
    return new AppError(
      'DEADLINE_EXCEEDED',
      stage === 'estimate' ? 'not enough time left to finish before the deadline' : 'the request deadline passed',
      { reason: `deadline_${stage}`, deadline_ms: Math.round(this.budgetMs), elapsed_ms: elapsed, exceeded_by_ms: by },
      { 'Retry-After': '1', 'X-Deadline-Exceeded-By-Ms': String(by) },
    );
  }

  /** An AbortSignal that fires when the deadline passes, carrying the 504 as its reason. */
  signal(stage = 'aborted'): AbortSignal {
    const ctl = new AbortController();
    const ms = Math.max(0, this.remaining());
    const timer = setTimeout(() => ctl.abort(this.exceeded(stage)), ms);
    timer.unref();
    ctl.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
    return ctl.signal;
  }
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export interface DeadlineSources {
  header?: string | undefined;
  bodyMs?: number | undefined;
  queryMs?: string | undefined;
}

/**
 * Resolves the request's deadline: X-Deadline (absolute) wins, then deadline_ms in the body, then
 * in the query, else the default. Budgets are capped at `maxMs` so nobody can hold a worker for
 * an hour by asking politely.
 */
export function resolveDeadline(
  src: DeadlineSources,
  defaults: { defaultMs: number; maxMs: number },
  nowMs = Date.now(),
  started = performance.now(),
): Deadline {
  let budget: number;
  if (src.header !== undefined) {
    const at = RFC3339.test(src.header) ? Date.parse(src.header) : Number.NaN;
    if (Number.isNaN(at)) {
      throw new AppError('BAD_REQUEST', 'X-Deadline must be an RFC 3339 timestamp', { reason: 'invalid_deadline' });
    }
    budget = at - nowMs;
  } else if (src.bodyMs !== undefined) {
    budget = src.bodyMs;
  } else if (src.queryMs !== undefined) {
    if (!/^(0|[1-9][0-9]{0,15})$/.test(src.queryMs)) {
      throw new AppError('BAD_REQUEST', 'deadline_ms must be a non-negative integer', { reason: 'invalid_deadline' });
    }
    budget = Number(src.queryMs);
  } else {
    budget = defaults.defaultMs;
  }
  // A deadline already past (an X-Deadline in 2020) is a budget of 0, not a negative one: the
  // request is refused on arrival all the same; how late it already was is reported apart, capped
  // at maxMs, so deadline_ms is never negative and the exceeded-by figures stay sane.
  const lateMs = budget < 0 ? Math.min(-budget, defaults.maxMs) : 0;
  budget = Math.max(0, Math.min(budget, defaults.maxMs));
  return new Deadline(nowMs + budget, started, budget, lateMs);
}
