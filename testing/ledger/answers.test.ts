// Ledger answers, end to end (issue 15): the real service (memory stores) against the real ledger
// stub process answering outside SPEC §7. An HTML 200, an empty 202 or a JSON 401 must never count
// as an acknowledgement: the run is held (202), an alert metric rises, nothing is lost, and the
// part settles once the ledger answers properly. A part the ledger refuses permanently (`failed`)
// is sent again only when an operator re-drives it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/gen/generate.js';
import { call, compute, ledgerOf, seal, startService, startStub, until } from './service.js';

const LIMIT = { timeout: 60_000 };

/** The sum of ledger_unexpected_answers_total over its status classes. */
async function unexpectedAnswers(url: string): Promise<number> {
  const r = await call(url, 'GET', '/metrics');
  return r.text
    .split('\n')
    .filter((l) => l.startsWith('ledger_unexpected_answers_total{'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

for (const canned of ['html-200', 'empty-202', 'json-401'] as const) {
  test(`a ledger answering ${canned} holds the run (202), alerts, and the part settles once the ledger answers properly`, LIMIT, async (t) => {
    const stub = await startStub(t, { seed: 303, faults: { canned_answer: canned } });
    const svc = await startService(t, { LEDGER_URL: stub.url });
    const triple = await seal(svc.url, generate({ scale: 'S', seed: 7, form: 'columnar' }));

    const r = await compute(svc.url, `canned-${canned}`, triple);
    assert.equal(r.status, 202, `not an acknowledgement: ${r.text}`);
    assert.deepEqual(r.json.ledger, { state: 'held' });
    assert.ok((await unexpectedAnswers(svc.url)) >= 3, 'every unexpected answer is counted for the alert');
    assert.ok(svc.logs.some((l) => l.alert === 'LedgerUnexpectedAnswer'));
    assert.equal((await stub.admin.stats()).parts, 0, 'the ledger stored nothing');

    await stub.admin.clearFaults();
    await until('the held part settles', 20_000, async () => (await ledgerOf(svc.url, `canned-${canned}`)).state === 'accepted');
    const records = await stub.admin.parts({ epoch_id: `canned-${canned}` });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.dups, 0);
  });
}

test('a part the ledger refused (JSON 422) stays failed until an operator re-drives it, then settles once', LIMIT, async (t) => {
  const stub = await startStub(t, { seed: 304, faults: { canned_answer: 'json-422' } });
  const svc = await startService(t, { LEDGER_URL: stub.url });
  const triple = await seal(svc.url, generate({ scale: 'S', seed: 8, form: 'columnar' }));

  // Each epoch its own program: one program may not pay the same window twice (SPEC §10).
  await compute(svc.url, 'refused-1:e', triple);
  await compute(svc.url, 'refused-2:e', triple);
  for (const epoch of ['refused-1:e', 'refused-2:e']) {
    const view = await ledgerOf(svc.url, epoch);
    assert.equal(view.state, 'failed');
    assert.equal(view.parts[0]?.attempts, 1, 'a permanent refusal is not retried');
  }
  await stub.admin.clearFaults();
  // The drainer does not touch failed parts by itself.
  await new Promise((resolve) => setTimeout(resolve, 600));
  assert.equal((await ledgerOf(svc.url, 'refused-1:e')).state, 'failed');
  assert.equal((await stub.admin.stats()).parts, 0);

  const bad = await call(svc.url, 'POST', '/admin/ledger/redrive?epoch_id=%3Cscript%3E');
  assert.equal(bad.status, 400);
  assert.doesNotMatch(bad.text, /script/);

  const one = await call(svc.url, 'POST', '/admin/ledger/redrive?epoch_id=refused-1:e');
  assert.equal(one.status, 200, one.text);
  assert.deepEqual(one.json, { redriven: 1, epoch_id: 'refused-1:e' });
  await until('the re-driven part settles', 20_000, async () => (await ledgerOf(svc.url, 'refused-1:e')).state === 'accepted');
  assert.equal((await ledgerOf(svc.url, 'refused-2:e')).state, 'failed', 'only the named epoch was re-driven');

  const rest = await call(svc.url, 'POST', '/rewarder/admin/ledger/redrive');
  assert.deepEqual(rest.json, { redriven: 1 });
  await until('every re-driven part settles', 20_000, async () => (await ledgerOf(svc.url, 'refused-2:e')).state === 'accepted');
  const stats = await stub.admin.stats();
  assert.equal(stats.parts, 2);
  assert.equal(stats.accepted, 2);
  const metrics = await call(svc.url, 'GET', '/metrics');
  assert.match(metrics.text, /^ledger_redriven_parts_total 2$/m);
});
