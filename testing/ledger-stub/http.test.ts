// The body pool: buffers are reused only once given back, and never one the pool did not make.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BodyPool } from './http.js';

test('a body pool hands out exactly the size asked, reuses a buffer given back, and never one in use', () => {
  const pool = new BodyPool(2);
  const a = pool.take(1_000);
  const b = pool.take(300_000);
  assert.equal(a.length, 1_000);
  assert.equal(b.length, 300_000);
  assert.notEqual(a.buffer, b.buffer);
  pool.give(a);
  const c = pool.take(2_000);
  assert.equal(c.buffer, a.buffer, 'the free allocation is reused');
  assert.notEqual(pool.take(2_000).buffer, c.buffer, 'a buffer in use is never handed out again');
});

test('a body pool ignores buffers it did not allocate, such as slices of the shared small-Buffer pool', () => {
  const pool = new BodyPool();
  const foreign = Buffer.from('{"part_id":"p"}');
  pool.give(foreign);
  assert.notEqual(pool.take(10).buffer, foreign.buffer);
});

test('a body pool does not keep a body larger than its largest size', () => {
  const pool = new BodyPool(2, 1_000);
  const huge = pool.take(5_000);
  assert.equal(huge.length, 5_000);
  pool.give(huge);
  assert.notEqual(pool.take(5_000).buffer, huge.buffer);
});
