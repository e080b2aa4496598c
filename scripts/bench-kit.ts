// Small helpers shared by the benchmark scripts (bench-http runs on import, so it cannot be the
// place the others import from).

import type { EventEmitter } from 'node:events';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Kernel clock ticks per second in /proc (USER_HZ: 100 on every Linux ABI Node supports). */
export const CLK_TCK = 100;

/** CPU seconds (user + system, all threads) process `pid` has used so far; NaN once it is gone. */
export function cpuSecondsOf(pid: number): number {
  try {
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return Number.NaN;
  }
}

/**
 * Scheduler totals per thread of process `pid` (/proc/PID/task/TID/schedstat): ns spent on a CPU
 * and ns spent runnable but waiting for one. Threads that end between reads are skipped.
 */
export function threadSched(pid: number): Map<number, { runNs: number; waitNs: number }> {
  const out = new Map<number, { runNs: number; waitNs: number }>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ');
      out.set(Number(tid), { runNs: Number(run), waitNs: Number(wait) });
    } catch {
      /* the thread ended */
    }
  }
  return out;
}

/**
 * Where a server's threads spent a window, in % of one core, from two threadSched() readings: the
 * compute worker (the busiest thread besides the main one; the pool has one worker on 2 cores) on
 * a CPU and waiting for one, the main thread (the HTTP edge and ledger egress), and every other
 * thread (V8's GC and compiler helpers, the signer). NaN when there is nothing to compare.
 */
export function threadShares(
  pid: number,
  before: Map<number, { runNs: number; waitNs: number }>,
  after: Map<number, { runNs: number; waitNs: number }>,
  wallS: number,
): { workerRun: number; workerWait: number; main: number; others: number } {
  const pct = (ns: number) => (100 * ns) / 1e9 / wallS;
  const delta = new Map<number, { runNs: number; waitNs: number }>();
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { runNs: 0, waitNs: 0 };
    delta.set(tid, { runNs: a.runNs - b.runNs, waitNs: a.waitNs - b.waitNs });
  }
  let worker: number | undefined;
  for (const [tid, d] of delta) if (tid !== pid && (worker === undefined || d.runNs > (delta.get(worker)?.runNs ?? 0))) worker = tid;
  const w = worker === undefined ? undefined : delta.get(worker);
  let others = 0;
  for (const [tid, d] of delta) if (tid !== pid && tid !== worker) others += d.runNs;
  return {
    workerRun: w === undefined ? Number.NaN : pct(w.runNs),
    workerWait: w === undefined ? Number.NaN : pct(w.waitNs),
    main: delta.has(pid) ? pct(delta.get(pid)?.runNs ?? 0) : Number.NaN,
    others: pct(others),
  };
}

/** Nearest-rank percentile (p in 0..100) of `xs`, in any order; NaN when empty. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

/** Runs fn over items with at most `limit` in flight. */
export async function pmap<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Policy i: the generated policy with its own id and a varied weight, so every hash differs. */
export function policyVariant(base: Uint8Array, i: number, prefix = 'bench'): string {
  const p = JSON.parse(new TextDecoder().decode(base)) as { id: string; kinds: Record<string, { weight: number }> };
  p.id = `${prefix}-${i}`;
  const requests = p.kinds.requests;
  if (requests !== undefined) requests.weight = 1 + (i % 5);
  return JSON.stringify(p);
}

// autocannon (CommonJS, no bundled types): the part of its programmatic API the benchmarks use.
export interface AcRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  setupRequest?: (req: AcRequest, context: Record<string, unknown>) => AcRequest | null;
  onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
}
export interface AcOptions extends AcRequest {
  url: string;
  connections: number;
  duration?: number;
  amount?: number;
  timeout?: number;
  requests?: AcRequest[];
}
export interface AcResult {
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
export interface AcInstance extends EventEmitter {
  stop(): void;
}
export type Autocannon = (opts: AcOptions, cb: (err: Error | null, result: AcResult) => void) => AcInstance;
export const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
