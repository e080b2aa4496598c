// `rewarder keygen --out DIR` as an operator runs it: key ids, file modes, what each file holds,
// and a second run adding a newer set beside the first.

import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { after, test } from 'node:test';
import { b3 } from '../../src/core/hash.js';
import { tempDir } from '../harness.js';
import { cli, keygen } from './kit.js';

const LIMIT = { timeout: 30_000 };
const tmp = tempDir('rewarder-keygen-');
after(() => tmp.remove());

interface KeyFile {
  created_at: string;
  keys: { alg: string; key_id: string; public_key: string; secret_key?: string }[];
}
const read = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as KeyFile;

test('keygen prints the two key ids, each the b3 of its raw public key', LIMIT, async () => {
  const k = await keygen(`${tmp.dir}/a`);
  assert.match(k.stdout, /^ML-DSA-65 b3:[0-9a-f]{64}\nEd25519 b3:[0-9a-f]{64}\nprivate \S+signing-\S+\.json \(0600\)\npublic {2}\S+public-\S+\.json\n$/);
  assert.equal(k.ids.length, 2);
  const pub = read(k.public);
  assert.deepEqual(pub.keys.map((e) => e.alg), ['ML-DSA-65', 'Ed25519']);
  assert.deepEqual(pub.keys.map((e) => e.key_id), k.ids);
  for (const e of pub.keys) assert.equal(e.key_id, b3(Buffer.from(e.public_key, 'base64')), `${e.alg} key id`);
  // Raw key sizes of FIPS 204 ML-DSA-65 and RFC 8032 Ed25519.
  assert.deepEqual(pub.keys.map((e) => Buffer.from(e.public_key, 'base64').length), [1952, 32]);
});

test('the private file is mode 0600 and the public file holds no secret', LIMIT, async () => {
  const k = await keygen(`${tmp.dir}/b`);
  assert.equal(statSync(k.signing).mode & 0o777, 0o600);
  const priv = read(k.signing);
  assert.ok(priv.keys.every((e) => typeof e.secret_key === 'string' && e.secret_key.length > 0));
  const pubText = readFileSync(k.public, 'utf8');
  assert.ok(!pubText.includes('secret'), 'no secret_key member in the public file');
  for (const s of k.secrets) assert.ok(!pubText.includes(s), 'no secret bytes in the public file');
  for (const s of k.secrets) assert.ok(!k.stdout.includes(s), 'no secret bytes on stdout');
  assert.deepEqual(read(k.public).keys, priv.keys.map(({ secret_key: _s, ...pub }) => pub));
});

test('a second keygen in the same directory adds a newer set beside the first', LIMIT, async () => {
  const dir = `${tmp.dir}/c`;
  const first = await keygen(dir);
  const second = await keygen(dir);
  assert.equal(readdirSync(dir).length, 4);
  assert.ok(read(second.public).created_at > read(first.public).created_at, 'the second set is newer');
  assert.notDeepEqual(second.ids, first.ids);
  assert.equal(readFileSync(first.signing, 'utf8').length > 0, true, 'the first set is kept');
});

test('keygen without --out is a usage error (exit 2, one line)', LIMIT, async () => {
  const r = await cli(['keygen']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^rewarder: --out is required\n$/);
});
