// `node dist/scripts/bench-brownout.js [--duration S] [--concurrency C]` — settlement under a
// ledger brownout. The real service (memory stores) and the real ledger stub with 50–500 ms
// jitter; C clients compute fresh epochs of the S vector for S seconds. Then the ledger heals and
// the drain is timed until every part is accepted. Prints runs/s, p95, the 202 share, the dup
// ratio, the held-queue peak and the drain time. A benchmark: it asserts nothing.

import { readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { compute, metric, seal, startService, startStub, until } from '../testing/ledger/service.js';

const arg = (name: string, fallback: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const DURATION_S = arg('duration', 20);
const CONCURRENCY = arg('concurrency', 8);
const RECOVERY_MS = arg('recovery-ms', 2000);

// startService/startStub register their clean-up with a test context; this stands in for one.
const cleanups: (() => unknown)[] = [];
const t = { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext;

async function main(): Promise<void> {
  const stub = await startStub(t, { seed: 7, faults: { latency_ms: { min: 50, max: 500 } } });
  const svc = await startService(t, {
    LEDGER_URL: stub.url,
    LEDGER_PROBE_INTERVAL_MS: '100',
    LEDGER_RECOVERY_WINDOW_MS: String(RECOVERY_MS),
    LEDGER_DEADLINE_MS: '1000',
    TENANT_RPS_MAX: '100000',
  });
  const vectors = new URL('../../vectors/S/', import.meta.url);
  const triple = await seal(svc.url, {
    inputs: readFileSync(new URL('inputs-columnar.json', vectors)),
    policy: readFileSync(new URL('policy.json', vectors)),
  });

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let heldPeak = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      heldPeak = Math.max(heldPeak, await metric(svc.url, 'ledger_held_intents').catch(() => 0));
      await sleep(200);
    }
  })();
  const end = performance.now() + DURATION_S * 1000;
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        // Each fresh epoch its own program: one program may not pay the same window twice (SPEC §10).
        const epoch = `brownout-${next++}:e`;
        const t0 = performance.now();
        const r = await compute(svc.url, epoch, triple).catch(() => ({ status: 0 }));
        latencies.push(performance.now() - t0);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      }
    }),
  );

  // The ledger heals; time until nothing is held and the stub has every part.
  await stub.admin.setFaults({ latency_ms: { min: 0, max: 0 } });
  const healedAt = performance.now();
  const runs = (statuses.get(200) ?? 0) + (statuses.get(202) ?? 0);
  await until('held intents drained', 120_000, async () => (await metric(svc.url, 'ledger_held_intents')) === 0 && (await stub.admin.stats()).parts >= runs, 100);
  const drainMs = performance.now() - healedAt;
  sampling = false;
  await sampler;
  const stats = await stub.admin.stats();

  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0;
  const summary = {
    duration_s: DURATION_S,
    concurrency: CONCURRENCY,
    requests: latencies.length,
    runs_per_s: +(runs / DURATION_S).toFixed(1),
    p50_ms: Math.round(p(0.5)),
    p95_ms: Math.round(p(0.95)),
    statuses: Object.fromEntries(statuses),
    share_202: +((statuses.get(202) ?? 0) / Math.max(1, latencies.length)).toFixed(3),
    parts_accepted: stats.accepted,
    dups: stats.dup,
    dup_ratio: +(stats.dup / Math.max(1, stats.parts)).toFixed(4),
    conflicts: stats.conflict,
    held_peak: heldPeak,
    drain_ms_after_heal: Math.round(drainMs),
    recovery_window_ms: RECOVERY_MS,
  };
  console.log(`brownout: ledger jitter 50-500 ms for ${DURATION_S} s, c=${CONCURRENCY}, S vector, fresh epoch per request`);
  for (const [k, v] of Object.entries(summary)) console.log(`  ${k.padEnd(20)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  console.log(JSON.stringify(summary));
}

try {
  await main();
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
