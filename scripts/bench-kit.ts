// Small helpers shared by the benchmark scripts (bench-http runs on import, so it cannot be the
// place the others import from).

import { readFileSync } from 'node:fs';

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
