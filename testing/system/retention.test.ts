// Retention of the micronode's memory store through the real HTTP path: settled runs' manifests
// are evicted oldest first under MEMORY_STORE_MAX_BYTES and recomputed on read (byte-identical),
// bindings are kept (a replay replays, a conflicting triple is still 409), documents go after
// manifests and then an evicted run answers 410 Gone; new epochs are never refused meanwhile.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/gen/generate.js';
import { record } from '../../src/stores/contract.js';
import { assertErrorEnvelope, get, metricValue, metrics, post, put, startInProcess, tempDir } from '../harness.js';

const LIMIT = { timeout: 120_000 };

test('settled manifests are evicted oldest first and recomputed byte-identical; bindings stay; without documents it is 410', LIMIT, async () => {
  const s = await startInProcess({ AUTH: 'off', MEMORY_STORE_MAX_BYTES: String(1024 * 1024), INPUTS_CACHE_MAX_BYTES: '0' });
  try {
    const g = generate({ scale: 'S', seed: 5, form: 'columnar' });
    const sealed = await put(s.url, '/inputs', g.inputs);
    assert.equal(sealed.status, 201, sealed.text);
    const inputsCid = sealed.json<{ inputs_cid: string }>().inputs_cid;
    // A multi-chunk upload goes to the sealing worker and comes back without a copy: stored exact.
    assert.equal(sealed.json<{ bytes: number }>().bytes, g.inputs.length);
    assert.ok(Buffer.compare((await get(s.url, `/inputs/${inputsCid}`)).body, Buffer.from(g.inputs)) === 0, 'the stored bytes are the upload');
    const pol = (await put(s.url, '/policies', g.policy)).json<{ policy_id: string; policy_hash: string }>();
    const other = JSON.parse(new TextDecoder().decode(g.policy)) as { id: string };
    other.id = 'retention-other';
    const otherPol = (await put(s.url, '/policies', JSON.stringify(other))).json<{ policy_id: string; policy_hash: string }>();
    const triple = { inputs_cid: inputsCid, ...pol };

    // Far more runs than the budget holds: none is refused. Each epoch its own program: one
    // program may not pay the same window twice (SPEC §10).
    for (let i = 0; i < 20; i++) {
      const r = await post(s.url, `/epochs/ret-${i}:e/compute`, triple);
      assert.equal(r.status, 200, `epoch ${i}: ${r.text}`);
      if (i === 0) {
        const first = await get(s.url, '/epochs/ret-0:e');
        assert.equal(first.status, 200);
        (s as unknown as { first: Buffer }).first = first.body;
      }
    }
    const firstBytes = (s as unknown as { first: Buffer }).first;
    let m = await metrics(s.url);
    assert.ok(metricValue(m, 'store_evictions_total', { kind: 'manifest' }) > 0, 'manifests were evicted');
    assert.ok(metricValue(m, 'store_bytes') <= 1024 * 1024);
    assert.equal(metricValue(m, 'store_max_bytes'), 1024 * 1024);
    assert.equal(metricValue(m, 'rejected_total', { reason: 'store_full' }), 0);

    // The oldest run was evicted: read again, it is recomputed to the same bytes.
    const again = await get(s.url, '/epochs/ret-0:e');
    assert.equal(again.status, 200, again.text);
    assert.ok(Buffer.compare(again.body, firstBytes) === 0, 'byte-identical after eviction');
    const proof = await get(s.url, `/epochs/ret-0:e/payouts/${encodeURIComponent(JSON.parse(firstBytes.toString()).payouts[0].actor)}`);
    assert.equal(proof.status, 200, proof.text);
    // The binding is kept: the same triple replays, another is a conflict.
    const replay = await post(s.url, '/epochs/ret-0:e/compute', triple);
    assert.equal(replay.status, 200, replay.text);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    const conflict = await post(s.url, '/epochs/ret-0:e/compute', { inputs_cid: inputsCid, ...otherPol });
    assertErrorEnvelope(conflict, { status: 409, code: 'CONFLICT', reason: 'epoch_bound' });

    // New documents push out the old ones once no manifest is left to evict.
    for (const seed of [6, 7, 8, 9]) {
      const r = await put(s.url, '/inputs', generate({ scale: 'S', seed, form: 'columnar' }).inputs);
      assert.equal(r.status, 201, `inputs ${seed}: ${r.text}`);
    }
    m = await metrics(s.url);
    assert.ok(metricValue(m, 'store_evictions_total', { kind: 'inputs' }) > 0, 'documents were evicted');
    assert.equal((await get(s.url, `/inputs/${inputsCid}`)).status, 404);
    const gone = await get(s.url, '/epochs/ret-1:e');
    const d = assertErrorEnvelope(gone, { status: 410, code: 'GONE', reason: 'evicted' });
    assert.deepEqual(d.missing, ['inputs']);
    const stillBound = await post(s.url, '/epochs/ret-1:e/compute', { inputs_cid: inputsCid, ...otherPol });
    assertErrorEnvelope(stillBound, { status: 409, code: 'CONFLICT', reason: 'epoch_bound' });
    assert.equal((await get(s.url, '/readyz')).status, 200, 'nothing pinned: ready');
  } finally {
    await s.close();
  }
});

test('/readyz is degraded (store_nearly_full) once unsettled runs pin most of the store, before anything is refused', LIMIT, async () => {
  const s = await startInProcess({ AUTH: 'off', MEMORY_STORE_MAX_BYTES: String(1024 * 1024) });
  try {
    assert.equal((await get(s.url, '/readyz')).status, 200);
    // A run whose ledger parts are held pins its manifest (published straight into the store).
    const part = { partId: 'p-pin', epochId: 'pinned', runKey: 'k', index: 0, count: 1, body: new Uint8Array(10) };
    await s.rt.stores.publish(
      record('pinned', { inputsCid: 'c', policyHash: 'h', policyId: 'p', runKey: 'k', commitment: 'm', manifest: new Uint8Array(960 * 1024) }),
      [part],
      'held',
    );
    const ready = await get(s.url, '/readyz');
    assert.equal(ready.status, 503);
    assert.ok(ready.json<{ causes: string[] }>().causes.includes('store_nearly_full'), ready.text);
    assert.ok(metricValue(await metrics(s.url), 'store_pinned_bytes') >= 960 * 1024);
    assert.equal(metricValue(await metrics(s.url), 'rejected_total', { reason: 'store_full' }), 0, 'degraded before any refusal');
    // Nothing evictable is left: a new document is refused, and counted once.
    const refused = await put(s.url, '/inputs', generate({ scale: 'S', seed: 3, form: 'columnar' }).inputs);
    assertErrorEnvelope(refused, { status: 503, code: 'UNAVAILABLE', reason: 'store_full' });
    assert.equal(metricValue(await metrics(s.url), 'rejected_total', { reason: 'store_full' }), 1);
  } finally {
    await s.close();
  }
});

test('a micronode spills evicted manifests to its amnesia tmpfs and serves them from there, without recomputing', LIMIT, async () => {
  const tmp = tempDir('rewarder-amnesia-');
  const s = await startInProcess({ AUTH: 'off', MEMORY_STORE_MAX_BYTES: String(1024 * 1024), SPILL_MAX_BYTES: String(4 * 1024 * 1024), AMNESIA_DIR: tmp.dir });
  try {
    const g = generate({ scale: 'S', seed: 5, form: 'columnar' });
    const inputsCid = (await put(s.url, '/inputs', g.inputs)).json<{ inputs_cid: string }>().inputs_cid;
    const pol = (await put(s.url, '/policies', g.policy)).json<{ policy_id: string; policy_hash: string }>();
    let first: Buffer | undefined;
    // One program per epoch: the same usage window is paid at most once per program (SPEC §10).
    for (let i = 0; i < 20; i++) {
      assert.equal((await post(s.url, `/epochs/sp-${i}:e/compute`, { inputs_cid: inputsCid, ...pol })).status, 200);
      if (i === 0) first = (await get(s.url, '/epochs/sp-0:e')).body;
    }
    const before = await metrics(s.url);
    assert.ok(metricValue(before, 'store_evictions_total', { kind: 'manifest' }) > 0);
    assert.ok(metricValue(before, 'store_spilled_bytes') > 0);
    const again = await get(s.url, '/epochs/sp-0:e');
    assert.equal(again.status, 200);
    assert.ok(first !== undefined && Buffer.compare(again.body, first) === 0, 'byte-identical from the spill');
    const after = await metrics(s.url);
    assert.equal(
      metricValue(after, 'reward_compute_latency_seconds_count'),
      metricValue(before, 'reward_compute_latency_seconds_count'),
      'read back, not recomputed',
    );
  } finally {
    await s.close();
    tmp.remove();
  }
});
