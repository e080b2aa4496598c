// REQUIRE_PQ_ON=true without usable keys: a production service (AUTH on) refuses to start with a
// one-line reason naming SIGNING_KEY_DIR; only development mode (AUTH=off) signs with ephemeral
// keys, and says so loudly.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { EXAMPLE, get, runServeToExit, spawnServer, tempDir, writeTokensFile } from '../harness.js';
import { type AttestationDoc, type KeyEntry, computeExample, fetchOk, independentlyVerify } from './kit.js';

const LIMIT = { timeout: 60_000 };
const tmp = tempDir('rewarder-refusal-');
after(() => tmp.remove());
const tokens = writeTokensFile(tmp.dir, [{ tenant: 'ops', scopes: ['rewarder.run', 'rewarder.seal', 'rewarder.inspect'], token: 'tok-refusal-test-0123456789' }]);
const empty = join(tmp.dir, 'empty');
mkdirSync(empty);
const broken = join(tmp.dir, 'broken');
mkdirSync(broken);
writeFileSync(join(broken, 'signing-20260101-000000000Z.json'), '{"created_at":"2026-01-01T00:00:00.000Z","keys":[', { mode: 0o600 });
const loose = join(tmp.dir, 'loose');
mkdirSync(loose);
writeFileSync(join(loose, 'signing-20260101-000000000Z.json'), '{"created_at":"2026-01-01T00:00:00.000Z","keys":[]}', { mode: 0o644 });
chmodSync(join(loose, 'signing-20260101-000000000Z.json'), 0o644);

/** Exactly one non-empty line on stderr, nothing on stdout, a non-zero exit, no "listening". */
function assertOneLineRefusal(r: Awaited<ReturnType<typeof runServeToExit>>, pattern: RegExp, label: string): void {
  assert.notEqual(r.code, 0, `${label}: exit code`);
  assert.notEqual(r.code, null, `${label}: exited by itself`);
  assert.equal(r.stderr.split('\n').filter((l) => l !== '').length, 1, `${label}: one stderr line, got ${JSON.stringify(r.stderr)}`);
  assert.ok(r.stderr.endsWith('\n'), label);
  assert.match(r.stderr, pattern, label);
  assert.ok(!r.stdout.includes('listening'), `${label}: never listened`);
}

test('REQUIRE_PQ_ON=true with AUTH on and no SIGNING_KEY_DIR refuses to start with one line naming SIGNING_KEY_DIR', LIMIT, async () => {
  const r = await runServeToExit({ REQUIRE_PQ_ON: 'true', AUTH: 'on', TOKENS_FILE: tokens });
  assertOneLineRefusal(r, /^rewarder: invalid configuration: SIGNING_KEY_DIR: required when REQUIRE_PQ_ON=true/, 'no dir');
});

test('SIGNING_KEY_DIR naming an empty, a missing, a corrupt or an unprotected key directory refuses to start with one line (AUTH on or off)', LIMIT, async () => {
  const cases = [
    { label: 'empty, AUTH on', env: { AUTH: 'on', TOKENS_FILE: tokens, SIGNING_KEY_DIR: empty }, re: /SIGNING_KEY_DIR \S+empty: no signing-\*\.json key set/ },
    { label: 'empty, AUTH=off', env: { AUTH: 'off', SIGNING_KEY_DIR: empty }, re: /SIGNING_KEY_DIR \S+empty: no signing-\*\.json key set/ },
    { label: 'missing', env: { AUTH: 'off', SIGNING_KEY_DIR: join(tmp.dir, 'nope') }, re: /SIGNING_KEY_DIR \S+nope: cannot read \(ENOENT\)/ },
    { label: 'corrupt', env: { AUTH: 'off', SIGNING_KEY_DIR: broken }, re: /signing-20260101-000000000Z\.json: not readable JSON/ },
    { label: 'readable by others', env: { AUTH: 'off', SIGNING_KEY_DIR: loose }, re: /signing-20260101-000000000Z\.json: private key file is readable by group or others \(mode 0644\); run: chmod 600 \S+/ },
  ];
  const results = await Promise.all(cases.map((c) => runServeToExit({ REQUIRE_PQ_ON: 'true', ...c.env })));
  cases.forEach((c, i) => assertOneLineRefusal(results[i] as Awaited<ReturnType<typeof runServeToExit>>, new RegExp(`^rewarder: cannot start: .*${c.re.source}`), c.label));
});

test('REQUIRE_PQ_ON=true with AUTH=off and no SIGNING_KEY_DIR starts with an EPHEMERAL-keys warning and signs with them', LIMIT, async (t) => {
  const s = await spawnServer({ REQUIRE_PQ_ON: 'true', AUTH: 'off' });
  t.after(() => s.stop());
  const warning = s.logs.lines.find((l) => typeof l.msg === 'string' && l.msg.includes('EPHEMERAL'));
  assert.ok(warning !== undefined, `an EPHEMERAL warning among ${JSON.stringify(s.logs.lines.map((l) => l.msg))}`);
  assert.equal(warning.level, 40, 'logged at warn');
  const keys = (await fetchOk(s.url, '/keys')).json<{ keys: KeyEntry[] }>().keys;
  assert.deepEqual(warning.key_ids, keys.map((k) => k.key_id), 'the warning names the ephemeral key ids');
  await computeExample(s.url, '2026-01-01');
  const att = (await fetchOk(s.url, '/epochs/2026-01-01/attestation')).json<AttestationDoc>();
  assert.deepEqual(await independentlyVerify(att, EXAMPLE.commitment, keys), ['Ed25519', 'ML-DSA-65']);
});

test('with signing off, GET /keys is empty, the attestation route answers 404 signing_off and the pool has max(1, cores − 1) workers', LIMIT, async (t) => {
  const s = await spawnServer({ AUTH: 'off' });
  t.after(() => s.stop());
  assert.deepEqual((await fetchOk(s.url, '/keys')).json(), { keys: [] });
  await computeExample(s.url, '2026-01-01');
  const v = (await fetchOk(s.url, '/version')).json<{ signing: unknown; compute_workers: number }>();
  assert.equal(v.signing, 'off');
  assert.equal(v.compute_workers, Math.max(1, availableParallelism() - 1));
  const a = await get(s.url, '/epochs/2026-01-01/attestation');
  assert.equal(a.status, 404);
  assert.equal(a.json<{ error: { details: { reason: string } } }>().error.details.reason, 'signing_off');
});
