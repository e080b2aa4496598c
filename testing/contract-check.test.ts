// The contract check itself (testing/contract.ts) sees drift: each kind of contradiction between
// an answer and the OpenAPI document is reported, and a conforming answer passes. Without this a
// check that silently accepted everything would keep every system test green.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type Answer, contractProblems } from './contract.js';
import { EXAMPLE } from './harness.js';

const base = { 'x-corr-id': 'c-1', 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };
const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => ({
  status,
  headers: { ...base, 'content-type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(body)),
});
const health = () => json(200, { ok: true });
const manifest = JSON.parse(readFileSync(EXAMPLE.manifest, 'utf8')) as Record<string, unknown>;
const stored = { 'cache-control': 'private, max-age=31536000, immutable', vary: 'Authorization', etag: `"${EXAMPLE.commitment}"`, 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '99' };

test('a conforming answer has no problems, at / and under /rewarder', () => {
  assert.deepEqual(contractProblems('GET', '/healthz', health()), []);
  assert.deepEqual(contractProblems('GET', '/rewarder/epochs/2026-01-01', json(200, manifest, stored)), []);
});

test('an undeclared status is reported', () => {
  assert.match(contractProblems('GET', '/healthz', json(418, { ok: true })).join(), /status 418 is not declared/);
});

test('a missing required header and a header with a wrong value are reported', () => {
  const { 'x-corr-id': _, ...noCorr } = health().headers;
  assert.match(contractProblems('GET', '/healthz', { ...health(), headers: noCorr }).join(), /X-Corr-ID is required but absent/);
  assert.match(contractProblems('GET', '/epochs/e1', json(200, manifest, { ...stored, etag: 'W/"x"' })).join(), /header ETag/);
});

test('a body member of the wrong type, a missing one and an extra one are reported', () => {
  assert.match(contractProblems('GET', '/epochs/e1', json(200, { ...manifest, counts: { ...(manifest.counts as object), payees: '3' } }, stored)).join(), /body\/counts\/payees must be integer/);
  const { commitment: _, ...noCommitment } = manifest;
  assert.match(contractProblems('GET', '/epochs/e1', json(200, noCommitment, stored)).join(), /must have required property 'commitment'/);
  assert.match(contractProblems('GET', '/epochs/e1', json(200, { ...manifest, extra: 1 }, stored)).join(), /must NOT have additional properties/);
});

test('an undeclared content type and a non-JSON body are reported', () => {
  assert.match(contractProblems('GET', '/healthz', { ...health(), headers: { ...base, 'content-type': 'text/html' } }).join(), /Content-Type "text\/html" is not declared/);
  assert.match(contractProblems('GET', '/healthz', { ...health(), body: Buffer.from('ok') }).join(), /not JSON/);
});

test('an error answer must be the envelope with a code of its status', () => {
  const envelope = (code: string) => ({ error: { code, message: 'm', corr_id: 'c-1', details: { reason: 'unknown_epoch' } } });
  assert.deepEqual(contractProblems('GET', '/epochs/e1', json(404, envelope('NOT_FOUND'))), []);
  assert.match(contractProblems('GET', '/epochs/e1', json(404, envelope('CONFLICT'))).join(), /code must be equal to one of the allowed values/);
  assert.match(contractProblems('GET', '/epochs/e1', json(404, { message: 'not found' })).join(), /required property 'error'/);
});

test('outside the document only the router\'s 404 envelope is possible', () => {
  assert.match(contractProblems('GET', '/no-such-route', json(200, {})).join(), /only 404 is possible/);
  assert.deepEqual(contractProblems('GET', '/no-such-route', json(404, { error: { code: 'NOT_FOUND', message: 'no such route', corr_id: 'c-1', details: { reason: 'no_route' } } })), []);
});
