// GET /epochs/{id}/explain/{actor} as a payee meets it: for every actor (paid or not, listed or
// not) the served bytes are exactly what `rewarder explain` computes offline from the documents.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { explainManifest, explanationBytes, offlineExplainer } from '../../src/core/explain.js';
import { b3 } from '../../src/core/hash.js';
import { decodeInputs } from '../../src/core/inputs.js';
import { decodePolicy } from '../../src/core/policy.js';
import { computeRun } from '../../src/core/run.js';
import { EXAMPLE, ROOT, type SpawnedServer, get, post, put, spawnServer } from '../harness.js';

const LIMIT = { timeout: 120_000 };
let server: SpawnedServer | undefined;
let url = '';

before(async () => {
  server = await spawnServer({ AUTH: 'off', TENANT_RPS_MAX: '100000' });
  url = server.url;
});

after(async () => {
  await server?.stop();
});

/** Seals, computes `epoch` and returns the offline explainer of its manifest. */
async function bind(epoch: string, inputsFile: string, policyFile: string) {
  const inputsBytes = readFileSync(inputsFile);
  const policyBytes = readFileSync(policyFile);
  assert.ok([200, 201].includes((await put(url, '/inputs', inputsBytes)).status));
  const sealed = (await put(url, '/policies', policyBytes)).json<{ policy_id: string; policy_hash: string }>();
  const run = await post(url, `/epochs/${epoch}/compute`, { inputs_cid: b3(inputsBytes), ...sealed });
  assert.equal(run.status, 200, run.text);
  const inputs = decodeInputs(inputsBytes);
  const policy = decodePolicy(policyBytes);
  assert.ok(inputs.ok && policy.ok);
  // The manifest as anyone recomputes it; the service published the same one.
  const local = computeRun({ epochId: epoch, inputs: inputs.value, inputsCid: b3(inputsBytes), policy: policy.value, policyHash: b3(policyBytes) });
  assert.ok(local.ok);
  assert.equal(run.json<{ commitment: string }>().commitment, local.value.manifest.commitment);
  const m = explainManifest(JSON.parse(Buffer.from(local.value.manifest.bytes).toString()));
  assert.ok(typeof m !== 'string');
  const explain = offlineExplainer(inputs.value, policy.value, m);
  return {
    actors: inputs.value.actors,
    offline: (actor: string): string => {
      const r = explain(actor);
      if (!r.ok) assert.fail(r.error);
      return Buffer.from(explanationBytes(r.value)).toString();
    },
  };
}

test('every actor of the worked example is explained with the offline bytes, under both prefixes', LIMIT, async () => {
  const run = await bind('2026-01-01', EXAMPLE.inputs, EXAMPLE.policy);
  for (const actor of [...run.actors, 'did:ron:nobody', 'did:ron:dave']) {
    for (const prefix of ['', '/rewarder']) {
      const res = await get(url, `${prefix}/epochs/2026-01-01/explain/${encodeURIComponent(actor)}`);
      assert.equal(res.status, 200, res.text);
      assert.match(String(res.headers['content-type']), /^application\/json/);
      assert.equal(res.text, run.offline(actor), actor);
    }
  }
  const carol = (await get(url, '/epochs/2026-01-01/explain/did:ron:carol')).json<{ status: string; below_min_cut_minor: string }>();
  assert.deepEqual([carol.status, carol.below_min_cut_minor], ['below_min', '4']);
});

test('every actor of the S golden vector is explained with the offline bytes', LIMIT, async () => {
  const run = await bind('golden-s', join(ROOT, 'vectors', 'S', 'inputs-columnar.json'), join(ROOT, 'vectors', 'S', 'policy.json'));
  const statuses = new Set<string>();
  for (const actor of [...run.actors, 'did:ron:absent']) {
    const res = await get(url, `/epochs/golden-s/explain/${encodeURIComponent(actor)}`);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.text, run.offline(actor), actor);
    statuses.add(res.json<{ status: string }>().status);
  }
  // The vector exercises more than the happy path.
  assert.ok(statuses.has('paid') && statuses.has('not_in_inputs') && statuses.size >= 4, [...statuses].join());
});

test('an actor id that cannot be one is a 400, an unknown epoch a 404', LIMIT, async () => {
  const bad = await get(url, '/epochs/2026-01-01/explain/a%01b');
  assert.equal(bad.status, 400);
  assert.equal(bad.json<{ error: { details: { reason: string; param: string } } }>().error.details.param, 'actor');
  const missing = await get(url, '/epochs/never/explain/did:ron:bob');
  assert.equal(missing.status, 404);
});
