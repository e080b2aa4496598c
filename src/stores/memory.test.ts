import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record as recordOf, runStoreContract } from './contract.js';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppError } from '../errors.js';
import { MemoryStores } from './memory.js';
import { ManifestSpill } from './spill.js';
import { type InputsFile, InputsSpool } from './inputs-file.js';
import { inputsBytes } from './types.js';

runStoreContract('memory', async (now) => new MemoryStores(64 * 1024 * 1024, now), async () => {});

test('a settled part gives its body back to the byte budget, and only unsettled parts are claimed', async () => {
  const part = (i: number) => ({ partId: `p${i}`, epochId: 'e1', runKey: 'k', index: i, count: 2, body: new Uint8Array(600) });
  const record = recordOf('e1', { manifest: new Uint8Array(100) });
  // Room for the manifest and both bodies, not for a second copy of one body.
  const s = new MemoryStores(100 + 1200 + 500);
  await s.publish(record, [part(0), part(1)], 'pending');
  const by = { tenant: 'acme', quotaBytes: null };
  await assert.rejects(s.putPolicy({ hash: 'x', id: 'x', bytes: new Uint8Array(600) }, by), /full/);
  await s.settlePart('p0', 'me', 'accepted', 1, null);
  await s.putPolicy({ hash: 'x', id: 'x', bytes: new Uint8Array(600) }, by);
  assert.deepEqual((await s.claimParts('me', 10, 1000, ['pending'])).map((p) => p.partId), ['p1']);
  assert.deepEqual((await s.partsOf('e1')).map((p) => [p.partId, p.state]), [['p0', 'accepted'], ['p1', 'pending']]);
});

const rec = (epochId: string, size: number, inputsCid = 'c', policyHash = 'h') =>
  recordOf(epochId, { inputsCid, policyHash, policyId: 'p', runKey: `k-${epochId}`, commitment: `m-${epochId}`, manifest: new Uint8Array(size) });
const ACME = { tenant: 'acme', quotaBytes: null };
const doc = (cid: string, size: number) => ({ cid, bytes: new Uint8Array(size), actors: 1, events: 1, window: null, poolMinor: null });
const partOf = (epochId: string) => ({ partId: `p-${epochId}`, epochId, runKey: 'k', index: 0, count: 1, body: new Uint8Array(10) });

test('over its budget the store evicts settled manifests oldest first, keeps every binding, and never an unsettled run', async () => {
  const s = new MemoryStores(1000);
  const evicted: string[] = [];
  s.onEvict = (k) => evicted.push(k);
  await s.publish(rec('e1', 300), [partOf('e1')], 'held'); // unsettled: pinned
  await s.publish(rec('e2', 300), [], 'pending'); // settled (no parts)
  await s.publish(rec('e3', 300), [], 'pending');
  await s.publish(rec('e4', 300), [], 'pending'); // does not fit: e2 goes
  assert.deepEqual(evicted, ['manifest']);
  const e2 = await s.getEpoch('e2');
  assert.equal(e2?.evicted, true);
  assert.equal(e2?.manifest.length, 0);
  assert.equal(e2?.inputsCid, 'c', 'the binding is kept');
  assert.equal((await s.getEpoch('e1'))?.evicted, undefined);
  assert.equal((await s.getEpoch('e3'))?.evicted, undefined);
  assert.deepEqual(s.fill(), { bytes: 910, maxBytes: 1000, pinnedBytes: 310 });
});

test('documents go only when no unsettled run needs them, and a store full of unsettled runs refuses (store_full)', async () => {
  const s = new MemoryStores(1000);
  await s.putInputs(doc('needed', 300), ACME);
  await s.putInputs(doc('free', 300), { tenant: 'globex', quotaBytes: null });
  await s.putInputs(doc('free', 300), ACME);
  await s.publish(rec('e1', 300, 'needed'), [partOf('e1')], 'pending');
  await s.putPolicy({ hash: 'x', id: 'x', bytes: new Uint8Array(200) }, ACME);
  assert.equal(await s.getInputs('free', 'acme'), null, 'the unneeded document made room');
  assert.notEqual(await s.getInputs('needed', 'acme'), null);
  // An evicted document has no owners left: its bytes no longer count against their quotas.
  assert.equal(await s.owns('inputs', 'free', 'globex'), false);
  assert.deepEqual(await s.tenantUsage(), new Map([['acme', 500]]));
  await assert.rejects(s.putPolicy({ hash: 'y', id: 'y', bytes: new Uint8Array(400) }, ACME), (e: unknown) => e instanceof AppError && e.details.reason === 'store_full');
  await s.settlePart('p-e1', 'me', 'accepted', 1, null);
  // Settled: its manifest (and then its documents) may go.
  await s.putPolicy({ hash: 'z', id: 'z', bytes: new Uint8Array(500) }, ACME);
  assert.equal((await s.getEpoch('e1'))?.evicted, true);
  // Sealing evicted bytes again stores and owns them anew.
  assert.equal(await s.putInputs(doc('free', 300), { tenant: 'globex', quotaBytes: null }), true);
});

test('with a spill, an evicted manifest is read back byte for byte; pushed out of the spill, it is evicted for real', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-spill-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = new MemoryStores(1000, Date.now, new ManifestSpill(join(dir, 'spill'), 700));
  const bytes = (epochId: string) => new TextEncoder().encode(epochId.repeat(200).slice(0, 300));
  for (const e of ['e1', 'e2', 'e3', 'e4']) await s.publish({ ...rec(e, 0), manifest: bytes(e) }, [], 'pending');
  // e1 went to the spill: read back exactly, not marked evicted.
  const e1 = await s.getEpoch('e1');
  assert.equal(e1?.evicted, false);
  assert.deepEqual(e1?.manifest, bytes('e1'));
  assert.equal(s.spilledBytes, 300);
  for (const e of ['e5', 'e6']) await s.publish({ ...rec(e, 0), manifest: bytes(e) }, [], 'pending');
  // The spill holds two of 300 bytes: e1 was pushed out of it by e3.
  assert.equal((await s.getEpoch('e1'))?.evicted, true);
  assert.deepEqual((await s.getEpoch('e3'))?.manifest, bytes('e3'));
  assert.equal(s.spilledBytes, 600);
  assert.equal(readdirSync(join(dir, 'spill')).length, 2, 'files named by hash, the pushed-out one removed');
});

test('a superseding epoch awaiting its basis, and the chain it replaces, are pinned until its basis is fixed and its parts settle (SPEC §13)', async () => {
  const s = new MemoryStores(1000);
  const w = { startMs: 0, endMs: 10 };
  await s.publish({ ...rec('p:a', 300), program: 'p', window: w }, [], 'pending'); // settled, but the chain of p:b
  await s.publish({ ...rec('p:b', 300), program: 'p', window: w, supersedes: 'p:a', basis: 'awaiting' }, [], 'awaiting_basis');
  assert.equal(s.fill().pinnedBytes, 600, 'p:b awaits its basis, which reads p:a');
  await s.publish(rec('e3', 300), [], 'pending');
  await s.publish(rec('e4', 300), [], 'pending'); // does not fit: e3 goes, neither p:a nor p:b
  assert.equal((await s.getEpoch('e3'))?.evicted, true);
  assert.equal((await s.getEpoch('p:a'))?.evicted, undefined);
  assert.equal((await s.getEpoch('p:b'))?.evicted, undefined);
  assert.equal(await s.fixBasis('p:b', { document: null, attestation: null, parts: [partOf('p:b')] }), true);
  assert.equal(s.fill().pinnedBytes, 310, 'fixed: p:a is free, p:b is pinned by its unsettled part');
  await s.claimParts('o', 1, 1000, ['pending']);
  await s.settlePart('p-p:b', 'o', 'accepted', 1, null);
  assert.equal(s.fill().pinnedBytes, 0, 'settled: p:b is evictable like any settled run');
});

test('a chain superseded again passes its pins to the new successor', async () => {
  const s = new MemoryStores(10_000);
  const w = { startMs: 0, endMs: 10 };
  await s.publish({ ...rec('p:a', 300), program: 'p', window: w }, [], 'pending');
  await s.publish({ ...rec('p:b', 300), program: 'p', window: w, supersedes: 'p:a', basis: 'awaiting' }, [], 'awaiting_basis');
  await s.publish({ ...rec('p:c', 300), program: 'p', window: w, supersedes: 'p:b', basis: 'awaiting' }, [], 'awaiting_basis');
  assert.equal(s.fill().pinnedBytes, 900, 'p:c awaits, reading p:b and p:a');
  assert.equal(await s.fixBasis('p:c', { document: null, attestation: null, parts: [] }), true);
  assert.equal(s.fill().pinnedBytes, 0);
});

test('a spooled document is kept as its file: counted by its size, its file removed on eviction (after its readers) and at close', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = new InputsSpool(join(dir, 'inputs'));
  const spooled = (fill: number, size: number): InputsFile => {
    const w = spool.create();
    w.write(new Uint8Array(size).fill(fill));
    return w.finish();
  };
  const files = () => readdirSync(join(dir, 'inputs')).length;
  const s = new MemoryStores(1000);
  const a = spooled(1, 600);
  assert.equal(await s.putInputs({ ...doc('a', 0), file: a }, ACME), true);
  assert.equal(a.kept, true);
  assert.deepEqual(s.fill(), { bytes: 600, maxBytes: 1000, pinnedBytes: 0 });
  assert.equal(spool.bytes, 600);
  // The same CID again (identical bytes): the store keeps its own file; the new one is not taken.
  const again = spooled(1, 600);
  assert.equal(await s.putInputs({ ...doc('a', 0), file: again }, { tenant: 'other', quotaBytes: null }), true);
  assert.equal(again.kept, false);
  again.remove();
  assert.equal(files(), 1);
  const held = await s.getInputs('a', 'acme');
  assert.ok(held?.file !== undefined);
  assert.deepEqual(await inputsBytes(held), new Uint8Array(600).fill(1));
  // A reader holds the file: evicted meanwhile, it goes once the reader is done.
  const reading = held.file.stream();
  await s.putInputs({ ...doc('b', 0), file: spooled(2, 600) }, ACME);
  assert.equal(await s.getInputs('a', 'acme'), null);
  assert.equal(files(), 2);
  let n = 0;
  for await (const chunk of reading) n += (chunk as Buffer).length;
  assert.equal(n, 600);
  await new Promise((r) => setImmediate(r));
  assert.equal(files(), 1);
  assert.equal(spool.bytes, 600);
  await s.close();
  assert.equal(files(), 0);
  assert.equal(spool.bytes, 0);
});

test('a spool writer discarded (a body refused or cut) leaves no file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rewarder-spool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = new InputsSpool(dir);
  const w = spool.create();
  w.write(new Uint8Array(100));
  assert.equal(readdirSync(dir).length, 1);
  w.discard();
  assert.equal(readdirSync(dir).length, 0);
  assert.equal(spool.bytes, 0);
});
