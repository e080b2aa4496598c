import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openAuditSink, type AuditEvent } from './audit.js';
import { tokenFingerprint } from './auth.js';

function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'audit-test-'));
  return fn(dir).finally(() => rmSync(dir, { recursive: true, force: true }));
}

const TOKEN = 'secret-token-do-not-log-0123456789';

void test('a written event is one line of JSON with exactly the event fields and no raw token', async () => {
  await withDir(async (dir) => {
    const sink = openAuditSink('local', dir);
    const event: AuditEvent = {
      kind: 'auth_ok',
      tenant: 'acme',
      route: '/epochs/:epoch_id/compute',
      corr_id: 'c-1',
      token_fp: tokenFingerprint(TOKEN, Buffer.from('k')),
      at: '2026-01-02T03:04:05.678Z',
    };
    // A caller passing a richer object must not get its extra fields into the log.
    sink.write({ ...event, token: TOKEN, authorization: `Bearer ${TOKEN}` } as AuditEvent);
    sink.write({ kind: 'auth_fail', route: '/inputs\n{"forged":true}', corr_id: 'c-2', at: '2026-01-02T03:04:06.000Z' });
    const compute: AuditEvent = {
      kind: 'compute',
      tenant: 'acme',
      route: '/epochs/:epoch/compute',
      corr_id: 'c-3',
      at: '2026-01-02T03:04:07.000Z',
      epoch_id: 'acme-poc:2026-01-01',
      inputs_cid: `b3:${'1'.repeat(64)}`,
      policy_hash: `b3:${'2'.repeat(64)}`,
      status: 409,
    };
    sink.write(compute);
    await sink.close();

    assert.deepEqual(readdirSync(dir), ['audit-2026-01-02.jsonl']);
    const text = readFileSync(join(dir, 'audit-2026-01-02.jsonl'), 'utf8');
    assert.ok(!text.includes(TOKEN), 'the raw token reached the audit log');
    const lines = text.split('\n');
    assert.equal(lines.pop(), '', 'the file ends with a newline');
    assert.equal(lines.length, 3);
    assert.deepEqual(JSON.parse(lines[2] ?? ''), compute);
    assert.deepEqual(JSON.parse(lines[0] ?? ''), event);
    assert.deepEqual(JSON.parse(lines[1] ?? ''), {
      kind: 'auth_fail',
      route: '/inputs\n{"forged":true}',
      corr_id: 'c-2',
      at: '2026-01-02T03:04:06.000Z',
    });
  });
});

void test('events go to the file of their own UTC day and are appended to what is there', async () => {
  await withDir(async (dir) => {
    writeFileSync(join(dir, 'audit-2026-01-01.jsonl'), '{"earlier":true}\n');
    const sink = openAuditSink('local', dir);
    const base = { kind: 'rate_limited', tenant: 'acme', route: '/inputs', corr_id: 'c' } as const;
    sink.write({ ...base, at: '2026-01-01T23:59:59.999Z' });
    sink.write({ ...base, at: '2026-01-02T00:00:00.000Z' });
    sink.write({ ...base, at: '2026-01-01T23:59:59.999Z' }); // late arrival from the day before
    await sink.close();
    assert.deepEqual(readdirSync(dir).sort(), ['audit-2026-01-01.jsonl', 'audit-2026-01-02.jsonl']);
    const day1 = readFileSync(join(dir, 'audit-2026-01-01.jsonl'), 'utf8').trim().split('\n');
    const day2 = readFileSync(join(dir, 'audit-2026-01-02.jsonl'), 'utf8').trim().split('\n');
    assert.equal(day1.length, 3);
    assert.equal(day1[0], '{"earlier":true}');
    assert.equal(day2.length, 1);
  });
});

void test('writes after close are ignored rather than reopening a file', async () => {
  await withDir(async (dir) => {
    const sink = openAuditSink('local', dir);
    await sink.close();
    sink.write({ kind: 'auth_ok', route: '/', corr_id: 'c', at: '2026-01-01T00:00:00Z' });
    assert.deepEqual(readdirSync(dir), []);
  });
});

void test('the off sink writes nothing anywhere', async () => {
  await withDir(async (dir) => {
    const sink = openAuditSink('off', dir);
    sink.write({ kind: 'auth_ok', route: '/', corr_id: 'c', at: '2026-01-01T00:00:00Z' });
    await sink.close();
    assert.deepEqual(readdirSync(dir), []);
  });
});

void test('a write failure is reported to onError instead of crashing the process', async () => {
  await withDir(async (dir) => {
    const errors: Error[] = [];
    const sink = openAuditSink('local', dir, (err) => errors.push(err));
    rmSync(dir, { recursive: true });
    writeFileSync(dir, 'now a file, so the directory cannot be used');
    sink.write({ kind: 'auth_ok', route: '/', corr_id: 'c', at: '2026-01-01T00:00:00Z' });
    await sink.close();
    assert.equal(errors.length, 1);
    assert.match(String((errors[0] as NodeJS.ErrnoException).code), /ENOTDIR|ENOENT/);
  });
});

void test('local mode without a directory is refused', () => {
  assert.throws(() => openAuditSink('local'), /needs a directory/);
});
