import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.js';
import { BodyIntake, type IntakeSettings } from './intake.js';

const base: IntakeSettings = { maxBodies: 3, maxBodiesPerClient: 2, budgetBytes: 1_000_000, minRateBytesPerSec: 100, graceMs: 1000 };

function intake(over: Partial<IntakeSettings> = {}) {
  let now = 0;
  const refused: string[] = [];
  const i = new BodyIntake(() => ({ ...base, ...over }), () => now);
  i.onRefuse = (r) => refused.push(r);
  return { i, refused, advance: (ms: number) => (now += ms) };
}

const refusal = (status: number, reason: string) => (e: unknown) =>
  e instanceof AppError && e.status === status && e.details.reason === reason && /^[1-9]\d*$/.test(e.headers['Retry-After'] ?? '');

const BIG = 100_000; // above the 64 KiB under which a body first gets a moment to arrive

test('bodies in progress are bounded per client address (429) and in total (503), with Retry-After', (t) => {
  const { i, refused } = intake();
  t.after(() => i.close());
  const a1 = i.begin('10.0.0.1', BIG, false);
  i.begin('10.0.0.1', undefined, false);
  assert.throws(() => i.begin('10.0.0.1', BIG, false), refusal(429, 'bodies_per_client'));
  i.begin('10.0.0.2', BIG, false);
  assert.throws(() => i.begin('10.0.0.3', BIG, false), refusal(503, 'bodies_total'));
  assert.deepEqual(refused, ['bodies_per_client', 'bodies_total']);
  a1.arrived();
  assert.equal(i.fill.bodies, 2, 'an arrived body leaves the count');
  i.begin('10.0.0.3', BIG, false).release();
});

test('a body that has already arrived takes no place and is never refused, even when everything is full', (t) => {
  const { i } = intake({ maxBodies: 1, maxBodiesPerClient: 1, budgetBytes: 150_000 });
  t.after(() => i.close());
  i.begin('10.0.0.1', BIG, false);
  const done = i.begin('10.0.0.1', BIG, true);
  done.account(BIG);
  assert.equal(i.fill.bodies, 1);
  done.release();
  assert.equal(i.fill.bytes, BIG);
});

test('a small body gets a moment to arrive without a place; still arriving after it, it takes one or is refused', (t) => {
  const { i, advance } = intake({ maxBodies: 1 });
  t.after(() => i.close());
  const quick = i.begin('10.0.0.1', 500, false);
  const lingering = i.begin('10.0.0.2', 500, false);
  const late = i.begin('10.0.0.3', 500, false);
  assert.equal(i.fill.bodies, 0);
  quick.account(500);
  quick.arrived();
  advance(150);
  i.sweep();
  assert.equal(i.fill.bodies, 1, 'the lingering one took the only place');
  assert.equal(lingering.signal.aborted, false);
  assert.ok(refusal(503, 'bodies_total')(late.signal.reason), 'the next one found no place');
  late.release();
  lingering.release();
  assert.deepEqual(i.fill, { bodies: 0, bytes: 500, budgetBytes: 1_000_000 });
  quick.release();
  assert.equal(i.fill.bytes, 0);
});

test('a declared length that does not fit the byte budget is refused before any byte (503, Retry-After)', (t) => {
  const { i } = intake();
  t.after(() => i.close());
  const big = i.begin('10.0.0.1', 900_000, false);
  assert.throws(() => i.begin('10.0.0.2', 200_000, false), refusal(503, 'body_budget'));
  big.release();
  assert.equal(i.fill.bytes, 0);
  i.begin('10.0.0.2', 200_000, false).release();
});

test('a chunked body reserves as it arrives and is refused once the budget is spent', (t) => {
  const { i } = intake();
  t.after(() => i.close());
  const a = i.begin('10.0.0.1', undefined, false);
  a.account(600_000);
  const b = i.begin('10.0.0.2', undefined, false);
  b.account(300_000);
  assert.throws(() => b.account(200_000), refusal(503, 'body_budget'));
  a.release();
  b.account(200_000);
  assert.equal(i.fill.bytes, 500_000);
});

test('after the grace, a body below the minimum rate is aborted with 408; a fast one is not', (t) => {
  const { i, advance, refused } = intake();
  t.after(() => i.close());
  const slow = i.begin('10.0.0.1', BIG, false);
  const fast = i.begin('10.0.0.2', BIG, false);
  advance(900);
  slow.account(10);
  fast.account(500);
  i.sweep();
  assert.equal(slow.signal.aborted, false, 'within the grace');
  advance(600);
  fast.account(200);
  i.sweep();
  assert.equal(slow.signal.aborted, true);
  assert.ok(slow.signal.reason instanceof AppError && slow.signal.reason.status === 408 && slow.signal.reason.details.reason === 'body_too_slow');
  assert.equal(fast.signal.aborted, false);
  assert.deepEqual(refused, ['body_too_slow']);
});
