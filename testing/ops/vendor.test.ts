// The vendored PQClean sources match their upstream record (native/vendor/pqclean/UPSTREAM.json):
// every file is listed with its SHA-256, and no unlisted file compiles in unnoticed.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const VENDOR = fileURLToPath(new URL('../../../native/vendor/pqclean/', import.meta.url));

interface Record {
  upstream: string;
  commit: string;
  files: { path: string; upstream_path: string; sha256: string; git_blob: string }[];
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

test('every vendored PQClean file matches the SHA-256 recorded with its upstream commit, and nothing is unrecorded', () => {
  const record = JSON.parse(readFileSync(join(VENDOR, 'UPSTREAM.json'), 'utf8')) as Record;
  assert.equal(record.upstream, 'https://github.com/PQClean/PQClean');
  assert.match(record.commit, /^[0-9a-f]{40}$/);
  const onDisk = walk(VENDOR)
    .map((f) => relative(VENDOR, f))
    .filter((f) => f !== 'README.md' && f !== 'UPSTREAM.json')
    .sort();
  assert.deepEqual(record.files.map((f) => f.path).sort(), onDisk);
  for (const f of record.files) {
    const bytes = readFileSync(join(VENDOR, f.path));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), f.sha256, f.path);
    // git's blob id, so `git rev-parse <commit>:<upstream_path>` upstream can be compared directly.
    const blob = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    assert.equal(blob, f.git_blob, f.path);
  }
  // Everything binding.gyp compiles from the vendor tree is recorded.
  const gyp = readFileSync(join(VENDOR, '..', '..', 'binding.gyp'), 'utf8');
  for (const m of gyp.matchAll(/"vendor\/pqclean\/([^"]+\.c)"/g)) assert.ok(onDisk.includes(m[1] as string), m[1]);
});
