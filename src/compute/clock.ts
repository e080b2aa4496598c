// How long a task held its worker, measured inside the worker. The pool prices the queue with it
// (src/admission.ts): timed from the edge (dispatch to the completion event), a task's time also
// counts the edge's own event-loop lag, which under a storm of refusals grew several-fold, priced
// every queued task out and left the worker idle.

/** A task that may carry a clock: a shared cell the worker writes its elapsed milliseconds into. */
export interface Clocked {
  clock?: SharedArrayBuffer;
}

/** A fresh clock for one task (8 bytes, shared with the worker). */
export function newClock(): SharedArrayBuffer {
  return new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT);
}

/** Milliseconds the worker spent on the task, or null if it never wrote (it died first). */
export function readClock(clock: SharedArrayBuffer): number | null {
  const ms = new Float64Array(clock)[0] as number;
  return ms > 0 ? ms : null;
}

/**
 * Wraps a worker function so that every task carrying a clock gets its elapsed time written back,
 * whether it returns or throws. A wrapper around a wrapped function overwrites the inner figure
 * with its own, larger one.
 */
export function timed<T extends Clocked, R>(fn: (task: T) => R): (task: T) => R {
  return (task: T): R => {
    const t0 = performance.now();
    try {
      return fn(task);
    } finally {
      // At least a microsecond, so that a written clock always reads as written.
      if (task.clock !== undefined) new Float64Array(task.clock)[0] = Math.max(0.001, performance.now() - t0);
    }
  };
}
