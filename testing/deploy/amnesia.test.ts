// Micronode amnesia, end to end: the real service (`bin/rewarder.js serve`, micronode, AUTH=off,
// AUDIT_MODE=local) under strace seals, computes, settles to a real ledger stub, writes audit
// lines, and stops on SIGTERM; the trace must show no file created, changed or removed outside its
// AMNESIA_DIR, and that directory must be gone afterwards. Why strace rather than snapshots of
// /tmp, HOME and the repository: see testing/deploy/strace.ts.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isMemoryFs } from '../../src/amnesia.js';
import { BIN, LogCollector, ROOT, get, post, put, runServeToExit, spawnServer, until, withTimeout } from '../harness.js';
import { spawnLedgerStub } from '../ledger-stub/client.js';
import { STRACE_FILTER, fileChanges, isWithin, readTrace } from './strace.js';

const S_INPUTS = join(ROOT, 'vectors', 'S', 'inputs-columnar.json');
const S_POLICY = join(ROOT, 'vectors', 'S', 'policy.json');

function straceAvailable(): boolean {
  try {
    execFileSync('strace', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The tracee: strace's only child (`/proc/PID/task/PID/children`), i.e. the node process. */
async function tracedPid(stracePid: number): Promise<number> {
  let pid = Number.NaN;
  await until(
    () => {
      try {
        pid = Number(readFileSync(`/proc/${stracePid}/task/${stracePid}/children`, 'utf8').trim().split(/\s+/)[0]);
      } catch {
        return false;
      }
      return Number.isInteger(pid) && pid > 0;
    },
    5_000,
    'the traced node process',
  );
  return pid;
}

test('a micronode run from seal to settlement to SIGTERM writes nothing outside AMNESIA_DIR, and removes it on exit', async (t) => {
  assert.ok(straceAvailable(), 'strace is required for this test (apt-get install -y strace)');
  const stub = await spawnLedgerStub({ seed: 6 });
  t.after(() => stub.kill());
  const traceDir = mkdtempSync(join(tmpdir(), 'rewarder-amnesia-trace-'));
  t.after(() => rmSync(traceDir, { recursive: true, force: true }));
  const prefix = join(traceDir, 'trace');

  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    AUTH: 'off',
    AUDIT_MODE: 'local',
    LEDGER_URL: stub.url,
    // Low enough that a burst of reads is rate limited, so the audit log has something to write.
    TENANT_RPS_MAX: '5',
  };
  // --seccomp-bpf: only the traced syscalls stop the process, so the service runs at nearly full speed.
  const args = ['-f', '-ff', '-qq', '-z', '-y', '--seccomp-bpf', '-s', '4096', '-e', STRACE_FILTER, '-o', prefix, process.execPath, BIN, 'serve'];
  const strace = spawn('strace', args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => strace.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (strace.exitCode === null && strace.signalCode === null) strace.kill('SIGKILL');
  });
  const logs = new LogCollector();
  let stderr = '';
  strace.stdout.setEncoding('utf8').on('data', (s: string) => logs.push(s));
  strace.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));

  const listening = await Promise.race([
    logs.waitFor((l) => l.msg === 'listening', 20_000, 'the "listening" line'),
    exited.then((code) => assert.fail(`the service exited (${code}) before listening: ${stderr.trim()}`)),
  ]);
  const url = listening.url as string;
  const announced = await logs.waitFor((l) => typeof l.amnesia_dir === 'string', 1_000, 'the amnesia_dir line');
  const dir = announced.amnesia_dir as string;
  assert.match(dir, /^\/dev\/shm\/rewarder-\d+-[0-9a-f]+$/, 'the default AMNESIA_DIR is a fresh directory under /dev/shm');
  assert.equal(statSync(dir).mode & 0o777, 0o700, 'AMNESIA_DIR is private to its owner');
  assert.ok(isMemoryFs(statfsSync(dir).type), 'AMNESIA_DIR is on a memory filesystem');

  // seal → compute → settle
  const inputs = await put(url, '/inputs', readFileSync(S_INPUTS));
  assert.equal(inputs.status, 201, inputs.text);
  const policy = await put(url, '/policies', readFileSync(S_POLICY));
  assert.equal(policy.status, 201, policy.text);
  const p = policy.json<{ policy_id: string; policy_hash: string }>();
  const run = await post(url, '/epochs/amnesia-1/compute', {
    inputs_cid: inputs.json<{ inputs_cid: string }>().inputs_cid,
    policy_id: p.policy_id,
    policy_hash: p.policy_hash,
  });
  assert.ok(run.status === 200 || run.status === 202, `compute → ${run.status} ${run.text.slice(0, 300)}`);
  const runKey = run.json<{ run_key: string }>().run_key;
  let parts = await stub.admin.parts({ run_key: runKey });
  await until(
    async () => {
      parts = await stub.admin.parts({ run_key: runKey });
      return parts.length > 0 && parts.length === parts[0]?.part.count;
    },
    15_000,
    'every ledger part of the run at the stub',
    100,
  );
  assert.ok(parts.every((x) => x.conflicts === 0), 'no part conflicted at the ledger');

  // a burst beyond TENANT_RPS_MAX: the 429s are audited, to AMNESIA_DIR/audit
  await new Promise((r) => setTimeout(r, 1_100));
  const burst = await Promise.all(Array.from({ length: 12 }, () => get(url, `/epochs/amnesia-1`)));
  assert.ok(burst.some((r) => r.status === 429), 'the burst was rate limited');
  await until(() => existsSync(join(dir, 'audit')) && readdirSync(join(dir, 'audit')).length > 0, 5_000, 'an audit file');
  const auditFile = join(dir, 'audit', readdirSync(join(dir, 'audit'))[0] as string);
  await until(() => readFileSync(auditFile, 'utf8').includes('"rate_limited"'), 5_000, 'a rate_limited audit line');

  // SIGTERM to the service itself (strace forwards nothing; it exits with its tracee's status)
  process.kill(await tracedPid(strace.pid as number), 'SIGTERM');
  const code = await withTimeout(exited, 20_000, 'the traced service to exit after SIGTERM');
  assert.equal(code, 0, `exit code after SIGTERM: ${stderr.trim()}`);
  assert.equal(existsSync(dir), false, 'AMNESIA_DIR is removed on exit');

  const changes = fileChanges(readTrace(prefix), ROOT);
  // The trace saw the service's own writes (else an empty list would prove nothing)...
  assert.ok(
    changes.some((c) => c.path === auditFile),
    `the trace records the audit file being written\n${changes.map((c) => c.line).join('\n')}`,
  );
  assert.ok(changes.some((c) => c.syscall === 'mkdir' && c.path === dir), 'the trace records AMNESIA_DIR being created');
  // ...and every one of them is inside AMNESIA_DIR (writing to /dev/null changes nothing).
  const outside = changes.filter((c) => !isWithin(c.path, dir) && c.path !== '/dev/null');
  assert.deepEqual(
    outside.map((c) => c.line),
    [],
    'files created, changed or removed outside AMNESIA_DIR',
  );
});

test('a micronode refuses, in one line, an AMNESIA_DIR that is not on tmpfs, and creates nothing there', async () => {
  assert.ok(!isMemoryFs(statfsSync(ROOT).type), 'this test needs the repository on a disk-backed filesystem');
  const dir = join(ROOT, `.amnesia-refused-${process.pid}`);
  const r = await runServeToExit({ AUTH: 'off', AMNESIA_DIR: dir });
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
  assert.match(lines[0] as string, /^rewarder: cannot start: AMNESIA_DIR .* is on .*, not tmpfs or ramfs/);
  assert.equal(existsSync(dir), false, 'nothing was created at the refused path');
});

test('a micronode given an AMNESIA_DIR under /dev/shm creates it 0700 and removes it after SIGINT', async (t) => {
  const dir = `/dev/shm/rewarder-given-${process.pid}`;
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const s = await spawnServer({ AUTH: 'off', AMNESIA_DIR: dir });
  t.after(() => s.stop());
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal((await get(s.url, '/readyz')).status, 200);
  s.child.kill('SIGINT');
  const e = await withTimeout(s.exited, 15_000, 'exit after SIGINT');
  assert.equal(e.code, 0);
  assert.equal(existsSync(dir), false, 'AMNESIA_DIR is gone after exit');
});
