// The egress health tracker on a fake clock: when quarantine-only mode is entered and left.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EgressHealth, type HealthOptions } from './health.js';

function tracker(over: Partial<HealthOptions> = {}) {
  const clock = { t: 0 };
  const changes: Array<{ degraded: boolean; why: string; at: number }> = [];
  const health = new EgressHealth({
    p95BudgetMs: 100,
    p99BudgetMs: 250,
    recoveryWindowMs: 1_000,
    minSamples: 10,
    window: 50,
    now: () => clock.t,
    onChange: (degraded, why) => changes.push({ degraded, why, at: clock.t }),
    ...over,
  });
  return { health, clock, changes };
}

test('slow attempts do not degrade egress before minSamples, then p95 over budget does', () => {
  const { health, changes } = tracker();
  for (let i = 0; i < 9; i++) health.observe(500);
  assert.equal(health.degraded, false, 'nine samples are not enough to judge');
  health.observe(500);
  assert.equal(health.degraded, true);
  assert.equal(changes.length, 1);
  assert.equal(changes[0]?.degraded, true);
  assert.match(changes[0]?.why ?? '', /p95 500 ms over budget 100 ms/);
});

test('attempts within both budgets keep egress healthy', () => {
  const { health, changes } = tracker();
  for (let i = 0; i < 200; i++) health.observe(i % 25 === 24 ? 240 : 60);
  assert.equal(health.degraded, false);
  assert.deepEqual(changes, []);
});

test('a p99 over budget degrades egress even when p95 is within budget', () => {
  const { health, changes } = tracker({ window: 100, minSamples: 100 });
  for (let i = 0; i < 98; i++) health.observe(10);
  health.observe(300);
  assert.equal(health.degraded, false);
  health.observe(300);
  assert.equal(health.percentile(0.95), 0, 'samples are cleared on entry');
  assert.equal(health.degraded, true);
  assert.match(changes[0]?.why ?? '', /p99 300 ms over budget 250 ms/);
});

test('attempts without an answer count as over budget', () => {
  const { health } = tracker();
  for (let i = 0; i < 10; i++) health.observe(i < 9 ? 5 : Number.POSITIVE_INFINITY);
  assert.equal(health.degraded, true, 'one in ten unanswered puts p95 at Infinity');
});

test('exhausted retries degrade egress at once, without any sample', () => {
  const { health, changes } = tracker();
  health.exhausted();
  assert.equal(health.degraded, true);
  assert.deepEqual(changes.map((c) => [c.degraded, c.why]), [[true, 'retries exhausted']]);
});

test('onChange is called once per entry into quarantine-only mode, however bad it gets', () => {
  const { health, clock, changes } = tracker();
  for (let i = 0; i < 10; i++) health.observe(1_000);
  health.exhausted();
  for (let i = 0; i < 100; i++) health.observe(Number.POSITIVE_INFINITY);
  health.exhausted();
  assert.deepEqual(changes.map((c) => c.degraded), [true]);
  // Leave, then enter again: a second entry is announced again.
  for (let i = 0; i < 50; i++) health.observe(5);
  clock.t = 10_000;
  health.observe(5);
  assert.equal(health.degraded, false);
  health.exhausted();
  assert.deepEqual(changes.map((c) => c.degraded), [true, false, true]);
});

test('samples are cleared on entry, so recovery is judged on what follows only', () => {
  const { health, clock, changes } = tracker();
  for (let i = 0; i < 10; i++) health.observe(900);
  assert.equal(health.degraded, true);
  assert.equal(health.percentile(0.95), 0, 'no samples left from before the entry');
  health.observe(20);
  assert.equal(health.percentile(0.95), 20);
  clock.t = 999;
  health.observe(20);
  assert.equal(health.degraded, true, 'the window has not elapsed yet');
  clock.t = 1_000;
  health.observe(20);
  assert.equal(health.degraded, false, 'healthy for the whole window: recovered');
  assert.deepEqual(changes.map((c) => [c.degraded, c.at]), [[true, 0], [false, 1_000]]);
  assert.match(changes[1]?.why ?? '', /under budget for 1000 ms/);
  assert.equal(health.percentile(0.95), 0, 'samples are cleared on recovery too');
});

test('recovery needs p95 under budget for the whole window: a bad sample in between restarts it', () => {
  const { health, clock, changes } = tracker();
  health.exhausted();
  const bad = 600;
  let recoveredAt: number | null = null;
  for (clock.t = 0; clock.t <= 5_000; clock.t += 50) {
    health.observe(clock.t === bad ? Number.POSITIVE_INFINITY : 20);
    if (!health.degraded) {
      recoveredAt = clock.t;
      break;
    }
  }
  assert.notEqual(recoveredAt, null, 'recovers once the bad sample is behind a full window');
  assert.ok((recoveredAt as number) >= bad + 1_000, `recovered at ${recoveredAt}, less than a window after the bad sample at ${bad}`);
  assert.equal(changes.filter((c) => !c.degraded).length, 1);
});

test('exhausted retries while degraded restart the recovery window', () => {
  const { health, clock } = tracker();
  health.exhausted();
  health.observe(20);
  clock.t = 900;
  health.observe(20);
  health.exhausted();
  clock.t = 1_000;
  health.observe(20);
  assert.equal(health.degraded, true, 'the window restarted at the exhausted part');
  clock.t = 1_999;
  health.observe(20);
  assert.equal(health.degraded, true);
  clock.t = 2_000;
  health.observe(20);
  assert.equal(health.degraded, false);
});

test('probes over budget keep egress degraded however long they go on', () => {
  const { health, clock } = tracker();
  health.exhausted();
  for (clock.t = 0; clock.t <= 10_000; clock.t += 100) health.observe(150);
  assert.equal(health.degraded, true);
});
