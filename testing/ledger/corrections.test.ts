// Holds and corrections end to end (SPEC §13, issue 19): the real service (memory stores) against
// the real ledger stub process. After settlement the stub's per-actor net balances must equal the
// amounts of the chain's latest epoch, every part accepted once, and every correction the service
// produced must recompute offline (verifyCorrection) from the manifests it published.
//
// Each test uses programs of its own: one program may not pay the same window twice (SPEC §10),
// except by supersession, which is what these tests exercise.

import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type PublicKey, verifyAttestation } from '../../src/attest/attestation.js';
import { type ChainManifest, type CorrectionDocument, chainManifest, correctionParts, correctionShape, verifyCorrection } from '../../src/core/correction.js';
import { b3 } from '../../src/core/hash.js';
import type { SpawnedLedgerStub } from '../ledger-stub/client.js';
import { type Reply, type Triple, call, compute, ledgerOf, seal, startService, startStub, until } from './service.js';

const LIMIT = { timeout: 90_000 };
const WINDOW = { start_ms: 1767225600000, end_ms: 1767312000000 };
const enc = new TextEncoder();

/** An inputs document over WINDOW (or `window`) paying 1000 by `requests`. */
function inputs(events: [string, number][], window = WINDOW): Uint8Array {
  const actors = [...new Set(events.map(([a]) => a))].sort();
  return enc.encode(
    JSON.stringify({
      schema: 'rewarder.inputs/v1',
      window,
      pool_minor: '1000',
      kinds: ['requests'],
      actors,
      events: events.map(([actor, qty], i) => ({ actor, kind: 'requests', qty, ts: window.start_ms + i })),
    }),
  );
}
const POLICY = enc.encode(JSON.stringify({ schema: 'rewarder.policy/v1', id: 'corr-1', rounding: 'largest_remainder', kinds: { requests: { weight: 1 } } }));

// A → B moves money both ways: alice and dave gain, bob and carol lose (carol everything).
const A = inputs([['alice', 10], ['bob', 10], ['carol', 5]]);
const B = inputs([['alice', 20], ['bob', 5], ['dave', 5]]);
const C = inputs([['alice', 5], ['carol', 15], ['erin', 5]]);

function programsFile(programs: Record<string, { hold_ms?: number }>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-corr-'));
  const file = join(dir, 'programs.json');
  writeFileSync(file, JSON.stringify(programs));
  return file;
}

async function manifestOf(url: string, epochId: string): Promise<{ bytes: string; chain: ChainManifest }> {
  const r = await call(url, 'GET', `/epochs/${epochId}`);
  assert.equal(r.status, 200, r.text);
  const m = chainManifest(JSON.parse(r.text));
  assert.ok(typeof m !== 'string', `manifest of ${epochId}: ${String(m)}`);
  return { bytes: r.text, chain: m };
}

async function correctionOf(url: string, epochId: string): Promise<CorrectionDocument> {
  const r = await call(url, 'GET', `/epochs/${epochId}/correction`);
  assert.equal(r.status, 200, `GET /epochs/${epochId}/correction: ${r.text}`);
  assert.equal(correctionShape(r.json), null);
  assert.equal(r.headers.get('etag'), `"${r.json.correction_commitment}"`);
  return r.json as CorrectionDocument;
}

/** The stub's net balance per actor (actors at 0 left out). */
async function balances(stub: SpawnedLedgerStub, actors: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const b of await stub.admin.balances()) if (actors.includes(b.actor) && b.net_minor !== '0') out[b.actor] = b.net_minor;
  return out;
}

function amounts(m: ChainManifest): Record<string, string> {
  return Object.fromEntries(m.payouts.filter((p) => p.amount > 0n).map((p) => [p.actor, String(p.amount)]));
}

async function settled(url: string, epochId: string): Promise<void> {
  await until(`${epochId} settles`, 30_000, async () => (await ledgerOf(url, epochId)).state === 'accepted');
}

function supersede(url: string, epochId: string, triple: Triple, old: string, extra: Record<string, unknown> = {}): Promise<Reply> {
  return compute(url, epochId, triple, { supersedes: old, ...extra });
}

/** Every part the stub holds was accepted once: no dup, no conflict. */
async function eachPartOnce(stub: SpawnedLedgerStub): Promise<void> {
  for (const p of await stub.admin.parts()) {
    assert.equal(p.dups, 0, `${p.part_id} arrived again`);
    assert.equal(p.conflicts, 0, `${p.part_id} conflicted`);
  }
}

const ACTORS = ['alice', 'bob', 'carol', 'dave', 'erin'];

test('superseded within its hold, the old epoch sends nothing and the new one settles as a plain intent', LIMIT, async (t) => {
  const stub = await startStub(t, { seed: 1901 });
  // A long hold on the old epoch; the file then drops it, which moves no hold already fixed.
  const file = programsFile({ held: { hold_ms: 600_000 } });
  const svc = await startService(t, { LEDGER_URL: stub.url, PROGRAMS_FILE: file });
  const a = await seal(svc.url, { inputs: A, policy: POLICY });
  const b = await seal(svc.url, { inputs: B, policy: POLICY });

  const first = await compute(svc.url, 'held:v1', a);
  assert.equal(first.status, 202, first.text);
  assert.deepEqual(first.json.ledger, { state: 'on_hold' });
  const holdUntil = Date.parse(first.json.hold_until);
  assert.ok(holdUntil > Date.now() + 500_000, `hold_until ${first.json.hold_until} is bound_at + hold_ms`);
  const view = await ledgerOf(svc.url, 'held:v1');
  assert.equal(view.state, 'on_hold');
  assert.equal((view as unknown as { hold_until: string }).hold_until, first.json.hold_until);
  assert.deepEqual(view.parts.map((p) => p.state), ['on_hold']);
  const metrics = (await call(svc.url, 'GET', '/metrics')).text;
  assert.match(metrics, /^ledger_waiting_parts\{state="on_hold"\} 1$/m);
  const replay = await compute(svc.url, 'held:v1', a);
  assert.equal(replay.status, 202);
  assert.equal(replay.text, first.text, 'a replay answers the same bytes, hold_until included');

  writeFileSync(file, JSON.stringify({ held: {} }));
  process.kill(svc.pid, 'SIGHUP');
  await until('the programs file is reloaded', 10_000, async () => svc.logs.some((l) => l.msg === 'configuration reloaded'));
  assert.equal((await ledgerOf(svc.url, 'held:v1')).state, 'on_hold', 'the fixed hold stays');

  const next = await supersede(svc.url, 'held:v2', b, 'held:v1');
  assert.ok(next.status === 200 || next.status === 202, next.text);
  assert.equal(next.json.supersedes, 'held:v1');
  assert.equal(next.json.hold_until, undefined, 'no hold for the new epoch: the program has none now');
  await settled(svc.url, 'held:v2');
  const old = await ledgerOf(svc.url, 'held:v1');
  assert.equal(old.state, 'cancelled');
  assert.deepEqual(old.parts.map((p) => [p.state, p.attempts]), [['cancelled', 0]]);
  assert.equal((old as unknown as { superseded_by: string }).superseded_by, 'held:v2');
  assert.deepEqual(await stub.admin.parts({ epoch_id: 'held:v1' }), [], 'the old epoch sent nothing');
  const parts = await stub.admin.parts({ epoch_id: 'held:v2' });
  assert.deepEqual(parts.map((p) => p.kind), ['intent'], 'an empty basis settles as a plain §7 intent');
  assert.deepEqual(await balances(stub, ACTORS), amounts((await manifestOf(svc.url, 'held:v2')).chain));
  const none = await call(svc.url, 'GET', '/epochs/held:v2/correction');
  assert.equal(none.status, 404);
  assert.equal(none.json.error.details.reason, 'settled_plainly');
  await eachPartOnce(stub);
});

test('after settlement a correction pays only the difference, credits and debits, and a chain of three ends at the latest amounts', LIMIT, async (t) => {
  const stub = await startStub(t, { seed: 1902 });
  const svc = await startService(t, { LEDGER_URL: stub.url });
  const [a, b, c] = [await seal(svc.url, { inputs: A, policy: POLICY }), await seal(svc.url, { inputs: B, policy: POLICY }), await seal(svc.url, { inputs: C, policy: POLICY })];

  assert.equal((await compute(svc.url, 'chain:v1', a)).status, 200);
  await settled(svc.url, 'chain:v1');
  const v1 = await manifestOf(svc.url, 'chain:v1');
  assert.deepEqual(await balances(stub, ACTORS), amounts(v1.chain));

  // A preview binds nothing and cancels nothing.
  const dry = await supersede(svc.url, 'chain:v2', b, 'chain:v1', { dry_run: true });
  assert.equal(dry.status, 200, dry.text);
  assert.equal(dry.json.dry_run, true);
  assert.equal(dry.json.correction.basis_complete, true);
  assert.equal(dry.json.correction.plain, false);
  assert.deepEqual(
    dry.json.correction.entries,
    [
      { actor: 'alice', op: 'credit', amount_minor: '267' },
      { actor: 'bob', op: 'debit', amount_minor: '233' },
      { actor: 'carol', op: 'debit', amount_minor: '200' },
      { actor: 'dave', op: 'credit', amount_minor: '166' },
    ],
  );
  assert.deepEqual(dry.json.correction.totals, { credit_minor: '433', debit_minor: '433' });
  assert.equal((await call(svc.url, 'GET', '/epochs/chain:v2')).status, 404, 'a dry run binds nothing');
  assert.equal((await ledgerOf(svc.url, 'chain:v1')).state, 'accepted');

  const second = await supersede(svc.url, 'chain:v2', b, 'chain:v1');
  assert.ok(second.status === 200 || second.status === 202, second.text);
  await settled(svc.url, 'chain:v2');
  const v2 = await manifestOf(svc.url, 'chain:v2');
  const doc2 = await correctionOf(svc.url, 'chain:v2');
  assert.deepEqual(doc2.entries, dry.json.correction.entries, 'the preview was the correction');
  assert.deepEqual(doc2.supersedes, { epoch_id: 'chain:v1', commitment: v1.chain.commitment });
  assert.equal(verifyCorrection(doc2, [v1.chain, v2.chain], []), null);
  assert.deepEqual(await balances(stub, ACTORS), amounts(v2.chain));
  const corrParts = await stub.admin.parts({ epoch_id: 'chain:v2' });
  assert.deepEqual(corrParts.map((p) => [p.kind, p.entries]), [['correction', 4]]);
  assert.deepEqual(corrParts.map((p) => p.body_b3), correctionParts(doc2, v2.chain.run_key).map((p) => b3(p.body)), 'the bodies are correctionParts\' bytes');

  // A repeat replays; another successor, another window or an unknown epoch are refused.
  const again = await supersede(svc.url, 'chain:v2', b, 'chain:v1');
  assert.equal(again.status, 200);
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  // Naming another superseded epoch than the binding did is a different request, settled or not.
  const otherOld = await supersede(svc.url, 'chain:v2', b, 'chain:v0');
  assert.equal(otherOld.status, 409, otherOld.text);
  assert.equal(otherOld.json.error.code, 'CONFLICT');
  assert.deepEqual(otherOld.json.error.details.differs, ['supersedes']);
  const plainRepeat = await compute(svc.url, 'chain:v2', b);
  assert.equal(plainRepeat.status, 200, 'a plain repeat reads the superseding epoch');
  assert.equal(plainRepeat.json.supersedes, 'chain:v1');
  const twice = await supersede(svc.url, 'chain:other', b, 'chain:v1');
  assert.equal(twice.status, 409);
  assert.equal(twice.json.error.code, 'ALREADY_SUPERSEDED');
  assert.equal(twice.json.error.details.superseded_by, 'chain:v2');
  const shifted = await seal(svc.url, { inputs: inputs([['alice', 1]], { start_ms: WINDOW.start_ms, end_ms: WINDOW.end_ms + 1 }), policy: POLICY });
  const mismatch = await supersede(svc.url, 'chain:w', shifted, 'chain:v2');
  assert.equal(mismatch.status, 409);
  assert.equal(mismatch.json.error.code, 'WINDOW_MISMATCH');
  const unknown = await supersede(svc.url, 'chain:u', b, 'chain:nope');
  assert.equal(unknown.status, 404);
  const otherProgram = await supersede(svc.url, 'elsewhere:v2', b, 'chain:v2');
  assert.equal(otherProgram.status, 404, 'only an epoch of the same program can be superseded');
  const plainOverlap = await compute(svc.url, 'chain:plain', c);
  assert.equal(plainOverlap.status, 409);
  assert.equal(plainOverlap.json.error.code, 'WINDOW_OVERLAP');
  assert.equal(plainOverlap.json.error.details.epoch_id, 'chain:v2', 'the window belongs to the latest epoch of the chain');

  // The third epoch's basis is v1's plain part and v2's correction part.
  assert.equal((await supersede(svc.url, 'chain:v3', c, 'chain:v2')).status < 300, true);
  await settled(svc.url, 'chain:v3');
  const v3 = await manifestOf(svc.url, 'chain:v3');
  const doc3 = await correctionOf(svc.url, 'chain:v3');
  assert.equal(doc3.basis.length, 2);
  assert.equal(verifyCorrection(doc3, [v1.chain, v2.chain, v3.chain], [doc2]), null);
  assert.deepEqual(await balances(stub, ACTORS), amounts(v3.chain));
  assert.ok(doc3.entries.some((e) => e.op === 'debit') && doc3.entries.some((e) => e.op === 'credit'));
  await eachPartOnce(stub);
});

test('a correction whose chain was only partly acknowledged pays from what the ledger accepted', LIMIT, async (t) => {
  const stub = await startStub(t, { seed: 1903 });
  const svc = await startService(t, { LEDGER_URL: stub.url });
  const [a, b, c] = [await seal(svc.url, { inputs: A, policy: POLICY }), await seal(svc.url, { inputs: B, policy: POLICY }), await seal(svc.url, { inputs: C, policy: POLICY })];

  assert.equal((await compute(svc.url, 'part:v1', a)).status, 200);
  await settled(svc.url, 'part:v1');
  // The ledger refuses v2's correction part for good: the chain v1 → v2 has one part of two acknowledged.
  await stub.admin.setFaults({ canned_answer: 'json-422' });
  const second = await supersede(svc.url, 'part:v2', b, 'part:v1');
  assert.ok(second.status < 300, second.text);
  await until('v2 fails', 30_000, async () => (await ledgerOf(svc.url, 'part:v2')).state === 'failed');
  await stub.admin.clearFaults();
  const doc2 = await correctionOf(svc.url, 'part:v2');

  assert.ok((await supersede(svc.url, 'part:v3', c, 'part:v2')).status < 300);
  await settled(svc.url, 'part:v3');
  const [v1, v2, v3] = [await manifestOf(svc.url, 'part:v1'), await manifestOf(svc.url, 'part:v2'), await manifestOf(svc.url, 'part:v3')];
  const doc3 = await correctionOf(svc.url, 'part:v3');
  assert.equal(doc3.basis.length, 1, 'only v1\'s part was acknowledged');
  assert.equal(verifyCorrection(doc3, [v1.chain, v2.chain, v3.chain], [doc2]), null);
  assert.deepEqual(await balances(stub, ACTORS), amounts(v3.chain), 'the ledger ends at v3\'s amounts');
  // The failed correction part of v2 is final and superseded: it never reaches the ledger.
  assert.deepEqual(await stub.admin.parts({ epoch_id: 'part:v2' }), []);
  await eachPartOnce(stub);
});

test('with signing on, a correction is signed over rewarder.correction.v1 and the ledger gets correctionParts\' bytes with that attestation', LIMIT, async (t) => {
  const stub = await startStub(t, { seed: 1904 });
  const svc = await startService(t, { LEDGER_URL: stub.url, REQUIRE_PQ_ON: 'true' });
  const [a, b] = [await seal(svc.url, { inputs: A, policy: POLICY }), await seal(svc.url, { inputs: B, policy: POLICY })];
  assert.equal((await compute(svc.url, 'signed:v1', a)).status, 200);
  await settled(svc.url, 'signed:v1');
  assert.ok((await supersede(svc.url, 'signed:v2', b, 'signed:v1')).status < 300);
  await settled(svc.url, 'signed:v2');
  const doc = await correctionOf(svc.url, 'signed:v2');
  const att = await call(svc.url, 'GET', '/epochs/signed:v2/correction/attestation');
  assert.equal(att.status, 200, att.text);
  const keys = (await call(svc.url, 'GET', '/keys')).json.keys.map(
    (k: { alg: string; key_id: string; public_key: string }): PublicKey => ({ alg: k.alg, keyId: k.key_id, publicKey: new Uint8Array(Buffer.from(k.public_key, 'base64')) }) as PublicKey,
  );
  assert.equal(verifyAttestation(att.json, doc.correction_commitment, keys, 'rewarder.correction.v1').ok, true);
  assert.equal(verifyAttestation(att.json, doc.correction_commitment, keys).ok, false, 'not valid as a manifest attestation: the domains are apart');
  // The ledger received exactly correctionParts' bytes with that attestation.
  const v2 = await manifestOf(svc.url, 'signed:v2');
  const sent = await stub.admin.parts({ epoch_id: 'signed:v2' });
  assert.deepEqual(sent.map((p) => p.body_b3), correctionParts(doc, v2.chain.run_key, att.json).map((p) => b3(p.body)));
  const plain = await call(svc.url, 'GET', '/epochs/signed:v1/correction/attestation');
  assert.equal(plain.status, 404);
  assert.deepEqual(await balances(stub, ACTORS), amounts((await manifestOf(svc.url, 'signed:v2')).chain));
});
