// Hostile and malformed documents: each is refused with one line naming the JSON path and the
// reason, quickly, without a crash or unbounded recursion.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { decodeInputs } from './inputs.js';
import { decodePolicy } from './policy.js';
import { formatDocError } from './result.js';
import { seal } from './run.js';

const dir = new URL('../../../vectors/example/', import.meta.url);
const INPUTS = readFileSync(new URL('inputs.json', dir), 'utf8');
const POLICY = readFileSync(new URL('policy.json', dir), 'utf8');
const enc = (s: string) => new TextEncoder().encode(s);

function inputsError(doc: string | Uint8Array, limits?: Parameters<typeof decodeInputs>[1]): string {
  const r = decodeInputs(typeof doc === 'string' ? enc(doc) : doc, limits);
  assert.ok(!r.ok, 'document was accepted');
  const line = formatDocError(r.error);
  assert.ok(!line.includes('\n'), 'error is one line');
  return line;
}

function policyError(doc: string | Uint8Array): string {
  const r = decodePolicy(typeof doc === 'string' ? enc(doc) : doc);
  assert.ok(!r.ok, 'policy was accepted');
  return formatDocError(r.error);
}

/** Replaces exactly one occurrence, so a typo in a test cannot silently leave the document valid. */
function edit(doc: string, from: string, to: string): string {
  const i = doc.indexOf(from);
  assert.ok(i >= 0 && doc.indexOf(from, i + 1) === -1, `"${from}" occurs exactly once`);
  return doc.slice(0, i) + to + doc.slice(i + from.length);
}

const ALICE_EVENT = '{"actor":"did:ron:alice","kind":"bytes_served","qty":4000,"ts":1767225600000}';
const bytesWith = (doc: string, marker: string, raw: number[]): Uint8Array => {
  const [a, b] = doc.split(marker) as [string, string];
  return Buffer.concat([Buffer.from(a), Buffer.from(raw), Buffer.from(b)]);
};

test('the unmodified example documents are accepted (the baseline for every case below)', () => {
  assert.ok(decodeInputs(enc(INPUTS)).ok);
  assert.ok(decodePolicy(enc(POLICY)).ok);
});

test('duplicate member names are refused at every level', () => {
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', '"pool_minor":"1000","pool_minor":"1000"')), '$.pool_minor: duplicate member name');
  assert.equal(inputsError(edit(INPUTS, '"end_ms":1767312000000', '"end_ms":1767312000000,"end_ms":1767312000001')), '$.window.end_ms: duplicate member name');
  assert.equal(inputsError(edit(INPUTS, ALICE_EVENT, '{"actor":"did:ron:alice","kind":"bytes_served","qty":4000,"qty":1,"ts":1767225600000}')), '$.events[0].qty: duplicate member name');
  assert.match(policyError(edit(POLICY, '"weight":3', '"weight":3,"weight":4')), /^\$: duplicate member name \(at byte \d+\)$/);
});

test('escaped member names count as the names they decode to', () => {
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', '"pool_minor":"1000","pool\\u005fminor":"1000"')), '$.pool_minor: duplicate member name');
});

test('lone surrogate escapes are refused', () => {
  assert.match(inputsError(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin\\ud800"]')), /^\$\.actors\[4\]: lone surrogate escape \(at byte \d+\)$/);
  assert.match(inputsError(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin\\udc00x"]')), /^\$\.actors\[4\]: lone surrogate escape/);
  assert.match(inputsError(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin\\ud800\\u0041"]')), /^\$\.actors\[4\]: lone surrogate escape/);
});

test('a valid escaped surrogate pair is accepted as one character', () => {
  const r = decodeInputs(enc(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin","did:ron:\\ud83d\\ude00"]')));
  assert.ok(r.ok);
  assert.equal(r.value.actors[5], 'did:ron:😀');
});

test('numbers that are not plain non-negative integers are refused', () => {
  assert.match(inputsError(edit(INPUTS, '"qty":4000,', '"qty":4000.5,')), /^\$\.events\[0\]\.qty: number must be an integer/);
  assert.match(inputsError(edit(INPUTS, '"qty":4000,', '"qty":4e3,')), /^\$\.events\[0\]\.qty: number must be an integer/);
  assert.match(inputsError(edit(INPUTS, '"qty":4000,', '"qty":-4000,')), /^\$\.events\[0\]\.qty: negative numbers are not allowed/);
  assert.match(inputsError(edit(INPUTS, '"qty":4000,', '"qty":04000,')), /^\$\.events\[0\]\.qty: leading zeros are not allowed/);
  assert.match(inputsError(edit(INPUTS, '"qty":4000,', '"qty":"4000",')), /^\$\.events\[0\]\.qty: invalid JSON, expected an integer/);
});

test('integers beyond 2^53-1 are refused and 2^53-1 itself is accepted', () => {
  assert.ok(decodeInputs(enc(edit(INPUTS, '"qty":4000,', '"qty":9007199254740991,'))).ok);
  assert.match(inputsError(edit(INPUTS, '"qty":4000,', '"qty":9007199254740992,')), /^\$\.events\[0\]\.qty: integer out of range \(max 2\^53-1\)/);
  assert.match(inputsError(edit(INPUTS, '"qty":4000,', '"qty":100000000000000000000,')), /integer out of range/);
});

test('invalid UTF-8 is refused: stray, overlong, encoded surrogate, truncated', () => {
  for (const raw of [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]]) {
    const doc = bytesWith(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin","did:ron:zz@"]'), '@', raw);
    assert.match(inputsError(doc), /^\$\.actors\[5\]: invalid UTF-8 \(at byte \d+\)$/, `bytes ${raw}`);
  }
});

test('unknown members are refused at every level', () => {
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', '"pool_minor":"1000","bonus":1')), '$[member 3]: unknown member');
  assert.equal(inputsError(edit(INPUTS, '"end_ms":1767312000000', '"end_ms":1767312000000,"tz":0')), '$.window[member 2]: unknown member');
  assert.equal(inputsError(edit(INPUTS, ALICE_EVENT, '{"actor":"did:ron:alice","kind":"bytes_served","qty":4000,"ts":1767225600000,"x":1}')), '$.events[0][member 4]: unknown member');
  assert.equal(policyError(edit(POLICY, '"weight":3', '"weight":3,"bonus":1')), '$.kinds.requests[member 1]: unknown member');
  assert.equal(policyError(edit(POLICY, '"id":"example-1"', '"id":"example-1","x y":1')), '$[member 2]: unknown member');
});

test('missing members are named', () => {
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000",', '')), '$.pool_minor: missing member');
  assert.equal(inputsError(edit(INPUTS, ',"end_ms":1767312000000', '')), '$.window.end_ms: missing member');
  assert.equal(inputsError(edit(INPUTS, ALICE_EVENT, '{"actor":"did:ron:alice","kind":"bytes_served","ts":1767225600000}')), '$.events[0].qty: missing member');
  assert.equal(policyError(edit(POLICY, '"rounding":"largest_remainder",', '')), '$.rounding: missing member');
});

test('the bounds of SPEC §2 are enforced on inputs', () => {
  const kinds65 = Array.from({ length: 65 }, (_, i) => `"k${i}"`).join(',');
  assert.equal(inputsError(edit(INPUTS, '"kinds":["bytes_served","requests","uptime_s"]', `"kinds":[${kinds65}]`)), '$.kinds[64]: more than 64 kinds');
  assert.equal(inputsError(edit(INPUTS, '"kinds":["bytes_served","requests","uptime_s"]', '"kinds":[]')), '$.kinds: at least one kind is required');
  assert.equal(inputsError(edit(INPUTS, '"requests","uptime_s"]', '"Requests","uptime_s"]')), '$.kinds[1]: kind must match ^[a-z][a-z0-9_]{0,63}$');
  assert.equal(inputsError(edit(INPUTS, '"requests","uptime_s"]', '"requests","requests"]')), '$.kinds[2]: duplicate kind');
  assert.equal(inputsError(edit(INPUTS, '"did:ron:dave","did:ron:erin"]', '"did:ron:erin","did:ron:dave"]')), '$.actors[4]: actors must be strictly ascending by UTF-8 bytes');
  assert.equal(inputsError(edit(INPUTS, '"did:ron:dave","did:ron:erin"]', '"did:ron:dave","did:ron:dave"]')), '$.actors[4]: duplicate actor');
  // Order across raw ASCII, escaped and non-ASCII ids: UTF-8 bytes, whichever comparison runs.
  const tail = (ids: string) => edit(INPUTS, '"did:ron:erin"]', `"did:ron:erin",${ids}]`);
  assert.ok(decodeInputs(enc(tail('"did:ron:z","did:ron:z\\u0041","did:ron:zb","did:ron:z\uE000","did:ron:z\u{10000}"'))).ok);
  assert.equal(inputsError(tail('"did:ron:z\u{10000}","did:ron:z\uE000"')), '$.actors[6]: actors must be strictly ascending by UTF-8 bytes');
  assert.equal(inputsError(tail('"did:ron:zA","did:ron:z\\u0041"')), '$.actors[6]: duplicate actor');
  assert.equal(inputsError(tail('"did:ron:z\\u0041","did:ron:zA"')), '$.actors[6]: duplicate actor');
  assert.equal(inputsError(tail('"did:ron:zb","did:ron:za"')), '$.actors[6]: actors must be strictly ascending by UTF-8 bytes');
  assert.equal(inputsError(edit(INPUTS, '"did:ron:erin"]', `"did:ron:erin","${'z'.repeat(257)}"]`)), '$.actors[5]: actor id longer than 256 bytes');
  assert.ok(decodeInputs(enc(edit(INPUTS, '"did:ron:erin"]', `"did:ron:erin","${'z'.repeat(256)}"]`))).ok);
  assert.equal(inputsError(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin",""]')), '$.actors[5]: actor id must not be empty');
  assert.equal(inputsError(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin","did:ron:z\\u0001"]')), '$.actors[5]: actor id contains a control character');
  assert.equal(inputsError(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin","did:ron:z\\u0085"]')), '$.actors[5]: actor id contains a control character');
  assert.equal(inputsError(edit(INPUTS, '"start_ms":1767225600000', '"start_ms":1767312000000')), '$.window: start_ms must be less than end_ms');
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', '"pool_minor":"01000"')), '$.pool_minor: money must be decimal digits without sign, exponent or leading zeros');
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', `"pool_minor":"${(1n << 128n).toString()}"`)), '$.pool_minor: money exceeds 2^128-1');
  assert.ok(decodeInputs(enc(edit(INPUTS, '"pool_minor":"1000"', `"pool_minor":"${((1n << 128n) - 1n).toString()}"`))).ok);
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', '"pool_minor":1000')), '$.pool_minor: invalid JSON, expected a money string (at byte 103)');
  assert.equal(inputsError(edit(INPUTS, '"schema":"rewarder.inputs/v1"', '"schema":"rewarder.inputs/v2"')), '$.schema: expected "rewarder.inputs/v1"');
});

test('events must name listed actors and kinds, in either order of the document', () => {
  assert.equal(inputsError(edit(INPUTS, ALICE_EVENT, ALICE_EVENT.replace('did:ron:alice', 'did:ron:mallory'))), '$.events[0].actor: actor is not listed in actors');
  assert.equal(inputsError(edit(INPUTS, ALICE_EVENT, ALICE_EVENT.replace('bytes_served', 'gold'))), '$.events[0].kind: kind is not listed in kinds');
  // Events before the lists: names are resolved once the lists arrive.
  const doc = JSON.parse(INPUTS) as Record<string, unknown>;
  const reordered = JSON.stringify({ events: doc.events, schema: doc.schema, window: doc.window, pool_minor: doc.pool_minor, kinds: doc.kinds, actors: doc.actors });
  assert.ok(decodeInputs(enc(reordered)).ok);
  const bad = reordered.replace('"actor":"did:ron:bob"', '"actor":"did:ron:bobby"');
  assert.equal(inputsError(bad), '$.events[2].actor: actor is not listed in actors');
});

test('columnar events: unequal columns and indices out of range are refused', () => {
  const base = '{"schema":"rewarder.inputs/v1","window":{"start_ms":0,"end_ms":10},"pool_minor":"10","kinds":["a"],"actors":["x","y"],"events":EV}';
  assert.ok(decodeInputs(enc(base.replace('EV', '{"actor":[0,1],"kind":[0,0],"qty":[1,2],"ts":[1,2]}'))).ok);
  assert.equal(inputsError(base.replace('EV', '{"actor":[0,1],"kind":[0],"qty":[1,2],"ts":[1,2]}')), '$.events.kind: columns must all have the same length');
  assert.equal(inputsError(base.replace('EV', '{"actor":[0,2],"kind":[0,0],"qty":[1,2],"ts":[1,2]}')), '$.events.actor[1]: actor index out of range');
  assert.equal(inputsError(base.replace('EV', '{"actor":[0,1],"kind":[0,1],"qty":[1,2],"ts":[1,2]}')), '$.events.kind[1]: kind index out of range');
  assert.equal(inputsError(base.replace('EV', '{"actor":[0,1],"kind":[0,0],"qty":[1,2]}')), '$.events.ts: missing member');
  assert.equal(inputsError(base.replace('EV', '{"actor":[0,1],"kind":[0,0],"qty":[1,2],"ts":[1,2],"w":[]}')), '$.events[member 4]: unknown member');
  assert.equal(inputsError(base.replace('EV', '"none"')), '$.events: invalid JSON, expected an array (row form) or an object (columnar form) (at byte 127)');
});

test('configured size bounds (bytes, actors, events) are enforced', () => {
  const limits = { maxBytes: 1 << 20, maxActors: 4, maxEvents: 1000 };
  assert.equal(inputsError(INPUTS, limits), '$.actors[4]: more than 4 actors (configured limit)');
  assert.equal(inputsError(INPUTS, { ...limits, maxActors: 10, maxEvents: 7 }), '$.events[7]: more than 7 events (configured limit)');
  assert.equal(inputsError(INPUTS, { ...limits, maxBytes: 100 }), `$: document is ${enc(INPUTS).length} bytes, limit is 100`);
});

test('100k-deep nesting is refused quickly without exhausting the stack', () => {
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', `"pool_minor":${deep}`)), '$.pool_minor: invalid JSON, expected a money string (at byte 103)');
  assert.match(inputsError(`{"events":[${deep}]}`), /^\$\.events\[0\]: invalid JSON, expected an event object/);
  assert.match(policyError(`{"kinds":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`), /^\$: nesting deeper than 64 levels/);
  const sealed = seal(enc(`{"x":${deep},"schema":"rewarder.inputs/v1"}`));
  assert.ok(!sealed.ok);
  assert.match(formatDocError(sealed.error), /nesting deeper than 64 levels/);
});

test('a 50 MB string is refused with one line and nothing echoed', () => {
  const huge = 'a'.repeat(50 * 1024 * 1024);
  const line = inputsError(edit(INPUTS, '"did:ron:erin"]', `"did:ron:erin","${huge}"]`), { maxBytes: 64 << 20, maxActors: 10, maxEvents: 10 });
  assert.equal(line, '$.actors[5]: actor id longer than 256 bytes');
  assert.match(policyError(edit(POLICY, '"example-1"', `"${huge}"`)), /^\$: document is \d+ bytes, limit is 1048576$/);
});

test('syntax damage is refused: BOM, empty, truncated, trailing data, non-object', () => {
  assert.equal(inputsError(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(INPUTS)])), '$: a byte order mark is not allowed (at byte 0)');
  assert.equal(inputsError(''), '$: unexpected end of document, expected a JSON object (at byte 0)');
  assert.match(inputsError(INPUTS.slice(0, 200)), /unexpected end of document|unterminated string/);
  assert.equal(inputsError(`${INPUTS} {}`), `$: unexpected data after the document (at byte ${enc(INPUTS).length + 1})`);
  assert.equal(inputsError('[1]'), '$: invalid JSON, expected a JSON object (at byte 0)');
  assert.match(inputsError(edit(INPUTS, '"did:ron:erin"]', '"did:ron:erin\x01"]')), /^\$\.actors\[4\]: control character in string/);
});

test('policy rules of SPEC §3 are enforced with their paths', () => {
  assert.equal(policyError(edit(POLICY, '"id":"example-1"', '"id":"ex ample"')), '$.id: id must match ^[A-Za-z0-9._:-]{1,128}$');
  assert.equal(policyError(edit(POLICY, '"largest_remainder"', '"ceil"')), '$.rounding: rounding must be "floor" or "largest_remainder"');
  assert.equal(policyError(edit(POLICY, '"divisor":4,', '"divisor":0,')), '$.kinds.bytes_served.divisor: must be between 1 and 4294967295');
  assert.equal(policyError(edit(POLICY, '"weight":3', '"weight":4294967296')), '$.kinds.requests.weight: must be between 0 and 4294967295');
  assert.equal(policyError(edit(POLICY, '"requests":{"weight":3}', '"requests":{"divisor":3}')), '$.kinds.requests.weight: missing member');
  assert.equal(policyError(edit(POLICY, '"requests":{"weight":3}', '"Requests":{"weight":3}')), '$.kinds[member 2]: kind must match ^[a-z][a-z0-9_]{0,63}$');
  assert.equal(policyError(edit(POLICY, '"max_payout_minor":"400"', '"max_payout_minor":"-400"')), '$.max_payout_minor: money must be decimal digits without sign, exponent or leading zeros');
  assert.equal(policyError(edit(POLICY, '"exclude":["did:ron:dave"]', '"exclude":["did:ron:dave","did:ron:carol"]')), '$.exclude[1]: exclude must be strictly ascending by UTF-8 bytes');
  assert.equal(policyError(edit(POLICY, '"exclude":["did:ron:dave"]', '"exclude":"did:ron:dave"')), '$.exclude: expected an array of actor ids');
  assert.match(policyError(edit(POLICY, '"weight":3', '"weight":3.0')), /^\$: number must be an integer \(at byte \d+\)$/);
  const kinds65 = Array.from({ length: 65 }, (_, i) => `"k${i}":{"weight":1}`).join(',');
  assert.equal(policyError(`{"schema":"rewarder.policy/v1","id":"p","rounding":"floor","kinds":{${kinds65}}}`), '$.kinds: more than 64 kinds');
});

test('a member named __proto__ is data, not a prototype change', () => {
  assert.equal(policyError(edit(POLICY, '"requests":{"weight":3}', '"__proto__":{"weight":3}')), '$.kinds[member 2]: kind must match ^[a-z][a-z0-9_]{0,63}$');
  assert.equal(inputsError(edit(INPUTS, '"pool_minor":"1000"', '"pool_minor":"1000","__proto__":{}')), '$[member 3]: unknown member');
});

test('columnar integer arrays name the offending element', () => {
  const base = '{"schema":"rewarder.inputs/v1","window":{"start_ms":0,"end_ms":10},"pool_minor":"10","kinds":["a"],"actors":["x","y"],"events":EV}';
  const cols = (qty: string) => `{"actor":[0,1,1],"kind":[0,0,0],"qty":${qty},"ts":[1,2,3]}`;
  assert.ok(decodeInputs(enc(base.replace('EV', cols('[ 1 , 2,\n3 ]')))).ok);
  assert.match(inputsError(base.replace('EV', cols('[1,2.5,3]'))), /^\$\.events\.qty\[1\]: number must be an integer/);
  assert.match(inputsError(base.replace('EV', cols('[1,2,-3]'))), /^\$\.events\.qty\[2\]: negative numbers are not allowed/);
  assert.match(inputsError(base.replace('EV', cols('[1,9007199254740992,3]'))), /^\$\.events\.qty\[1\]: integer out of range/);
  assert.match(inputsError(base.replace('EV', cols('[1,007,3]'))), /^\$\.events\.qty\[1\]: leading zeros are not allowed/);
  assert.match(inputsError(base.replace('EV', cols('[1,2,]'))), /^\$\.events\.qty\[2\]: invalid JSON, expected an integer/);
  assert.match(inputsError(base.replace('EV', cols('[1 2]'))), /^\$\.events\.qty\[1\]: invalid JSON, expected ',' or '\]'/);
  assert.match(inputsError(base.replace('EV', cols('[1,2,3'))), /^\$\.events\.qty\[3\]: invalid JSON, expected an integer/);
  assert.match(inputsError(base.replace('EV', cols('[1,2,3')).split(',"ts"')[0] as string), /^\$\.events\.qty\[3\]: unexpected end of document/);
  assert.equal(inputsError(base.replace('EV', cols('[1,2,3]')), { maxBytes: 1000, maxActors: 10, maxEvents: 2 }), '$.events.actor[2]: more than 2 events (configured limit)');
  const big = decodeInputs(enc(base.replace('EV', cols('[9007199254740991,123456789012345,1234567890123456]'))));
  assert.ok(big.ok);
  assert.deepEqual([...big.value.events.qty], [9007199254740991, 123456789012345, 1234567890123456]);
});

test('errors name client-chosen members by position and never echo their names (SPEC §8)', () => {
  const script = '<script>alert(1)</script>';
  const img = '<img src=x onerror=alert(1)>';
  const cases = [
    inputsError(edit(INPUTS, '"pool_minor":"1000"', `"pool_minor":"1000",${JSON.stringify(script)}:1`)),
    inputsError(edit(INPUTS, ALICE_EVENT, `{"actor":"did:ron:alice",${JSON.stringify(img)}:1,"kind":"bytes_served","qty":4000,"ts":1767225600000}`)),
    policyError(edit(POLICY, '"requests":{"weight":3}', `${JSON.stringify(img)}:{"weight":3}`)),
    policyError(edit(POLICY, '"weight":3', `"weight":3,${JSON.stringify(script)}:1`)),
    policyError(edit(POLICY, '"id":"example-1"', `"id":"example-1",${JSON.stringify(script)}:1`)),
  ];
  assert.deepEqual(cases, [
    '$[member 3]: unknown member',
    '$.events[0][member 1]: unknown member',
    '$.kinds[member 2]: kind must match ^[a-z][a-z0-9_]{0,63}$',
    '$.kinds.requests[member 1]: unknown member',
    '$[member 2]: unknown member',
  ]);
  for (const e of cases) assert.ok(!e.includes('<') && !e.includes('script') && !e.includes('img'), e);
});
