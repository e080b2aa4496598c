// A signing service as an operator runs it (REQUIRE_PQ_ON=true, SIGNING_KEY_DIR from keygen,
// AUTH=off), checked from outside: the manifest bytes are unchanged by signing, the attestation
// verifies with the service's verifier and with an independent one, `rewarder verify` and the
// payee's `rewarder verify-proof` accept it and refuse any flipped byte, ledger parts carry the same
// attestation, the pool runs one worker fewer, and no private key byte ever leaves its file.

import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type PublicKey, verifyAttestation } from '../../src/attest/attestation.js';
import { b3, b3Text } from '../../src/core/hash.js';
import { EXAMPLE, type SpawnedServer, get, spawnServer, tempDir, until } from '../harness.js';
import { spawnLedgerStub } from '../ledger-stub/client.js';
import {
  type AttestationDoc,
  type KeyEntry,
  type KeygenResult,
  Transcript,
  cli,
  computeExample,
  fetchOk,
  flipByte,
  independentlyVerify,
  keygen,
} from './kit.js';

const LIMIT = { timeout: 30_000 };
const EPOCH = '2026-01-01';
const tmp = tempDir('rewarder-attest-');
const keyDir = join(tmp.dir, 'keys');
const file = (name: string) => join(tmp.dir, name);
const transcript = new Transcript();
const secrets: string[] = [];
let keys: KeygenResult;
let server: SpawnedServer | undefined;
let url = '';

/** Files a verifier holds, as fetched from the service. */
const files = { manifest: file('manifest.json'), attestation: file('attestation.json'), keys: file('keys.json'), proof: file('proof.json') };
let attestation: AttestationDoc;
let published: KeyEntry[];

before(async () => {
  keys = await keygen(keyDir);
  secrets.push(...keys.secrets);
  server = await spawnServer({ AUTH: 'off', REQUIRE_PQ_ON: 'true', SIGNING_KEY_DIR: keyDir });
  url = server.url;
  await computeExample(url, EPOCH, transcript);
  writeFileSync(files.manifest, (await fetchOk(url, `/epochs/${EPOCH}`, transcript)).body);
  const a = await fetchOk(url, `/epochs/${EPOCH}/attestation`, transcript);
  writeFileSync(files.attestation, a.body);
  attestation = a.json<AttestationDoc>();
  const k = await fetchOk(url, '/keys', transcript);
  writeFileSync(files.keys, k.body);
  published = k.json<{ keys: KeyEntry[] }>().keys;
  writeFileSync(files.proof, (await fetchOk(url, `/epochs/${EPOCH}/payouts/did:ron:bob`, transcript)).body);
});

after(async () => {
  if (server !== undefined) {
    await server.stop();
    transcript.server(server);
  }
  tmp.remove();
});

const trusted = (entries: KeyEntry[]): PublicKey[] =>
  entries.map((k) => ({ alg: k.alg as PublicKey['alg'], keyId: k.key_id, publicKey: new Uint8Array(Buffer.from(k.public_key, 'base64')) }));

const verifyArgs = (m = files.manifest, a = files.attestation, k = files.keys) => [
  'verify',
  m,
  '--inputs',
  EXAMPLE.inputs,
  '--policy',
  EXAMPLE.policy,
  '--attestation',
  a,
  '--keys',
  k,
];

test('signing does not change the manifest: GET /epochs/{id} is byte-identical to the SPEC §9 vector', LIMIT, () => {
  assert.deepEqual(readFileSync(files.manifest), readFileSync(EXAMPLE.manifest));
});

test('GET /keys publishes the keygen key ids, raw base64 public keys, both marked as signing', LIMIT, () => {
  assert.deepEqual(
    published.map((k) => [k.alg, k.key_id, k.signing]),
    [
      ['ML-DSA-65', keys.ids[0], true],
      ['Ed25519', keys.ids[1], true],
    ],
  );
  for (const k of published) assert.equal(b3(Buffer.from(k.public_key, 'base64')), k.key_id);
});

test('the attestation signs the manifest commitment with both keys and verifies against GET /keys', LIMIT, () => {
  assert.equal(attestation.commitment, EXAMPLE.commitment);
  assert.deepEqual(
    attestation.signatures.map((s) => [s.alg, s.key_id]),
    [
      ['ML-DSA-65', keys.ids[0]],
      ['Ed25519', keys.ids[1]],
    ],
  );
  const r = verifyAttestation(attestation, EXAMPLE.commitment, trusted(published));
  assert.equal(r.ok, true, r.ok ? '' : r.reason);
});

test('the attestation verifies through an independent path (WebCrypto Ed25519, noble ML-DSA-65 with the SPEC context)', LIMIT, async () => {
  assert.deepEqual(await independentlyVerify(attestation, EXAMPLE.commitment, published), ['Ed25519', 'ML-DSA-65']);
  // The same signatures over another commitment must not verify: the check is not vacuous.
  const other = 'b3:' + '0'.repeat(64);
  assert.deepEqual(await independentlyVerify({ ...attestation, commitment: other }, other, published), []);
});

test('every single-bit flip of the served attestation bytes is rejected (ML-DSA signature positions sampled)', LIMIT, () => {
  const text = readFileSync(files.attestation);
  const mlDsa = (attestation.signatures[0] as AttestationDoc['signatures'][number]).sig;
  const start = text.indexOf(mlDsa);
  const end = start + mlDsa.length;
  assert.ok(start > 0);
  // Every byte outside the 4.4 kB ML-DSA signature (ids, structure, the Ed25519 signature and its
  // padding bits), and every 61st byte plus the last 8 of the ML-DSA signature.
  const positions = [...text.keys()].filter((i) => i < start || i >= end - 8 || (i - start) % 61 === 0);
  const accepted: number[] = [];
  for (const i of positions) {
    const flipped = Buffer.from(text);
    flipped[i] = (flipped[i] as number) ^ 0x01;
    let doc: unknown;
    try {
      doc = JSON.parse(flipped.toString('utf8'));
    } catch {
      continue; // not JSON any more: no verifier gets as far as a signature
    }
    if (verifyAttestation(doc, EXAMPLE.commitment, trusted(published)).ok) accepted.push(i);
  }
  assert.ok(positions.length > 300, `${positions.length} positions`);
  assert.deepEqual(accepted, [], `flips still accepted at ${accepted.map((i) => `${i}:${String.fromCharCode(text[i] as number)}`).join(' ')}`);
  assert.equal(verifyAttestation(JSON.parse(text.toString('utf8')), EXAMPLE.commitment, trusted(published)).ok, true, 'the unflipped bytes verify');
});

test('the Ed25519 signature verifies only in canonical base64: no other last character is accepted, even one decoding alike', LIMIT, () => {
  const ed = attestation.signatures[1] as AttestationDoc['signatures'][number];
  assert.equal(ed.alg, 'Ed25519');
  assert.match(ed.sig, /^[A-Za-z0-9+/]{86}==$/); // 64 bytes: the 86th character carries 4 unused bits
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let alike = 0;
  for (const c of alphabet) {
    if (c === ed.sig[85]) continue;
    const sig = `${ed.sig.slice(0, 85)}${c}==`;
    if (Buffer.from(sig, 'base64').equals(Buffer.from(ed.sig, 'base64'))) alike++;
    const doc = { ...attestation, signatures: [attestation.signatures[0], { ...ed, sig }] };
    assert.equal(verifyAttestation(doc, EXAMPLE.commitment, trusted(published)).ok, false, `last character ${c}`);
  }
  assert.equal(alike, 15, 'fifteen other texts decode to the very same signature bytes');
});

test('rewarder verify --attestation --keys exits 0 and names both key ids', LIMIT, async () => {
  const r = await cli(verifyArgs());
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `ok ${EXAMPLE.commitment} signed by ML-DSA-65:${keys.ids[0]} Ed25519:${keys.ids[1]}\n`);
});

test('rewarder verify exits 1 for a flipped byte in either signature of the attestation', LIMIT, async () => {
  const runs = await Promise.all(
    [0, 1].map(async (i) => {
      const doc = structuredClone(attestation);
      const s = doc.signatures[i] as AttestationDoc['signatures'][number];
      s.sig = flipByte(s.sig, 17);
      const f = file(`att-flip-${i}.json`);
      writeFileSync(f, JSON.stringify(doc));
      return [s.alg, await cli(verifyArgs(files.manifest, f))] as const;
    }),
  );
  for (const [alg, r] of runs) {
    assert.equal(r.code, 1, `${alg}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^rewarder: \\S+: ${alg} signature by b3:[0-9a-f]{64} does not verify\\n$`));
  }
});

test('rewarder verify exits 1 for a flipped byte in either public key of the keys file', LIMIT, async () => {
  const runs = await Promise.all(
    [0, 1].map(async (i) => {
      const doc = { keys: structuredClone(published) };
      const k = doc.keys[i] as KeyEntry;
      k.public_key = flipByte(k.public_key, 5);
      const f = file(`keys-flip-${i}.json`);
      writeFileSync(f, JSON.stringify(doc));
      // Also a substituted key whose key_id was recomputed: it is not a key the attestation names.
      const relabelled = { keys: structuredClone(doc.keys) };
      (relabelled.keys[i] as KeyEntry).key_id = b3(Buffer.from(k.public_key, 'base64'));
      const g = file(`keys-relabelled-${i}.json`);
      writeFileSync(g, JSON.stringify(relabelled));
      return [k.alg, await cli(verifyArgs(files.manifest, files.attestation, f)), await cli(verifyArgs(files.manifest, files.attestation, g))] as const;
    }),
  );
  for (const [alg, flipped, relabelled] of runs) {
    assert.equal(flipped.code, 1, `${alg} flipped: ${flipped.stdout}${flipped.stderr}`);
    assert.match(flipped.stderr, /does not match its public key/);
    assert.equal(relabelled.code, 1, `${alg} relabelled: ${relabelled.stdout}${relabelled.stderr}`);
    assert.match(relabelled.stderr, /is not in the trusted key set/);
  }
});

test('rewarder verify exits 1 for a flipped byte in the manifest (the byte comparison fails first)', LIMIT, async () => {
  const bytes = Buffer.from(readFileSync(files.manifest));
  const at = bytes.indexOf('"400"') + 1; // bob's amount
  bytes[at] = 0x35; // "500"
  const f = file('manifest-flipped.json');
  writeFileSync(f, bytes);
  const r = await cli(verifyArgs(f));
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^rewarder: \S+manifest-flipped\.json differs: /);
  assert.equal(r.stdout, '');
});

test('rewarder verify exits 1 for an attestation with a flipped commitment, a stripped ML-DSA signature, or keys of another set', LIMIT, async () => {
  const flippedCommitment = { ...attestation, commitment: `${EXAMPLE.commitment.slice(0, -1)}0` };
  const edOnly = { ...attestation, signatures: attestation.signatures.filter((s) => s.alg === 'Ed25519') };
  writeFileSync(file('att-commitment.json'), JSON.stringify(flippedCommitment));
  writeFileSync(file('att-ed-only.json'), JSON.stringify(edOnly));
  const other = await keygen(join(tmp.dir, 'other-keys'));
  secrets.push(...other.secrets);
  const [c, e, o] = await Promise.all([
    cli(verifyArgs(files.manifest, file('att-commitment.json'))),
    cli(verifyArgs(files.manifest, file('att-ed-only.json'))),
    cli(verifyArgs(files.manifest, files.attestation, other.public)),
  ]);
  assert.equal(c.code, 1, c.stderr);
  assert.match(c.stderr, /commitment does not match the manifest/);
  assert.equal(e.code, 1, e.stderr);
  assert.match(e.stderr, /no ML-DSA-65 signature/);
  assert.equal(o.code, 1, o.stderr);
  assert.match(o.stderr, /is not in the trusted key set/);
});

test('a payee verifies its payout offline: verify-proof PROOF --manifest --attestation --keys exits 0 with a signed root', LIMIT, async () => {
  // The keys may come from GET /keys or from the operator's published public-*.json.
  const [fromService, fromFile] = await Promise.all([
    cli(['verify-proof', files.proof, '--manifest', files.manifest, '--attestation', files.attestation, '--keys', files.keys]),
    cli(['verify-proof', files.proof, '--manifest', files.manifest, '--attestation', files.attestation, '--keys', keys.public]),
  ]);
  for (const r of [fromService, fromFile]) {
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'ok did:ron:bob 400 (root signed by ML-DSA-65 + Ed25519)\n');
  }
});

test('verify-proof exits 1 for an altered amount in the proof, in the manifest, or a flipped signature', LIMIT, async () => {
  const proof = JSON.parse(readFileSync(files.proof, 'utf8')) as Record<string, unknown>;
  writeFileSync(file('proof-401.json'), JSON.stringify({ ...proof, amount_minor: '401' }));
  const manifest = readFileSync(files.manifest, 'utf8');
  assert.ok(manifest.includes('"amount_minor":"400"'));
  writeFileSync(file('manifest-401.json'), manifest.replace('"amount_minor":"400"', '"amount_minor":"401"'));
  const att = structuredClone(attestation);
  (att.signatures[0] as AttestationDoc['signatures'][number]).sig = flipByte((att.signatures[0] as AttestationDoc['signatures'][number]).sig, -40);
  writeFileSync(file('att-flip-tail.json'), JSON.stringify(att));
  const run = (p: string, m: string, a: string) => cli(['verify-proof', p, '--manifest', m, '--attestation', a, '--keys', files.keys]);
  const [amount, inManifest, sig] = await Promise.all([
    run(file('proof-401.json'), files.manifest, files.attestation),
    run(files.proof, file('manifest-401.json'), files.attestation),
    run(files.proof, files.manifest, file('att-flip-tail.json')),
  ]);
  assert.equal(amount.code, 1, amount.stderr);
  assert.match(amount.stderr, /proof does not match the root/);
  assert.equal(inManifest.code, 1, inManifest.stderr);
  assert.match(inManifest.stderr, /its commitment does not match its content/);
  assert.equal(sig.code, 1, sig.stderr);
  assert.match(sig.stderr, /ML-DSA-65 signature by \S+ does not verify/);
});

test('verify and verify-proof refuse key or attestation options they would otherwise ignore (exit 2)', LIMIT, async () => {
  const [keysOnly, attWithRoot] = await Promise.all([
    cli(['verify', files.manifest, '--inputs', EXAMPLE.inputs, '--policy', EXAMPLE.policy, '--keys', files.keys]),
    cli(['verify-proof', files.proof, '--root', EXAMPLE.payoutsRoot, '--attestation', files.attestation, '--keys', files.keys]),
  ]);
  assert.equal(keysOnly.code, 2, keysOnly.stdout + keysOnly.stderr);
  assert.match(keysOnly.stderr, /^rewarder: --keys needs --attestation\n$/);
  assert.equal(attWithRoot.code, 2, attWithRoot.stdout + attWithRoot.stderr);
  assert.match(attWithRoot.stderr, /^rewarder: --attestation needs --manifest/);
});

test('with REQUIRE_PQ_ON and no CONCURRENCY_COMPUTE_WORKERS, /version reports max(1, cores − 2) compute workers and the signing key ids', LIMIT, async () => {
  const v = (await fetchOk(url, '/version', transcript)).json<{ compute_workers: number; signing: { key_ids: string[] } }>();
  assert.equal(v.compute_workers, Math.max(1, availableParallelism() - 2));
  assert.deepEqual(v.signing, { key_ids: keys.ids });
});

test('ledger parts carry the same attestation as GET /epochs/{id}/attestation (body digest recomputed by the test)', LIMIT, async (t) => {
  const stub = await spawnLedgerStub();
  t.after(() => stub.kill());
  const withLedger = await spawnServer({ AUTH: 'off', REQUIRE_PQ_ON: 'true', SIGNING_KEY_DIR: keyDir, LEDGER_URL: stub.url });
  t.after(async () => {
    await withLedger.stop();
    transcript.server(withLedger);
  });
  const run = (await computeExample(withLedger.url, EPOCH, transcript)).json<{ run_key: string; payouts_root: string; ledger: { state: string } }>();
  assert.equal(run.ledger.state, 'accepted');
  const att = (await fetchOk(withLedger.url, `/epochs/${EPOCH}/attestation`, transcript)).json<AttestationDoc>();
  assert.equal(att.commitment, EXAMPLE.commitment);
  const manifest = JSON.parse(readFileSync(EXAMPLE.manifest, 'utf8')) as { payouts: { actor: string; amount_minor: string }[] };
  let parts: Awaited<ReturnType<typeof stub.admin.parts>> = [];
  await until(async () => (parts = await stub.admin.parts({ epoch_id: EPOCH })).length > 0, 5_000, 'the part at the stub');
  assert.equal(parts.length, 1);
  const part = parts[0] as (typeof parts)[number];
  const partId = b3(new TextEncoder().encode(`rewarder.intent.v1|${run.run_key}|0|1`));
  // SPEC §7 body, members in JCS order (every value here is ASCII strings and small integers).
  const body = (withAttestation: boolean) =>
    JSON.stringify({
      ...(withAttestation ? { attestation: { commitment: att.commitment, signatures: att.signatures.map((s) => ({ alg: s.alg, key_id: s.key_id, sig: s.sig })) } } : {}),
      commitment: EXAMPLE.commitment,
      credits: manifest.payouts.map((p) => ({ actor: p.actor, amount_minor: p.amount_minor })),
      epoch_id: EPOCH,
      part: { count: 1, index: 0 },
      part_id: partId,
      payouts_root: EXAMPLE.payoutsRoot,
      run_key: run.run_key,
    });
  assert.equal(part.part_id, partId);
  assert.equal(part.credits, 3);
  assert.notEqual(part.body_b3, b3Text(body(false)), 'the part is not the unsigned body');
  assert.equal(part.body_b3, b3Text(body(true)), 'the part body is the SPEC §7 body with the attestation');
  // And that attestation is a valid one, by the keys the service publishes.
  const r = verifyAttestation(att, EXAMPLE.commitment, trusted(published));
  assert.equal(r.ok, true);
});

test('no private key byte appears in any server output or any response body', LIMIT, async () => {
  // Ask for the places a key could plausibly surface, then stop the server so its last words count.
  for (const path of ['/keys', '/version', '/openapi.json', '/metrics', `/epochs/${EPOCH}/attestation`, '/rewarder/keys']) {
    transcript.reply(await get(url, path));
  }
  await server?.stop();
  if (server !== undefined) transcript.server(server);
  server = undefined;
  assert.ok(secrets.length >= 12, 'the secrets of both key sets, in three encodings');
  assert.ok(transcript.bytes > 10_000, `the transcript holds what was received (${transcript.bytes} bytes)`);
  assert.deepEqual(transcript.leaks(secrets), []);
  // The check can fail: a transcript that did contain a key would be caught.
  const probe = new Transcript();
  probe.text(`{"msg":"oops","key":"${secrets[0]}"}`);
  assert.equal(probe.leaks(secrets).length, 1);
});
