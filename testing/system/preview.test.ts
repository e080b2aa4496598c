// POST /epochs/{id}/preview and `rewarder preview` as an operator meets them: the comparison of a
// candidate with the bound run is exactly `compare` of the two manifests computed offline, and
// nothing is bound by it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { compare, comparedManifest } from '../../src/core/compare.js';
import { b3 } from '../../src/core/hash.js';
import { decodeInputs } from '../../src/core/inputs.js';
import { canonicalize } from '../../src/core/jcs.js';
import { decodePolicy } from '../../src/core/policy.js';
import { computeRun } from '../../src/core/run.js';
import { generate } from '../../src/gen/generate.js';
import { generateProfile } from '../../src/gen/profiles.js';
import { policyVariant } from '../../scripts/bench-kit.js';
import { BIN, EXAMPLE, ROOT, type SpawnedServer, get, metricValue, metrics, post, put, spawnServer } from '../harness.js';

const LIMIT = { timeout: 120_000 };
const enc = (s: string) => new TextEncoder().encode(s);
const inputsBytes = readFileSync(EXAMPLE.inputs);
const policyBytes = readFileSync(EXAMPLE.policy);
// The example's policy with bytes_served weighted twice: alice, bob and dave use it.
const candidate = Buffer.from(policyBytes.toString().replace('"id":"example-1"', '"id":"example-2"').replace('"bytes_served":{"weight":1', '"bytes_served":{"weight":2'));
let server: SpawnedServer | undefined;
let url = '';

before(async () => {
  server = await spawnServer({ AUTH: 'off' });
  url = server.url;
  assert.equal((await put(url, '/inputs', inputsBytes)).status, 201);
  assert.equal((await put(url, '/policies', policyBytes)).status, 201);
  assert.equal((await put(url, '/policies', candidate)).status, 201);
  const run = await post(url, '/epochs/2026-01-01/compute', { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash });
  assert.equal(run.status, 200, run.text);
});

after(async () => {
  await server?.stop();
});

/** The comparison as anyone computes it offline from the documents. */
function offline(policy: Uint8Array, top: number): string {
  const inputs = decodeInputs(inputsBytes);
  const bound = comparedManifest(JSON.parse(readFileSync(EXAMPLE.manifest, 'utf8')));
  const p = decodePolicy(policy);
  assert.ok(inputs.ok && p.ok && typeof bound !== 'string');
  const r = computeRun({ epochId: '2026-01-01', inputs: inputs.value, inputsCid: EXAMPLE.inputsCid, policy: p.value, policyHash: b3(policy) });
  assert.ok(r.ok);
  const cand = comparedManifest(JSON.parse(Buffer.from(r.value.manifest.bytes).toString()));
  assert.ok(typeof cand !== 'string');
  return canonicalize(compare(bound, cand, top));
}

test('previewing the bound policy changes nothing; a heavier kind moves its users, both exactly as offline', LIMIT, async () => {
  const same = await post(url, '/epochs/2026-01-01/preview', { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash });
  assert.equal(same.status, 200, same.text);
  assert.equal(same.text, offline(policyBytes, 10));
  assert.deepEqual(same.json<{ gainers: unknown[]; losers: unknown[] }>().gainers, []);

  const heavier = await post(url, '/rewarder/epochs/2026-01-01/preview', { policy_id: 'example-2', policy_hash: b3(candidate), top: 2 });
  assert.equal(heavier.status, 200, heavier.text);
  assert.equal(heavier.text, offline(candidate, 2));
  const c = heavier.json<{ losers: { actor: string }[]; b: { policy_hash: string } }>();
  assert.equal(c.b.policy_hash, b3(candidate));
  // erin has no bytes_served: her share can only fall.
  assert.ok(c.losers.some((l) => l.actor === 'did:ron:erin'));

  // Nothing was bound: the epoch still serves its manifest and replays its own triple.
  assert.equal((await get(url, '/epochs/2026-01-01')).text, readFileSync(EXAMPLE.manifest, 'utf8'));
});

test('a preview of an unknown epoch, policy or inputs is a 404, a wrong policy_id a 422, a bad body a 400', LIMIT, async () => {
  const cases: [string, Record<string, unknown>, number, string][] = [
    ['/epochs/never/preview', { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash }, 404, 'unknown_epoch'],
    ['/epochs/2026-01-01/preview', { policy_id: EXAMPLE.policyId, policy_hash: `b3:${'ab'.repeat(32)}` }, 404, 'unknown_policy'],
    ['/epochs/2026-01-01/preview', { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash, inputs_cid: `b3:${'cd'.repeat(32)}` }, 404, 'unknown_inputs'],
    ['/epochs/2026-01-01/preview', { policy_id: 'other', policy_hash: EXAMPLE.policyHash }, 422, 'policy_id_mismatch'],
    ['/epochs/2026-01-01/preview', { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash, dry_run: true }, 400, 'invalid_request'],
    ['/epochs/2026-01-01/preview', { policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash, top: 1001 }, 400, 'invalid_request'],
  ];
  for (const [path, body, status, reason] of cases) {
    const res = await post(url, path, body);
    assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${res.text}`);
    assert.equal(res.json<{ error: { details: { reason: string } } }>().error.details.reason, reason);
  }
});

test('rewarder preview seals the candidate and prints the service\'s comparison', LIMIT, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'preview-'));
  try {
    const file = join(dir, 'candidate.json');
    writeFileSync(file, candidate);
    const r = spawnSync(process.execPath, [BIN, 'preview', '--url', url, '--epoch', '2026-01-01', '--policy', file, '--top', '2'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${offline(candidate, 2)}\n`);
    const missing = spawnSync(process.execPath, [BIN, 'preview', '--url', url, '--epoch', 'never', '--policy', file], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /answered 404 NOT_FOUND \(unknown_epoch\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

type Docs = { inputs: Uint8Array; policy: Uint8Array };
type Case = { policy: Uint8Array; inputs: 'same' | 'other'; top: number };

/**
 * Binds `m` as `epochId` and previews each case against it (a candidate policy over the run's own
 * inputs or over `other`'s). Every answer must be compare() of the two manifests as anyone parses
 * them, and the basis the first preview kept must be what serves the later ones (the gauge grows
 * once). `check` looks at the bound manifest before the previews.
 */
async function previewsMatchCompare(
  epochId: string,
  m: Docs,
  other: Docs,
  cases: readonly Case[],
  check: (manifest: Exclude<ReturnType<typeof comparedManifest>, string>) => void = () => {},
): Promise<void> {
  const inputs = decodeInputs(m.inputs);
  const otherInputs = decodeInputs(other.inputs);
  assert.ok(inputs.ok && otherInputs.ok);
  assert.equal((await put(url, '/inputs', m.inputs)).status, 201);
  assert.equal((await put(url, '/inputs', other.inputs)).status, 201);
  const bound = (await put(url, '/policies', m.policy)).json<{ policy_id: string; policy_hash: string }>();
  assert.equal((await post(url, `/epochs/${epochId}/compute`, { inputs_cid: b3(m.inputs), ...bound })).status, 200);
  const manifest = comparedManifest(JSON.parse((await get(url, `/epochs/${epochId}`)).text));
  assert.ok(typeof manifest !== 'string');
  check(manifest);

  const basisBefore = metricValue(await metrics(url), 'preview_basis_cache_bytes');
  let kept = 0;
  for (const [i, k] of cases.entries()) {
    const p = decodePolicy(k.policy);
    const cand = (await put(url, '/policies', k.policy)).json<{ policy_id: string; policy_hash: string }>();
    const doc = k.inputs === 'same' ? inputs : otherInputs;
    const cid = b3(k.inputs === 'same' ? m.inputs : other.inputs);
    assert.ok(p.ok);
    const r = computeRun({ epochId, inputs: doc.value, inputsCid: cid, policy: p.value, policyHash: cand.policy_hash });
    assert.ok(r.ok);
    const after = comparedManifest(JSON.parse(Buffer.from(r.value.manifest.bytes).toString()));
    assert.ok(typeof after !== 'string');
    const body = { ...cand, top: k.top, ...(k.inputs === 'other' ? { inputs_cid: cid } : {}) };
    const res = await post(url, `/epochs/${epochId}/preview`, body);
    assert.equal(res.status, 200, `case ${i}: ${res.text}`);
    assert.equal(res.text, canonicalize(compare(manifest, after, k.top)), `case ${i}`);
    const held = metricValue(await metrics(url), 'preview_basis_cache_bytes');
    if (i === 0) kept = held;
    assert.ok(held > basisBefore && held === kept, `case ${i}: ${held} bytes kept (${basisBefore} before, ${kept} after the first)`);
  }
}

test('on the M vector, previews after the first (served from the kept basis) answer what the parsed manifests compare to', LIMIT, async () => {
  const m = generate({ scale: 'M', seed: 1, form: 'columnar' });
  const other = generate({ scale: 'M', seed: 2, form: 'columnar' });
  await previewsMatchCompare('m-bound', m, other, [
    { policy: m.policy, inputs: 'same', top: 10 },
    { policy: enc(policyVariant(m.policy, 1)), inputs: 'same', top: 10 },
    { policy: enc(policyVariant(m.policy, 2)), inputs: 'same', top: 1000 },
    { policy: enc(policyVariant(m.policy, 3)), inputs: 'same', top: 0 },
    { policy: m.policy, inputs: 'other', top: 25 },
  ]);
});

/** The token policy with one kind's weight multiplied (a candidate that moves every payee of that kind). */
function reweighted(policy: Uint8Array, kind: string, factor: number, id: string): Uint8Array {
  const p = JSON.parse(Buffer.from(policy).toString()) as { id: string; kinds: Record<string, { weight: number }> };
  p.id = id;
  const k = p.kinds[kind];
  assert.ok(k !== undefined, `token policy has no ${kind}`);
  k.weight *= factor;
  return enc(JSON.stringify(p));
}

test('on a token program\'s M run (amounts past 2^53), previews are served from a kept basis and answer what the parsed manifests compare to', LIMIT, async () => {
  // Token amounts (~10^17–10^19) once made the packed comparison decline: nothing was kept and
  // every preview parsed the manifest. Now the basis is kept and every answer is still compare().
  const m = generateProfile({ profile: 'token', scale: 'M', seed: 1, form: 'columnar' });
  const other = generateProfile({ profile: 'token', scale: 'M', seed: 2, form: 'columnar' });
  // Its own program: the token inputs' window overlaps the M vector's.
  await previewsMatchCompare(
    'token:m-bound',
    m,
    other,
    [
      { policy: m.policy, inputs: 'same', top: 10 },
      { policy: reweighted(m.policy, 'compute_ms', 2, 'token-2'), inputs: 'same', top: 10 },
      { policy: reweighted(m.policy, 'relay_msgs', 3, 'token-3'), inputs: 'same', top: 1000 },
      { policy: m.policy, inputs: 'other', top: 25 },
    ],
    (manifest) => assert.ok(manifest.payouts.some((p) => p.amount > BigInt(Number.MAX_SAFE_INTEGER)), 'the token run pays amounts past 2^53'),
  );
});
