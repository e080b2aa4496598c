import assert from 'node:assert/strict';
import crypto, { createHash } from 'node:crypto';
import { syncBuiltinESMExports } from 'node:module';
import { test, mock } from 'node:test';
import { AppError } from '../errors.js';
import { parseTokensFile, tokenFingerprint, TokenVerifier, type TokenEntry } from './auth.js';

const sha = (token: string): string => createHash('sha256').update(token).digest('hex');

const RUNNER = 'run-token-0123456789abcdef';
const INSPECTOR = 'inspect-token-fedcba9876543210';
const ENTRIES: TokenEntry[] = [
  { tenant: 'acme', scopes: ['rewarder.run', 'rewarder.inspect'], programs: ['acme-poc'], sha256: sha(RUNNER) },
  { tenant: 'globex', scopes: ['rewarder.inspect'], programs: ['*'], sha256: sha(INSPECTOR) },
];
const KEY = Buffer.from('audit-key-for-tests');

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

function assertNoToken(err: AppError, token: string): void {
  const visible = JSON.stringify({ message: err.message, details: err.details, headers: err.headers });
  assert.ok(!visible.includes(token), `token leaked: ${visible}`);
  assert.ok(!visible.includes(sha(token)), `token digest leaked: ${visible}`);
}

void test('a known token with the needed scope yields its tenant', () => {
  const v = new TokenVerifier(ENTRIES, KEY);
  assert.deepEqual(v.verify(`Bearer ${RUNNER}`, 'rewarder.run'), { tenant: 'acme', programs: new Set(['acme-poc']) });
  assert.deepEqual(v.verify(`bearer  ${INSPECTOR}`, 'rewarder.inspect'), { tenant: 'globex', programs: new Set(['*']) });
});

void test('a missing, malformed or unknown token is a 401 with WWW-Authenticate: Bearer', () => {
  const v = new TokenVerifier(ENTRIES, KEY);
  const cases: [string | undefined, string][] = [
    [undefined, 'missing_token'],
    ['', 'missing_token'],
    [`Basic ${Buffer.from('a:b').toString('base64')}`, 'malformed_authorization'],
    ['Bearer', 'malformed_authorization'],
    [`Bearer ${RUNNER} extra`, 'malformed_authorization'],
    [`Bearer ${'x'.repeat(5000)}`, 'malformed_authorization'],
    [`Bearer ${RUNNER}x`, 'unknown_token'],
  ];
  for (const [header, reason] of cases) {
    const err = refusal(() => v.verify(header, 'rewarder.inspect'));
    assert.equal(err.code, 'UNAUTHENTICATED', String(header));
    assert.equal(err.status, 401);
    assert.equal(err.details.reason, reason, String(header));
    assert.deepEqual(err.headers, { 'WWW-Authenticate': 'Bearer' });
  }
});

void test('a known token without the needed scope is a 403', () => {
  const v = new TokenVerifier(ENTRIES, KEY);
  const err = refusal(() => v.verify(`Bearer ${INSPECTOR}`, 'rewarder.seal'));
  assert.equal(err.code, 'FORBIDDEN');
  assert.equal(err.status, 403);
  assert.deepEqual(err.details, { reason: 'missing_scope', scope: 'rewarder.seal' });
});

void test('no refusal repeats the presented token or its digest', () => {
  const v = new TokenVerifier(ENTRIES, KEY);
  for (const token of [INSPECTOR, 'some-unknown-token-value']) {
    assertNoToken(refusal(() => v.verify(`Bearer ${token}`, 'rewarder.seal')), token);
  }
  assertNoToken(refusal(() => v.verify(`Token ${RUNNER}`, 'rewarder.run')), RUNNER);
});

void test('the presented token is compared with every stored digest, even after a match', () => {
  const many = [...ENTRIES, ...['a', 'b', 'c'].map((t) => ({ tenant: t, scopes: ['rewarder.run' as const], programs: ['default'], sha256: sha(t) }))];
  const v = new TokenVerifier(many, KEY);
  const spy = mock.method(crypto, 'timingSafeEqual');
  syncBuiltinESMExports();
  try {
    v.verify(`Bearer ${RUNNER}`, 'rewarder.run'); // matches the first entry
    assert.equal(spy.mock.callCount(), many.length);
    for (const call of spy.mock.calls) {
      const [a, b] = call.arguments as [Buffer, Buffer];
      assert.equal(a.byteLength, 32);
      assert.equal(b.byteLength, 32);
    }
  } finally {
    spy.mock.restore();
    syncBuiltinESMExports();
  }
});

void test('identify gives the audit log a fingerprint, and the tenant only for a known token', () => {
  const v = new TokenVerifier(ENTRIES, KEY);
  assert.deepEqual(v.identify(`Bearer ${INSPECTOR}`), { tenant: 'globex', fingerprint: tokenFingerprint(INSPECTOR, KEY) });
  assert.deepEqual(v.identify('Bearer nobody-knows-me'), { fingerprint: tokenFingerprint('nobody-knows-me', KEY) });
  assert.deepEqual(v.identify('Basic abc'), {});
  assert.deepEqual(v.identify(undefined), {});
});

void test('replace swaps every entry at once and keeps the old ones when the new list is invalid', () => {
  const v = new TokenVerifier(ENTRIES, KEY);
  assert.deepEqual(v.tenants(), ['acme', 'globex']);
  v.replace([{ tenant: 'initech', scopes: ['rewarder.run'], programs: ['ini'], sha256: sha(RUNNER) }]);
  assert.deepEqual(v.verify(`Bearer ${RUNNER}`, 'rewarder.run'), { tenant: 'initech', programs: new Set(['ini']) });
  assert.throws(() => v.verify(`Bearer ${INSPECTOR}`, 'rewarder.inspect'), /unknown bearer token/);
  const bad = { tenant: 'x', scopes: ['rewarder.run' as const], programs: ['*'], sha256: 'nothex' };
  assert.throws(() => v.replace([bad]), /sha256/);
  assert.deepEqual(v.tenants(), ['initech']);
});

void test('fingerprints are short hex, stable per key, differ across keys and do not reveal the token', () => {
  const fp = tokenFingerprint(RUNNER, KEY);
  assert.match(fp, /^[0-9a-f]{16}$/);
  assert.equal(tokenFingerprint(RUNNER, KEY), fp);
  assert.notEqual(tokenFingerprint(RUNNER, Buffer.from('another key')), fp);
  assert.notEqual(tokenFingerprint(INSPECTOR, KEY), fp);
  assert.ok(!sha(RUNNER).startsWith(fp), 'an unkeyed digest prefix would allow offline guessing');
});

void test('parseTokensFile accepts a valid file and normalises digests to lowercase', () => {
  const text = JSON.stringify([
    { tenant: 'acme', scopes: ['rewarder.run', 'rewarder.run', 'rewarder.seal'], programs: ['acme-poc', 'acme_2', 'acme-poc'], sha256: sha(RUNNER).toUpperCase() },
    { tenant: 'globex', scopes: ['rewarder.inspect'], sha256: sha(INSPECTOR) },
  ]);
  const entries = parseTokensFile(text);
  assert.deepEqual(entries, [
    { tenant: 'acme', scopes: ['rewarder.run', 'rewarder.seal'], programs: ['acme-poc', 'acme_2'], sha256: sha(RUNNER) },
    // Without `programs` a token holds only `default`, the program of epoch ids without a `:`.
    { tenant: 'globex', scopes: ['rewarder.inspect'], programs: ['default'], sha256: sha(INSPECTOR) },
  ]);
  assert.equal(new TokenVerifier(entries).verify(`Bearer ${RUNNER}`, 'rewarder.seal').tenant, 'acme');
});

void test('parseTokensFile refuses bad content with a one-line message naming the problem', () => {
  const ok = { tenant: 'acme', scopes: ['rewarder.run'], sha256: sha(RUNNER) };
  const cases: [string, unknown, RegExp][] = [
    ['duplicate digest', [ok, { ...ok, tenant: 'other', sha256: sha(RUNNER).toUpperCase() }], /\[1\]\.sha256: same token as \[0\]/],
    ['bad hex', [{ ...ok, sha256: 'zz'.repeat(32) }], /\[0\]\.sha256: expected 64 hex/],
    ['short hex', [{ ...ok, sha256: 'ab'.repeat(31) }], /\[0\]\.sha256/],
    ['unknown scope', [{ ...ok, scopes: ['rewarder.root'] }], /\[0\]\.scopes\[0\]/],
    ['no scope', [{ ...ok, scopes: [] }], /\[0\]\.scopes: expected at least one scope/],
    ['unknown field', [{ ...ok, token: RUNNER }], /\[0\]/],
    ['bad tenant', [{ ...ok, tenant: 'a b' }], /\[0\]\.tenant/],
    ['bad program', [{ ...ok, programs: ['Acme'] }], /\[0\]\.programs\[0\]: expected a program name/],
    ['no program', [{ ...ok, programs: [] }], /\[0\]\.programs: expected at least one program/],
    ['not an array', { tokens: [ok] }, /tokens file/],
  ];
  for (const [name, content, pattern] of cases) {
    assert.throws(
      () => parseTokensFile(JSON.stringify(content)),
      (err: Error) => {
        assert.match(err.message, pattern, name);
        assert.ok(!err.message.includes('\n'), `${name}: multi-line message`);
        assert.ok(!err.message.includes(RUNNER), `${name}: message repeats a token`);
        return true;
      },
    );
  }
  assert.throws(() => parseTokensFile(`[${RUNNER}]`), (err: Error) => {
    assert.equal(err.message, 'tokens file: not valid JSON');
    return true;
  });
});
