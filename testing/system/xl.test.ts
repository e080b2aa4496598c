// The XL path (scripts/xl-run.ts: generated Arrow inputs sealed over HTTP, then the first compute)
// at a reduced scale, with the same code the XL benchmark runs: its manifest must carry exactly
// the payouts the offline core computes from the columnar JSON of the same (scale, seed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildClaimTree, claimDumpChunks, csvChunks, exportPayees } from '../../src/core/exports.js';
import { b3 } from '../../src/core/hash.js';
import { decodeInputs } from '../../src/core/inputs.js';
import { decodePolicy } from '../../src/core/policy.js';
import { computeRun } from '../../src/core/run.js';
import { generate } from '../../src/gen/generate.js';
import { type XlRun, xlRun } from '../../scripts/xl-run.js';

/**
 * The offline core's manifest for the columnar JSON of the same (scale M, seed 3), after checking
 * that the service's run used the same policy and carries the same payouts root, counts and totals.
 */
function paysAsOffline(r: XlRun): XlManifest {
  const json = generate({ scale: 'M', seed: 3, form: 'columnar' });
  const inputs = decodeInputs(json.inputs);
  const policy = decodePolicy(json.policy);
  assert.ok(inputs.ok && policy.ok);
  assert.deepEqual(json.policy, r.policy);
  const offline = computeRun({ epochId: 'xl-1', inputs: inputs.value, inputsCid: r.inputsCid, policy: policy.value, policyHash: 'b3:x' });
  assert.ok(offline.ok);
  const doc = JSON.parse(new TextDecoder().decode(offline.value.manifest.bytes)) as XlManifest;
  assert.equal(r.manifest.payouts_root, doc.payouts_root);
  assert.deepEqual(r.manifest.counts, doc.counts);
  assert.deepEqual(r.manifest.totals, doc.totals);
  return doc;
}

test('the XL path at scale M: Arrow sealed over HTTP and computed pays what the columnar JSON pays, and exports what the core writes', { timeout: 240_000 }, async () => {
  const r = await xlRun('M', 3, { exports: true });
  const doc = paysAsOffline(r);
  assert.equal(r.manifest.counts.actors, 10_000);
  assert.equal(r.manifest.counts.events, 100_000);
  assert.ok(r.peakRssBytes > 0);
  // Its exports, streamed in pieces (the claims dump of 10k payees is several), are byte for byte
  // what the offline core writes from the same manifest.
  const payees = exportPayees(doc);
  assert.ok(typeof payees !== 'string');
  const csv = enc([...csvChunks(payees)].join(''));
  const claims = enc([...claimDumpChunks(payees, buildClaimTree(payees))].join(''));
  assert.ok(claims.length > 1024 * 1024); // more than one piece
  assert.deepEqual({ bytes: r.exports?.csvBytes, cid: r.exports?.csvCid }, { bytes: csv.length, cid: b3(csv) });
  assert.deepEqual({ bytes: r.exports?.claimsBytes, cid: r.exports?.claimsCid }, { bytes: claims.length, cid: b3(claims) });
  assert.deepEqual(r.exports?.declaredBytes, [csv.length, claims.length]);
  // The service kept answering its liveness probe while it sealed and computed.
  assert.ok(r.healthz.probes > 0);
  assert.equal(r.healthz.ok, r.healthz.probes);
});

test('the XL path with its upload spooled to the amnesia tmpfs (threshold lowered) pays the same', { timeout: 240_000 }, async () => {
  // xl-run's server is a micronode with its default AMNESIA_DIR: an XL stream (219 MiB) is spooled
  // at the default 64 MiB; here the M stream (2.3 MB) is, at 64 KiB.
  const r = await xlRun('M', 3, { env: { INPUTS_SPOOL_MIN_BYTES: String(64 * 1024) } });
  paysAsOffline(r);
});

const enc = (s: string) => new TextEncoder().encode(s);

type XlManifest = { payouts_root: string; counts: Record<string, number>; totals: Record<string, string> };
