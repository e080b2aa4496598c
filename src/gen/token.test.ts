import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calculate } from '../core/calculus.js';
import { decodeInputs } from '../core/inputs.js';
import { decodePolicy } from '../core/policy.js';
import { generate } from './generate.js';
import { generateProfile, isProfile } from './profiles.js';
import { TOKEN_KINDS, generateToken } from './token.js';

const text = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(b);

function run(scale: 'S' | 'M', seed = 1) {
  const g = generateToken({ scale, seed, form: 'columnar' });
  const inputs = decodeInputs(g.inputs);
  const policy = decodePolicy(g.policy);
  assert.ok(inputs.ok && policy.ok, 'token documents decode under SPEC §2 and §3');
  const calc = calculate(inputs.value, policy.value);
  assert.ok(calc.ok, 'token documents compute without an invariant breach');
  return { g, inputs: inputs.value, policy: policy.value, calc: calc.value };
}

test('the token profile is deterministic and differs from the default profile', () => {
  const a = generateToken({ scale: 'S', seed: 7, form: 'row' });
  const b = generateToken({ scale: 'S', seed: 7, form: 'row' });
  assert.deepEqual(a, b);
  assert.notDeepEqual(generateToken({ scale: 'S', seed: 8, form: 'row' }).inputs, a.inputs);
  assert.notDeepEqual(generate({ scale: 'S', seed: 7, form: 'row' }).inputs, a.inputs);
  assert.deepEqual(generateProfile({ profile: 'token', scale: 'S', seed: 7, form: 'row' }), a);
  assert.deepEqual(generateProfile({ profile: 'gen', scale: 'S', seed: 7, form: 'row' }), generate({ scale: 'S', seed: 7, form: 'row' }));
  assert.ok(isProfile('token') && isProfile('gen') && !isProfile('Token'));
});

test('row and columnar token documents yield the same payouts', () => {
  const row = decodeInputs(generateToken({ scale: 'S', seed: 3, form: 'row' }).inputs);
  const { calc, policy } = run('S', 3);
  assert.ok(row.ok);
  const fromRow = calculate(row.value, policy);
  assert.ok(fromRow.ok);
  assert.deepEqual(fromRow.value.payees, calc.payees);
});

test('token M has the shapes of a token program: 18-decimal pool, long ids, ~99 % paid, T above 2^53', () => {
  const { g, inputs, policy, calc } = run('M');
  assert.ok(inputs.poolMinor >= 10n ** 21n, 'pool of at least 1,000 tokens of 18 decimals');
  assert.deepEqual(inputs.kinds, [...TOKEN_KINDS]);
  const addresses = inputs.actors.filter((a) => /^0x[0-9a-f]{40}$/.test(a)).length;
  const dids = inputs.actors.filter((a) => /^did:key:z6Mk[1-9A-HJ-NP-Za-km-z]{12}$/.test(a)).length;
  assert.equal(addresses + dids, inputs.actors.length, 'every id is a 42-byte address or a 24-byte did:key');
  assert.ok(addresses > 4000 && dids > 4000, 'both id shapes are common');
  assert.equal(policy.rounding, 'largest_remainder');
  assert.equal(policy.minPayoutMinor, 10n ** 12n);
  const paid = calc.counts.payees / calc.counts.actors;
  assert.ok(paid > 0.985 && paid < 1, `~99 % of actors paid (${paid})`);
  const total = calc.payees.reduce((t, p) => t + p.score, 0n);
  assert.ok(total > BigInt(Number.MAX_SAFE_INTEGER), 'T exceeds 2^53');
  const median = calc.payees.map((p) => p.amount).sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))[calc.payees.length >> 1] as bigint;
  assert.ok(median >= 10n ** 16n && median < 10n ** 20n, `typical amount ~10^17 (${median})`);
  assert.ok(calc.totals.capped > 0n, 'the ceiling binds');
  assert.ok(calc.counts.excludedActors === 1, 'one listed exclusion is present, the other absent');
  assert.ok(text(g.policy).includes('"cap":'), 'a kind cap binds');
});
