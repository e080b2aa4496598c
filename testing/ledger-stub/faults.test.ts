// The pure parts: the fault verdict, the PRNG and the flag parser.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCliArgs } from './args.js';
import { applyPatch, createRng, decide, noFaults, parseFaultsPatch, type Fate } from './faults.js';

const fate = (latency: number, error = 0.5, reset = 0.5): Fate => ({ latency, error, reset });

test('the latency draw covers min and max inclusive and nothing outside', () => {
  const f = applyPatch(noFaults(), { latency_ms: { min: 50, max: 500 } });
  assert.deepEqual(decide(f, fate(0), 0), { action: 'serve', delayMs: 50, resetAfterCommit: false });
  assert.equal((decide(f, fate(0.999999999), 0) as { delayMs: number }).delayMs, 500);
  const rng = createRng(3);
  for (let i = 0; i < 1000; i++) {
    const d = (decide(f, fate(rng()), 0) as { delayMs: number }).delayMs;
    assert.ok(d >= 50 && d <= 500 && Number.isInteger(d), String(d));
  }
});

test('outage windows are half-open: down from start_ms, up again at end_ms', () => {
  const f = applyPatch(noFaults(), { outage_windows: [{ start_ms: 100, end_ms: 200 }] });
  assert.equal(decide(f, fate(0), 99.9).action, 'serve');
  assert.equal(decide(f, fate(0), 100).action, 'unavailable');
  assert.equal(decide(f, fate(0), 199.9).action, 'unavailable');
  assert.equal(decide(f, fate(0), 200).action, 'serve');
});

test('down beats hang, hang beats an injected error, and rates compare against the draw', () => {
  const all = applyPatch(noFaults(), { down: true, hang: true, error_rate: 1 });
  assert.equal(decide(all, fate(0), 0).action, 'unavailable');
  assert.equal(decide({ ...all, down: false }, fate(0), 0).action, 'hang');
  assert.deepEqual(decide({ ...all, down: false, hang: false }, fate(0), 0), { action: 'error', status: 503, delayMs: 0 });
  const some = applyPatch(noFaults(), { error_rate: 0.3, reset_after_commit_rate: 0.3 });
  assert.equal(decide(some, fate(0, 0.29), 0).action, 'error');
  assert.deepEqual(decide(some, fate(0, 0.3, 0.29), 0), { action: 'serve', delayMs: 0, resetAfterCommit: true });
  assert.deepEqual(decide(some, fate(0, 0.3, 0.3), 0), { action: 'serve', delayMs: 0, resetAfterCommit: false });
});

test('the PRNG repeats for a seed and differs between seeds, large seeds included', () => {
  const take = (seed: number): number[] => Array.from({ length: 8 }, createRng(seed));
  assert.deepEqual(take(7), take(7));
  assert.notDeepEqual(take(7), take(8));
  assert.notDeepEqual(take(2 ** 40 + 7), take(7));
  assert.ok(take(1).every((x) => x >= 0 && x < 1));
});

test('a patch with unknown members or values out of range is refused with its path named', () => {
  assert.throws(() => parseFaultsPatch({ hang: 'yes' }), /^Error: faults\.hang:/);
  assert.throws(() => parseFaultsPatch({ reset_after_commit_rate: 1.5 }), /faults\.reset_after_commit_rate/);
  assert.throws(() => parseFaultsPatch({ outage_windows: [{ start_ms: 5, end_ms: 5 }] }), /start_ms must be below end_ms/);
  assert.throws(() => parseFaultsPatch({ latency_ms: { min: 0, max: 10_000_000 } }), /faults\.latency_ms\.max/);
  assert.throws(() => parseFaultsPatch({ typo: 1 }), /faults/);
  assert.deepEqual(parseFaultsPatch({}), {});
});

test('applying a patch changes only the members it names', () => {
  const base = applyPatch(noFaults(), { down: true, latency_ms: { min: 1, max: 2 } });
  const next = applyPatch(base, { error_rate: 0.5 });
  assert.deepEqual(next, { ...base, error_rate: 0.5 });
  next.latency_ms.min = 99;
  assert.equal(base.latency_ms.min, 1, 'patched faults share no objects with the original');
});

test('flags parse into options, the specific flags overriding --faults', () => {
  const opts = parseCliArgs([
    '--port', '8080', '--seed', '9', '--token', 't', '--latency', '75',
    '--faults', '{"error_rate":0.1,"hang":true}', '--error-rate', '0.2', '--exit-with-stdin',
  ]);
  assert.deepEqual(opts, {
    host: '127.0.0.1',
    port: 8080,
    seed: 9,
    token: 't',
    exitWithStdin: true,
    faults: { error_rate: 0.2, hang: true, latency_ms: { min: 75, max: 75 } },
  });
  assert.throws(() => parseCliArgs(['--host', '10.0.0.1']), /--host 10\.0\.0\.1/);
  assert.throws(() => parseCliArgs(['--port', '70000']), /--port/);
  assert.throws(() => parseCliArgs(['--latency', '5-x']), /--latency/);
  assert.throws(() => parseCliArgs(['--faults', '[]']), /--faults: expected a JSON object/);
  assert.throws(() => parseCliArgs(['--bogus']), /bogus/);
});

test('a canned answer comes after an injected error and before serving; unknown kinds are refused', () => {
  const f = applyPatch(noFaults(), parseFaultsPatch({ canned_answer: 'empty-202', error_rate: 0.3 }));
  assert.equal(decide(f, fate(0, 0.29), 0).action, 'error');
  assert.deepEqual(decide(f, fate(0, 0.3), 0), { action: 'canned', answer: 'empty-202', delayMs: 0 });
  assert.equal(decide({ ...f, canned_answer: 'none' }, fate(0, 0.3), 0).action, 'serve');
  assert.throws(() => parseFaultsPatch({ canned_answer: 'teapot-418' }), /faults\.canned_answer/);
});
