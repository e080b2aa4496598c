// A request deadline that passes after the manifest is published: the client gets a 504 naming
// the run_key, the run stays published and its intent stays in the outbox; once the ledger
// answers again the drainer emits it, with no further client call.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/gen/generate.js';
import { call, compute, ledgerOf, seal, startService, startStub, until } from './service.js';

test('a deadline passing while the ledger hangs answers 504 with the run_key, and the part is accepted later on its own', { timeout: 40_000 }, async (t) => {
  const stub = await startStub(t, { seed: 404, faults: { hang: true } });
  // Attempts may last 2 s, so the request's own 1 s deadline is what cuts the send.
  const svc = await startService(t, { LEDGER_URL: stub.url, LEDGER_DEADLINE_MS: '2000' });
  const triple = await seal(svc.url, generate({ scale: 'S', seed: 21, form: 'columnar' }));
  // Warm the worker on the same inputs (a dry run sends nothing to the ledger).
  const dry = await compute(svc.url, 'deadline-epoch', triple, { dry_run: true });
  assert.equal(dry.status, 200, dry.text);

  const t0 = performance.now();
  const r = await compute(svc.url, 'deadline-epoch', triple, { deadline_ms: 1_000 });
  const took = performance.now() - t0;
  assert.equal(r.status, 504, r.text);
  assert.equal(r.json.error.code, 'DEADLINE_EXCEEDED');
  assert.equal(r.json.error.details.run_key, dry.json.run_key, 'the 504 names the published run');
  assert.equal(r.json.error.details.deadline_ms, 1_000);
  assert.ok(r.headers.get('retry-after') !== null);
  assert.ok(r.headers.get('x-deadline-exceeded-by-ms') !== null);
  assert.ok(took < 1_900, `answered at the request deadline, not the ledger's budget (${took.toFixed(0)} ms)`);
  assert.ok((await stub.admin.stats()).hung >= 1, 'the send was in flight when the deadline passed');

  // Published and readable at once; the intent is waiting, not lost.
  const manifest = await call(svc.url, 'GET', '/epochs/deadline-epoch');
  assert.equal(manifest.status, 200);
  assert.equal(manifest.json.run_key, dry.json.run_key);
  assert.equal(manifest.headers.get('etag')?.includes(dry.json.commitment as string), true);
  const waiting = await ledgerOf(svc.url, 'deadline-epoch');
  assert.equal(waiting.run_key, dry.json.run_key);
  assert.ok(waiting.state === 'pending' || waiting.state === 'held', `state ${waiting.state}`);

  // The ledger heals; only the stub is watched until the part arrives.
  await stub.admin.clearFaults();
  const took2 = await until('the part reaches the ledger', 15_000, async () => (await stub.admin.parts({ run_key: dry.json.run_key })).length === 1, 100);
  t.diagnostic(`part accepted ${took2.toFixed(0)} ms after the ledger healed`);
  const stats = await stub.admin.stats();
  assert.equal(stats.accepted, 1);
  assert.equal(stats.conflict, 0);

  await until('the run reads accepted', 5_000, async () => (await ledgerOf(svc.url, 'deadline-epoch')).state === 'accepted');
  const later = await call(svc.url, 'GET', '/epochs/deadline-epoch');
  assert.equal(later.status, 200);
  assert.equal(later.text, manifest.text, 'the same manifest bytes');
  const replay = await compute(svc.url, 'deadline-epoch', triple);
  assert.equal(replay.status, 200, replay.text);
  assert.deepEqual(replay.json.ledger, { state: 'accepted' });
});
