// A task's shared cell with its worker: whether it has started (or was withdrawn before it did),
// and how long it held the worker, measured inside the worker.
//
// - The pool hands each worker its next task before the current one ends (pool.ts), so the worker
//   never waits for the edge's event loop between tasks; a task handed over but not started can be
//   withdrawn (its caller left, or a tenant with nothing running came and goes first): the
//   worker then skips it. Start and withdrawal race on one compare-and-swap.
// - The pool prices the queue with the worker's own time per task (src/admission.ts): timed from
//   the edge (dispatch to the completion event), a task's time also counted the edge's event-loop
//   lag, which a storm of refusals multiplies: the queue was priced out while the worker idled.

/** A task that may carry a clock (a 16-byte shared cell). */
export interface Clocked {
  clock?: SharedArrayBuffer;
}

const QUEUED = 0;
const STARTED = 1;
const WITHDRAWN = 2;

/** A fresh clock for one task: state at byte 0 (Int32), elapsed ms at byte 8 (Float64). */
export function newClock(): SharedArrayBuffer {
  return new SharedArrayBuffer(16);
}

/** Milliseconds the worker spent on the task, or null if it never finished it (died, or skipped it). */
export function readClock(clock: SharedArrayBuffer): number | null {
  const ms = new Float64Array(clock, 8, 1)[0] as number;
  return ms > 0 ? ms : null;
}

/** Whether the worker has started the task. */
export function started(clock: SharedArrayBuffer): boolean {
  return Atomics.load(new Int32Array(clock, 0, 1), 0) === STARTED;
}

/** Takes back a task the worker has not started: true if it will now skip it, false if it started. */
export function withdraw(clock: SharedArrayBuffer): boolean {
  const s = Atomics.compareExchange(new Int32Array(clock, 0, 1), 0, QUEUED, WITHDRAWN);
  return s === QUEUED || s === WITHDRAWN;
}

/**
 * Wraps a worker function: a task carrying a clock is skipped (undefined) if it was withdrawn,
 * else marked started, and its elapsed time is written back whether it returns or throws. A
 * wrapper around a wrapped function (the fault worker) starts it once and overwrites the inner
 * figure with its own, larger one.
 */
export function timed<T extends Clocked, R>(fn: (task: T) => R): (task: T) => R {
  return (task: T): R => {
    if (task.clock !== undefined) {
      const state = new Int32Array(task.clock, 0, 1);
      if (Atomics.compareExchange(state, 0, QUEUED, STARTED) === WITHDRAWN) return undefined as R;
    }
    const t0 = performance.now();
    try {
      return fn(task);
    } finally {
      // At least a microsecond, so that a written clock always reads as written.
      if (task.clock !== undefined) new Float64Array(task.clock, 8, 1)[0] = Math.max(0.001, performance.now() - t0);
    }
  };
}
