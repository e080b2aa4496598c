import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.js';
import { AmnesiaError, RAMFS_MAGIC, TMPFS_MAGIC, defaultAmnesiaDir, enterAmnesia, isMemoryFs, refusal } from './amnesia.js';

const EXT4 = 0xef53;
const none = { kind: 'none' } as const;

void test('tmpfs and ramfs count as memory filesystems whether f_type arrives signed or unsigned', () => {
  assert.equal(isMemoryFs(TMPFS_MAGIC), true);
  assert.equal(isMemoryFs(RAMFS_MAGIC), true);
  assert.equal(isMemoryFs(RAMFS_MAGIC | 0), true); // the same 32 bits read as a negative int
  assert.equal(isMemoryFs(BigInt(RAMFS_MAGIC)), true);
  assert.equal(isMemoryFs(EXT4), false);
  assert.equal(isMemoryFs(0x794c7630), false); // overlayfs: a container's writable layer is on disk
});

void test('a directory on ext4 is refused in one line naming the filesystem', () => {
  const why = refusal('/var/lib/rewarder', EXT4, none);
  assert.match(why ?? '', /^AMNESIA_DIR \/var\/lib\/rewarder is on ext2\/3\/4 \(0xef53\), not tmpfs or ramfs/);
  assert.equal((why ?? '').includes('\n'), false);
});

void test('relative paths, the root, non-directories and non-empty directories are refused even on tmpfs', () => {
  assert.match(refusal('shm/x', TMPFS_MAGIC, none) ?? '', /absolute path/);
  assert.match(refusal('/', TMPFS_MAGIC, { kind: 'dir', entries: 0 }) ?? '', /root/);
  assert.match(refusal('/dev/shm/f', TMPFS_MAGIC, { kind: 'other' }) ?? '', /not a directory/);
  assert.match(refusal('/dev/shm', TMPFS_MAGIC, { kind: 'dir', entries: 3 }) ?? '', /not empty \(3 entries\)/);
});

void test('a new or empty directory on tmpfs or ramfs is accepted', () => {
  assert.equal(refusal('/dev/shm/rewarder-1-ab', TMPFS_MAGIC, none), null);
  assert.equal(refusal('/mnt/ram/r', RAMFS_MAGIC, { kind: 'dir', entries: 0 }), null);
});

void test('the default directory is a fresh name under /dev/shm carrying the pid', () => {
  assert.equal(defaultAmnesiaDir(42, 'beef'), '/dev/shm/rewarder-42-beef');
  assert.notEqual(defaultAmnesiaDir(), defaultAmnesiaDir());
  assert.match(defaultAmnesiaDir(), new RegExp(`^/dev/shm/rewarder-${process.pid}-[0-9a-f]{12}$`));
});

void test('entering amnesia creates the directory 0700 with a tmp/ that TMPDIR points to, and remove() deletes it all', () => {
  const dir = defaultAmnesiaDir();
  const env: NodeJS.ProcessEnv = {};
  const a = enterAmnesia(dir, env);
  try {
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(env.TMPDIR, join(dir, 'tmp'));
    writeFileSync(join(dir, 'tmp', 'spill'), 'x');
  } finally {
    a.remove();
  }
  assert.equal(existsSync(dir), false);
  a.remove(); // idempotent
});

void test('a path on disk is refused before anything is created there', () => {
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const dir = join(repo, `.amnesia-unit-${process.pid}`, 'deeper');
  assert.throws(() => enterAmnesia(dir, {}), (e: unknown) => e instanceof AmnesiaError && /not tmpfs or ramfs/.test(e.message));
  assert.equal(existsSync(join(repo, `.amnesia-unit-${process.pid}`)), false);
});

void test('an existing non-empty directory is not adopted (it would be deleted on exit)', () => {
  const dir = defaultAmnesiaDir();
  mkdirSync(dir);
  writeFileSync(join(dir, 'someone-elses'), 'x');
  try {
    assert.throws(() => enterAmnesia(dir, {}), /not empty/);
    assert.equal(existsSync(join(dir, 'someone-elses')), true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('with AUDIT_MODE=local a micronode audits into AMNESIA_DIR/audit unless AUDIT_DIR is given', () => {
  const base = { AUTH: 'off', AUDIT_MODE: 'local', AMNESIA_DIR: '/dev/shm/r-1' };
  assert.equal(loadConfig(base).AUDIT_DIR, '/dev/shm/r-1/audit');
  assert.equal(loadConfig({ ...base, AUDIT_DIR: '/var/log/rw' }).AUDIT_DIR, '/var/log/rw');
  assert.equal(loadConfig({ ...base, AUDIT_MODE: 'off' }).AUDIT_DIR, undefined);
  assert.throws(() => loadConfig({ ...base, AUTH: 'on', TOKENS_FILE: '/run/secrets/tokens.json', PROFILE: 'macronode' }), /AUDIT_DIR: required when AUDIT_MODE=local/);
});
