// PUT /inputs with an Arrow IPC stream (SPEC §2.1), as a client meets it: sealed under the CID of
// its exact bytes, read back as the same stream, computed to the same payouts as the JSON form,
// and every bad body a 4xx with the SPEC envelope; and the SPEC §12 exports of an epoch. One real
// server on loopback (AUTH=off).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { StandardMerkleTree } from '@openzeppelin/merkle-tree';
import { encodeArrowInputs } from '../../src/core/arrow/write.js';
import { b3 } from '../../src/core/hash.js';
import { decodeInputs } from '../../src/core/inputs.js';
import { EXAMPLE, type SpawnedServer, assertErrorEnvelope, get, post, put, spawnServer } from '../harness.js';

const ARROW = { 'content-type': 'application/vnd.apache.arrow.stream' };
const CAP = 64 * 1024;
const LIMIT = { timeout: 60_000 };
let server: SpawnedServer | undefined;
let url: string;

const example = (() => {
  const r = decodeInputs(readFileSync(EXAMPLE.inputs));
  assert.ok(r.ok);
  return r.value;
})();
const stream = encodeArrowInputs(example);

before(async () => {
  server = await spawnServer({ AUTH: 'off', INPUTS_ARROW_MAX_BYTES: String(CAP) });
  url = server.url;
});
after(async () => {
  await server?.stop();
});

test('an Arrow stream is sealed under the CID of its bytes and served back as the same stream', LIMIT, async () => {
  const cid = b3(stream);
  const first = await put(url, '/inputs', stream, ARROW);
  assert.equal(first.status, 201, first.text);
  assert.deepEqual(first.json(), { inputs_cid: cid, bytes: stream.length, actors: 5, events: 8 });
  const again = await put(url, '/rewarder/inputs', stream, ARROW);
  assert.equal(again.status, 200, again.text);
  const back = await get(url, `/inputs/${cid}`);
  assert.equal(back.status, 200);
  assert.equal(back.headers['content-type'], 'application/vnd.apache.arrow.stream');
  assert.deepEqual(new Uint8Array(back.body), stream);
  assert.equal(back.headers.etag, `"${cid}"`);
  // gzip on the wire, the same stream sealed.
  const zipped = await put(url, '/inputs', gzipSync(stream), { ...ARROW, 'content-encoding': 'gzip' });
  assert.equal(zipped.status, 200, zipped.text);
  assert.equal(zipped.json().inputs_cid, cid);
});

test('computing from the Arrow form pays exactly what the JSON form pays', LIMIT, async () => {
  const cid = b3(stream);
  await put(url, '/inputs', stream, ARROW);
  const pol = await put(url, '/policies', readFileSync(EXAMPLE.policy));
  assert.ok(pol.status === 201 || pol.status === 200, pol.text);
  const res = await post(url, '/epochs/arrowpay:2026-01-01/compute', { inputs_cid: cid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash });
  assert.equal(res.status, 200, res.text);
  const m = await get(url, '/epochs/arrowpay:2026-01-01');
  const manifest = m.json<{ inputs_cid: string; payouts_root: string; totals: { payout_minor: string }; payouts: unknown[] }>();
  const golden = JSON.parse(readFileSync(EXAMPLE.manifest, 'utf8')) as typeof manifest;
  assert.equal(manifest.inputs_cid, cid);
  assert.equal(manifest.payouts_root, EXAMPLE.payoutsRoot);
  assert.deepEqual(manifest.payouts, golden.payouts);
  assert.equal(manifest.totals.payout_minor, '927');
});

test('every bad Arrow body is a 4xx with the SPEC envelope and a one-line reason', LIMIT, async () => {
  const cut = await put(url, '/inputs', stream.subarray(0, stream.length - 8), ARROW);
  const e = assertErrorEnvelope(cut, { status: 400, code: 'BAD_REQUEST', reason: 'invalid_document' });
  assert.equal(e.problem, 'truncated stream (no end-of-stream marker)');
  const trailing = await put(url, '/inputs', Buffer.concat([stream, Buffer.from([0])]), ARROW);
  assert.equal(assertErrorEnvelope(trailing, { status: 400, code: 'BAD_REQUEST', reason: 'invalid_document' }).problem, 'trailing bytes after the end-of-stream marker');
  // The media type must say what the body is.
  const json = await put(url, '/inputs', readFileSync(EXAMPLE.inputs), ARROW);
  assert.match(String(assertErrorEnvelope(json, { status: 400, code: 'BAD_REQUEST', reason: 'invalid_document' }).problem), /not an Arrow IPC stream/);
  const mislabelled = await put(url, '/inputs', stream);
  assert.match(String(assertErrorEnvelope(mislabelled, { status: 400, code: 'BAD_REQUEST', reason: 'invalid_document' }).problem), /must be sent as application\/vnd\.apache\.arrow\.stream/);
  const other = await put(url, '/inputs', stream, { 'content-type': 'application/octet-stream' });
  assertErrorEnvelope(other, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason: 'unsupported_media_type' });
  // Arrow is for inputs only.
  const policy = await put(url, '/policies', stream, ARROW);
  assertErrorEnvelope(policy, { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE', reason: 'unsupported_media_type' });
  // Its own cap: over INPUTS_ARROW_MAX_BYTES is a 413, though the JSON cap is far larger.
  const big = await put(url, '/inputs', new Uint8Array(CAP + 1).fill(0xff), ARROW);
  assertErrorEnvelope(big, { status: 413, code: 'PAYLOAD_TOO_LARGE' });
  const version = await get(url, '/version');
  assert.equal(version.json<{ limits: { inputs_arrow_max_bytes: number } }>().limits.inputs_arrow_max_bytes, CAP);
});

// ---- SPEC §12 exports over HTTP ----------------------------------------------------------------

test('GET /epochs/{id}/export.csv and /claims export the epoch: CSV lines and OpenZeppelin\'s own tree', LIMIT, async () => {
  const cid = b3(stream);
  await put(url, '/inputs', stream, ARROW);
  await put(url, '/policies', readFileSync(EXAMPLE.policy));
  const bound = await post(url, '/epochs/exportone:1/compute', { inputs_cid: cid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash });
  assert.equal(bound.status, 200, bound.text);
  const csv = await get(url, '/rewarder/epochs/exportone:1/export.csv');
  assert.equal(csv.status, 200, csv.text);
  assert.match(String(csv.headers['content-type']), /^text\/csv/);
  assert.equal(csv.text, 'actor,amount_minor,score\ndid:ron:alice,360,1864\ndid:ron:bob,400,2432\ndid:ron:erin,167,864\n');
  const claims = await get(url, '/epochs/exportone:1/claims');
  assert.equal(claims.status, 200, claims.text);
  const tree = StandardMerkleTree.load(claims.json() as never);
  const values = [
    ['did:ron:alice', '360'],
    ['did:ron:bob', '400'],
    ['did:ron:erin', '167'],
  ];
  assert.equal(tree.root, StandardMerkleTree.of(values, ['string', 'uint256']).root);
  for (const [i, v] of tree.entries()) assert.ok(StandardMerkleTree.verify(tree.root, ['string', 'uint256'], v, tree.getProof(i)));
});

test('exports of an unknown epoch are 404; an epoch without payees has a header-only CSV and no claim tree', LIMIT, async () => {
  assertErrorEnvelope(await get(url, '/epochs/nobody/export.csv'), { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch' });
  assertErrorEnvelope(await get(url, '/epochs/nobody/claims'), { status: 404, code: 'NOT_FOUND', reason: 'unknown_epoch' });
  assertErrorEnvelope(await get(url, '/epochs/bad%20id/claims'), { status: 400, code: 'BAD_REQUEST', reason: 'invalid_path' });
  const empty = encodeArrowInputs({ ...example, poolMinor: 0n });
  const sealed = await put(url, '/inputs', empty, ARROW);
  assert.equal(sealed.status, 201, sealed.text);
  await put(url, '/policies', readFileSync(EXAMPLE.policy));
  const bound = await post(url, '/epochs/exportempty:1/compute', { inputs_cid: b3(empty), policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash });
  assert.equal(bound.status, 200, bound.text);
  const csv = await get(url, '/epochs/exportempty:1/export.csv');
  assert.equal(csv.text, 'actor,amount_minor,score\n');
  assertErrorEnvelope(await get(url, '/epochs/exportempty:1/claims'), { status: 404, code: 'NOT_FOUND', reason: 'no_payees' });
});
