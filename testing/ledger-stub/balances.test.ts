// The stub ledger as the end state of a correction chain (SPEC §13): plain parts credit, correction
// parts credit and debit, and GET /admin/balances shows each actor's net.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ChainManifest, type CorrectionDocument, buildCorrection, chainManifest, correctionBasisParts, correctionParts, plainParts } from '../../src/core/correction.js';
import { intentParts } from '../../src/core/intents.js';
import type { ManifestHead } from '../../src/core/manifest.js';
import { testManifest } from '../corrections.js';
import { Balances } from './balances.js';
import { startLedgerStub } from './server.js';

function chain(epochId: string, payouts: readonly (readonly [string, number])[]): { m: ChainManifest; bodies: { id: string; body: Uint8Array }[] } {
  const m = chainManifest(testManifest(epochId, payouts));
  if (typeof m === 'string') assert.fail(m);
  const head = { run_key: m.run_key, epoch_id: m.epoch_id, commitment: m.commitment, payouts_root: `b3:${'d'.repeat(64)}` } as ManifestHead;
  const credits = payouts.map(([actor, amount]) => ({ actor, amount_minor: `${amount}` }));
  return { m, bodies: intentParts(head, credits).map((p) => ({ id: p.partId, body: p.body })) };
}

async function post(url: string, id: string, body: Uint8Array | string): Promise<{ status: number; result: unknown }> {
  const res = await fetch(`${url}/v1/intents`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': id }, body });
  return { status: res.status, result: await res.json() };
}

test('after an epoch and two corrections, each actor nets the latest amounts; bad correction parts are refused', { timeout: 30_000 }, async (t) => {
  const stub = await startLedgerStub({ seed: 1 });
  t.after(() => stub.close());
  const balances = async (actor?: string) => {
    const res = await fetch(`${stub.url}/admin/balances${actor === undefined ? '' : `?actor=${encodeURIComponent(actor)}`}`);
    assert.equal(res.status, 200);
    return ((await res.json()) as { actor: string; net_minor: string }[]).map((b) => `${b.actor}=${b.net_minor}`);
  };

  const e1 = chain('e1', [['bob', 400], ['alice', 360], ['erin', 167]]);
  for (const p of e1.bodies) assert.equal((await post(stub.url, p.id, p.body)).status, 201);
  assert.deepEqual(await balances(), ['alice=360', 'bob=400', 'erin=167']);

  const e2 = chain('e2', [['alice', 400], ['bob', 390], ['frank', 25]]);
  const c2 = buildCorrection(e2.m, { epoch_id: 'e1', commitment: e1.m.commitment }, plainParts(e1.m)) as CorrectionDocument;
  const [p2] = correctionParts(c2, e2.m.run_key);
  assert.ok(p2 !== undefined);
  assert.deepEqual(await post(stub.url, p2.partId, p2.body), { status: 201, result: { result: 'accepted' } });
  // A resend is a dup and moves nothing.
  assert.deepEqual(await post(stub.url, p2.partId, p2.body), { status: 200, result: { result: 'dup' } });
  assert.deepEqual(await balances(), ['alice=400', 'bob=390', 'erin=0', 'frank=25']);

  const e3 = chain('e3', [['alice', 10], ['erin', 5]]);
  const basis = [...plainParts(e1.m), ...correctionBasisParts(e2.m.run_key, c2.entries)];
  const c3 = buildCorrection(e3.m, { epoch_id: 'e2', commitment: e2.m.commitment }, basis) as CorrectionDocument;
  assert.ok(c3.entries.some((e) => e.op === 'debit') && c3.entries.some((e) => e.op === 'credit'));
  for (const p of correctionParts(c3, e3.m.run_key)) assert.equal((await post(stub.url, p.partId, p.body)).status, 201);
  assert.deepEqual(await balances(), ['alice=10', 'bob=0', 'erin=5', 'frank=0']);
  assert.deepEqual(await balances('erin'), ['erin=5']);
  assert.deepEqual(await balances('nobody'), []);

  const parts = stub.parts();
  assert.deepEqual(parts.map((p) => [p.kind, p.entries, p.credits]), [['intent', 0, 3], ['correction', 4, 0], ['correction', 4, 0]]);

  // Entries that are not credit/debit of money, and kinds the ledger does not know, are 400 and move nothing.
  const bad = (kind: string, entries: unknown) => JSON.stringify({ part_id: 'p-bad', kind, entries });
  assert.deepEqual(await post(stub.url, 'p-bad', bad('correction', [{ actor: 'alice', op: 'steal', amount_minor: '5' }])), { status: 400, result: { result: 'error', reason: 'bad_entries' } });
  assert.deepEqual(await post(stub.url, 'p-bad', bad('correction', [{ actor: 'alice', op: 'debit', amount_minor: '-5' }])), { status: 400, result: { result: 'error', reason: 'bad_entries' } });
  assert.deepEqual(await post(stub.url, 'p-bad', bad('refund', [])), { status: 400, result: { result: 'error', reason: 'unknown_kind' } });
  // An actor named "kind" is no kind member.
  assert.equal((await post(stub.url, 'p-kind', JSON.stringify({ part_id: 'p-kind', credits: [{ actor: 'kind', amount_minor: '1' }] }))).status, 201);
  assert.deepEqual(await balances(), ['alice=10', 'bob=0', 'erin=5', 'frank=0', 'kind=1']);

  stub.reset();
  assert.deepEqual(await balances(), []);
});

test('balances folded early (past the pending-bytes bound) equal balances folded when read', () => {
  const bodies = [
    { part_id: 'p1', credits: [{ actor: 'a', amount_minor: '5' }, { actor: 'b', amount_minor: '7' }] },
    { part_id: 'p2', kind: 'correction', entries: [{ actor: 'a', op: 'debit', amount_minor: '5' }, { actor: 'c', op: 'credit', amount_minor: '1' }] },
  ].map((b) => Buffer.from(JSON.stringify(b)));
  const lazy = new Balances();
  const eager = new Balances(1);
  for (const b of bodies) {
    lazy.record(b);
    eager.record(b);
    // The caller reuses its buffer: what was recorded must not change with it.
    b.fill(0x20);
  }
  assert.deepEqual(eager.list(), [{ actor: 'a', net_minor: '0' }, { actor: 'b', net_minor: '7' }, { actor: 'c', net_minor: '1' }]);
  assert.deepEqual(lazy.list(), eager.list());
});
