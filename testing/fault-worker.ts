// A pool worker for fault tests: the real workers/compute.js, except for compute tasks whose epoch
// id asks for a fault. Injected with buildRuntime(config, { workerFile: FAULT_WORKER }).
//   crash-…  the worker thread exits (process.exit inside a worker ends that thread only)
//   hang-…   the worker spins forever; only terminating the thread stops it
//   slow-N-…  the worker spins N ms, then computes normally (a long task that ends by itself)
//   throw-…  the task function throws; the thread lives on
//   uncaught-…  an exception escapes asynchronously, which kills the thread like a crash

import type { ComputeResult, ExplainBasisResult, ExportResult, PreviewResult, ProofIndexResult, SealResult, Task } from '../src/compute/protocol.js';
import run from '../workers/compute.js';
import { type Clocked, timed } from '../src/compute/clock.js';

/** Appears in the thrown error; a response that contains it leaked an internal error. */
export const THROWN_SECRET = 'fault-worker-internal-detail-7f3a';

function faultyRun(task: Task & Clocked): SealResult | ComputeResult | ProofIndexResult | ExplainBasisResult | PreviewResult | ExportResult | Promise<never> {
  if (task.op === 'compute') {
    const id = task.epochId;
    if (id.startsWith('crash-')) process.exit(1);
    if (id.startsWith('uncaught-')) {
      setImmediate(() => {
        throw new Error(`uncaught fault (${THROWN_SECRET})`);
      });
      return new Promise<never>(() => {});
    }
    if (id.startsWith('hang-')) {
      for (;;) {
        // busy: no timer, no promise, nothing but termination can end this
      }
    }
    const slow = /^slow-(\d+)-/.exec(id);
    if (slow !== null) {
      const until = performance.now() + Number(slow[1]);
      while (performance.now() < until) {
        // busy, like a large run
      }
    }
    if (id.startsWith('throw-')) throw new Error(`injected fault (${THROWN_SECRET})`);
  }
  return run(task);
}

/** Timed like the real worker, spins included: a slow task is slow for the pool's drain meter too. */
export default timed(faultyRun);
