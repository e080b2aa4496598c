import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.js';
import { ComputeBodies } from './compute-body.js';

const enc = (s: string) => new TextEncoder().encode(s);
const CID = `b3:${'1'.repeat(64)}`;
const HASH = `b3:${'2'.repeat(64)}`;
const valid = JSON.stringify({ inputs_cid: CID, policy_id: 'p-1', policy_hash: HASH, deadline_ms: 500 });

function reason(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof AppError);
    assert.equal(e.status, 400);
    return e.details.reason;
  }
  return assert.fail('expected a 400');
}

test('a repeated body answers the same validated request without parsing it again', () => {
  const bodies = new ComputeBodies();
  const first = bodies.parse(enc(valid));
  assert.deepEqual(first, { inputs_cid: CID, policy_id: 'p-1', policy_hash: HASH, deadline_ms: 500 });
  assert.equal(bodies.parse(enc(valid)), first, 'the memoised object, not a new parse');
  assert.ok(Object.isFrozen(first), 'shared between requests, so nobody may change it');
  assert.notEqual(bodies.parse(enc(valid.replace('p-1', 'p-2'))), first);
});

test('invalid bodies are 400s every time and are never remembered', () => {
  const bodies = new ComputeBodies();
  for (let i = 0; i < 2; i++) {
    assert.equal(reason(() => bodies.parse(enc('{"inputs_cid":'))), 'invalid_json');
    assert.equal(reason(() => bodies.parse(enc(valid.replace('"p-1"', '"p 1"')))), 'invalid_request');
    assert.equal(reason(() => bodies.parse(enc(`{"x":1,${valid.slice(1)}`))), 'invalid_request');
    assert.equal(reason(() => bodies.parse(enc(`{"policy_id":"a",${valid.slice(1)}`))), 'invalid_json', 'duplicate member');
  }
});

test('the memo stays bounded', () => {
  const bodies = new ComputeBodies();
  const first = bodies.parse(enc(valid));
  for (let i = 0; i < 1100; i++) bodies.parse(enc(valid.replace('p-1', `p-${i + 10}`)));
  const again = bodies.parse(enc(valid));
  assert.deepEqual(again, first);
  assert.notEqual(again, first, 'the oldest entry was evicted');
});

test('known() answers only bytes validated before, without validating', () => {
  const bodies = new ComputeBodies();
  assert.equal(bodies.known(enc(valid)), undefined, 'not yet validated');
  assert.equal(bodies.known(enc('{"inputs_cid":')), undefined);
  const req = bodies.parse(enc(valid));
  assert.equal(bodies.known(enc(valid)), req);
  assert.equal(bodies.known(enc(` ${valid}`)), undefined, 'other bytes, even of the same request');
  assert.throws(() => bodies.parse(enc('{"inputs_cid":')));
  assert.equal(bodies.known(enc('{"inputs_cid":')), undefined, 'a refused body is never known');
});
