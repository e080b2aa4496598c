// Brownout, end to end: the real service (memory stores) and the real ledger stub process. With
// the ledger down, fresh runs still publish and answer 202 with their intents held; once the
// ledger is back, the drainer emits every held part exactly once, in publication order, with no
// client call at all, and a replay then answers 200.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generate } from '../../src/gen/generate.js';
import { compute, ledgerOf, metric, seal, startService, startStub, until } from './service.js';

const RECOVERY_WINDOW_MS = 500;

test('a ledger outage turns computes into 202 held runs that settle exactly once after it ends, without any client call', { timeout: 60_000 }, async (t) => {
  const stub = await startStub(t, { seed: 101, faults: { down: true } });
  const svc = await startService(t, { LEDGER_URL: stub.url, LEDGER_RECOVERY_WINDOW_MS: String(RECOVERY_WINDOW_MS) });
  // M has 10k actors: more than 4096 payees, so its run has several parts.
  const big = await seal(svc.url, generate({ scale: 'M', seed: 4, form: 'columnar' }));
  const small = await seal(svc.url, generate({ scale: 'S', seed: 5, form: 'columnar' }));

  const epochs = ['brownout-m:e', 'brownout-s1:e', 'brownout-s2:e'];
  const triples = [big, small, small];
  const payees: number[] = [];
  for (const [i, epoch] of epochs.entries()) {
    const r = await compute(svc.url, epoch, triples[i] as typeof big);
    assert.equal(r.status, 202, `${epoch}: ${r.text}`);
    assert.equal(r.json.quarantine, true);
    assert.deepEqual(r.json.ledger, { state: 'held' });
    assert.equal(r.json.epoch_id, epoch);
    payees.push(r.json.counts.payees);
  }

  // What is held, by publication order: the order the ledger must see the parts in.
  const expected: string[] = [];
  for (const epoch of epochs) {
    const view = await ledgerOf(svc.url, epoch);
    assert.equal(view.state, 'held');
    assert.equal(view.degraded, true);
    assert.ok(view.parts.every((p) => p.state === 'held'));
    expected.push(...view.parts.map((p) => p.part_id));
  }
  const bigParts = (await ledgerOf(svc.url, 'brownout-m:e')).parts.length;
  assert.ok(bigParts >= 2, `the M run has several parts (${bigParts})`);
  assert.equal(await metric(svc.url, 'ledger_egress_degraded'), 1);
  assert.equal(await metric(svc.url, 'ledger_held_intents'), expected.length);
  assert.equal(svc.logs.filter((l) => l.event === 'LedgerEgressDegraded').length, 1, 'LedgerEgressDegraded logged once for the one entry');

  // The drainer keeps probing the dead ledger for six recovery windows: nothing gets through,
  // and quick 503s are not mistaken for a recovered ledger (no exit, no second entry).
  await until('the drainer probes the dead ledger', 5_000, async () => (await stub.admin.stats()).unavailable >= 6);
  await sleep(6 * RECOVERY_WINDOW_MS);
  assert.equal((await stub.admin.stats()).accepted, 0);
  assert.equal(await metric(svc.url, 'ledger_egress_degraded'), 1);
  assert.equal(svc.logs.filter((l) => l.event === 'LedgerEgressRecovered').length, 0, 'no recovery while the ledger is down');
  assert.equal(svc.logs.filter((l) => l.event === 'LedgerEgressDegraded').length, 1, 'still the one entry');
  assert.equal(await metric(svc.url, 'ledger_held_intents'), expected.length);

  // The ledger comes back. From here on only the stub is asked, until every part is there.
  await stub.admin.clearFaults();
  const drained = await until('every held part reaches the ledger', 20_000, async () => (await stub.admin.parts()).length >= expected.length, 100);
  const records = await stub.admin.parts();
  const stats = await stub.admin.stats();
  assert.deepEqual(records.map((r) => r.part_id), expected, 'each part recorded once, in publication order');
  assert.equal(stats.accepted, expected.length, 'no part accepted twice');
  assert.equal(stats.conflict, 0);
  assert.ok(stats.dup <= expected.length, `dups ${stats.dup}`);
  const credited = (epoch: string) => records.filter((r) => r.epoch_id === epoch).reduce((n, r) => n + r.credits, 0);
  epochs.forEach((epoch, i) => assert.equal(credited(epoch), payees[i], `${epoch}: one credit per payee`));
  t.diagnostic(`held parts ${expected.length} (M run: ${bigParts}); drained ${drained.toFixed(0)} ms after the ledger came back`);

  for (const epoch of epochs) {
    const view = await ledgerOf(svc.url, epoch);
    assert.equal(view.state, 'accepted', epoch);
    assert.ok(view.parts.every((p) => p.state === 'accepted' || p.state === 'dup'), epoch);
  }
  const replay = await compute(svc.url, 'brownout-m:e', big);
  assert.equal(replay.status, 200, replay.text);
  assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  assert.deepEqual(replay.json.ledger, { state: 'accepted' });
  assert.equal(replay.json.quarantine, false);

  // Quarantine-only mode ends once probes have been healthy for the recovery window.
  const left = await until('egress leaves quarantine-only mode', 20_000, async () => (await metric(svc.url, 'ledger_egress_degraded')) === 0, 100);
  t.diagnostic(`left quarantine-only mode ${(drained + left).toFixed(0)} ms after the ledger came back`);
  assert.equal(await metric(svc.url, 'ledger_held_intents'), 0);
  assert.equal((await stub.admin.stats()).accepted, expected.length);
  // A fresh run now settles on the request path: 200, accepted.
  const fresh = await compute(svc.url, 'brownout-after:e', small);
  assert.equal(fresh.status, 200, fresh.text);
  assert.deepEqual(fresh.json.ledger, { state: 'accepted' });
});
