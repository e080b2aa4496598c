// The stub's intent reader scans bytes instead of parsing them; these tests hold it to the answers
// of the straightforward reader it replaced (JSON.parse, then member look-ups), kept here as the
// oracle: on real part bodies, on hand-picked edge cases, and on generated and corrupted documents.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { b3 } from '../../src/core/hash.js';
import { intentParts } from '../../src/core/intents.js';
import type { ManifestHead } from '../../src/core/manifest.js';
import { type IntentReading, readIntent } from './intent.js';

const MONEY = /^(0|[1-9][0-9]*)$/;
const MAX_MONEY = 2n ** 128n - 1n;

/** The reader before the scanner, verbatim in behaviour. */
function oracle(body: Buffer, idempotencyKey: string | undefined): IntentReading {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (!isObject(doc)) return { ok: false, reason: 'not_an_object' };
  const partId = doc['part_id'];
  if (typeof partId !== 'string' || partId === '') return { ok: false, reason: 'missing_part_id' };
  if (idempotencyKey !== partId) return { ok: false, reason: 'idempotency_key_mismatch' };
  const credits = doc['credits'] ?? [];
  if (!Array.isArray(credits)) return { ok: false, reason: 'bad_credits' };
  let sum = 0n;
  for (const credit of credits) {
    const amount = isObject(credit) ? credit['amount_minor'] : undefined;
    if (typeof amount !== 'string' || !MONEY.test(amount) || BigInt(amount) > MAX_MONEY) return { ok: false, reason: 'bad_credits' };
    sum += BigInt(amount);
  }
  const part = isObject(doc['part']) ? doc['part'] : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  const int = (v: unknown) => (Number.isSafeInteger(v) ? (v as number) : null);
  return {
    ok: true,
    intent: {
      part_id: partId,
      run_key: str(doc['run_key']),
      epoch_id: str(doc['epoch_id']),
      part: { index: int(part['index']), count: int(part['count']) },
      credits: credits.length,
      sum_minor: sum.toString(),
      body_b3: b3(body),
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Same reading as the oracle, with the Idempotency-Key the body's own part_id when it has one. */
function agrees(body: Buffer | string, key?: string): void {
  const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let k = key;
  if (k === undefined) {
    try {
      const id = (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>)['part_id'];
      if (typeof id === 'string') k = id;
    } catch {
      // not JSON: any key will do
    }
  }
  assert.deepEqual(readIntent(bytes, k), oracle(bytes, k), bytes.toString('utf8').slice(0, 300));
}

test('reads real part bodies exactly as JSON.parse does: ids, part, credit count, BigInt sum, digest', () => {
  const head = {
    run_key: `b3:${'a'.repeat(64)}`,
    epoch_id: '2026-01-01',
    commitment: `b3:${'c'.repeat(64)}`,
    payouts_root: `b3:${'d'.repeat(64)}`,
  } as ManifestHead;
  const credits = Array.from({ length: 9_000 }, (_, i) => ({ actor: `did:ron:actor-${i}`, amount_minor: String(i * 7_919 + (i % 3 === 0 ? 1e14 : 0)) }));
  credits.push({ actor: 'did:ron:whale', amount_minor: MAX_MONEY.toString() });
  const parts = intentParts(head, credits, { alg: 'test', sig: 'x' });
  assert.equal(parts.length, 3);
  for (const p of parts) {
    const body = Buffer.from(p.body);
    const r = readIntent(body, p.partId);
    assert.ok(r.ok);
    assert.equal(r.intent.part_id, p.partId);
    assert.deepEqual(r.intent.part, { index: p.index, count: 3 });
    agrees(body, p.partId);
  }
});

test('refuses and reads the edge cases exactly as JSON.parse does', () => {
  const cases = [
    '', ' ', 'not json', '[1,2]', '"p"', '7', 'null', '{}', '{"part_id":"p"}', '{"part_id":""}', '{"part_id":1}',
    '{"part_id":"p\\u0031"}', '{"part_id":"x","part_id":"p"}', '{"part_id":"p","part_id":2}', ' \r\n\t{"part_id":"p"} \n',
    '\ufeff{"part_id":"p"}', '{"part_id":"p"}x', '{"part_id":"p",}', '{"part_id":"p"', '{"part_id" "p"}', '{,"part_id":"p"}',
    '{"part_id":"p","credits":null}', '{"part_id":"p","credits":{}}', '{"part_id":"p","credits":false}', '{"part_id":"p","credits":[1]}',
    '{"part_id":"p","credits":[]}', '{"part_id":"p","credits":[{}]}', '{"part_id":"p","credits":[{"amount_minor":"01"}]}',
    '{"part_id":"p","credits":[{"amount_minor":"0"},{"amount_minor":"9"}]}', '{"part_id":"p","credits":[{"amount_minor":""}]}',
    `{"part_id":"p","credits":[{"amount_minor":"${MAX_MONEY}"},{"amount_minor":"${MAX_MONEY}"}]}`,
    `{"part_id":"p","credits":[{"amount_minor":"${MAX_MONEY + 1n}"}]}`, '{"part_id":"p","credits":[{"amount_minor":"0000000000000000000001"}]}',
    '{"part_id":"p","credits":[{"amount_minor":"\\u0031\\u0032"}]}', '{"part_id":"p","credits":[{"amount_minor":"-1"}]}',
    '{"part_id":"p","credits":[{"amount_minor":"1.0"}]}', '{"part_id":"p","credits":[{"amount_minor":1}]}',
    '{"part_id":"p","credits":[{"amount_minor":"x","amount_minor":"5"}]}', '{"part_id":"p","credits":[{"amount_minor":"5","amount_minor":null}]}',
    '{"part_id":"p","credits":[{"amount_minor":"5"}],"credits":[{"amount_minor":"6"}]}', '{"part_id":"p","credits":[{"amount_minor":"5"},]}',
    '{"part_id":"p","credits":[{"amount_minor":"999999999999999"},{"amount_minor":"999999999999999"},{"amount_minor":"9999999999999999"}]}',
    '{"part_id":"p","part":{"index":1.0,"count":1e2}}', '{"part_id":"p","part":{"index":-0,"count":9007199254740992}}',
    '{"part_id":"p","part":{"index":"1","count":true}}', '{"part_id":"p","part":[1,2]}', '{"part_id":"p","part":{"index":1},"part":{"count":2}}',
    '{"part_id":"p","part":{"index":01}}', '{"part_id":"p","part":{"index":1.}}', '{"part_id":"p","part":{"index":1e}}', '{"part_id":"p","part":{"index":-}}',
    '{"part_id":"p","run_key":"r","epoch_id":"e"}', '{"part_id":"p","run_key":7,"epoch_id":["e"]}', '{"p\\u0061rt_id":"p","run_key":"\\"\\\\\\/\\b\\f\\n\\r\\t\\ud800"}',
    '{"part_id":"p","x":{"a":[1,{"b":[true,false,null,-1.5e+3,"s"]}],"c":{}},"y":[[],[[]],{}]}', '{"part_id":"p","x":[1,]}', '{"part_id":"p","x":{"a":1,}}',
    '{"part_id":"p","x":{"a" 1}}', '{"part_id":"p","x":[1 2]}', '{"part_id":"p","x":tru}', '{"part_id":"p","x":nul}', '{"part_id":"p","x":"\\x"}',
    '{"part_id":"p","x":"\\u12G4"}', '{"part_id":"p","x":"a\tb"}', '{"part_id":"p","x":"unterminated}', `{"part_id":"p","x":${'['.repeat(5_000)}${']'.repeat(5_000)}}`,
  ];
  for (const body of cases) agrees(body);
  // Bytes that are not UTF-8 decode to U+FFFD inside strings and are refused outside them.
  agrees(Buffer.concat([Buffer.from('{"part_id":"p\xff","run_key":"'), Buffer.from([0xe2, 0x82]), Buffer.from('"}')]));
  agrees(Buffer.concat([Buffer.from('{"part_id":"p"'), Buffer.from([0xff]), Buffer.from('}')]));
  // The Idempotency-Key must name the part.
  agrees('{"part_id":"p"}', 'q');
  agrees('{"part_id":"p"}', undefined);
});

test('reads canonical credits word by word exactly as JSON.parse does: every byte at every offset of an actor', () => {
  // The fast path tests four actor bytes at once for `"`, `\` and controls; put each byte value at
  // each position of actors spanning one to three words, and at each alignment of the credit.
  for (let length = 1; length <= 9; length++) {
    for (let at = 0; at < length; at++) {
      for (let byte = 0; byte < 256; byte++) {
        const actor = Buffer.alloc(length, 0x61);
        actor[at] = byte;
        const pad = ' '.repeat((length + at + byte) % 4);
        agrees(Buffer.concat([Buffer.from(`{"part_id":"p",${pad}"credits":[{"actor":"`), actor, Buffer.from('","amount_minor":"5"},{"actor":"b","amount_minor":"7"}]}')]));
      }
    }
  }
});

const intentish = fc.record(
  {
    part_id: fc.oneof(fc.string(), fc.jsonValue()),
    run_key: fc.oneof(fc.string(), fc.jsonValue()),
    epoch_id: fc.string({ unit: 'grapheme' }),
    part: fc.oneof(fc.record({ index: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()), count: fc.nat() }, { requiredKeys: [] }), fc.jsonValue()),
    credits: fc.oneof(
      fc.array(
        fc.oneof(
          fc.record({ actor: fc.string(), amount_minor: fc.oneof(fc.bigInt({ min: 0n, max: MAX_MONEY + 2n }).map(String), fc.string(), fc.jsonValue()) }, { requiredKeys: [] }),
          fc.jsonValue(),
        ),
        { maxLength: 20 },
      ),
      fc.jsonValue(),
    ),
    other: fc.jsonValue(),
  },
  { requiredKeys: [] },
);

test('agrees with JSON.parse on generated intent-like documents', () => {
  fc.assert(
    fc.property(intentish, (doc) => agrees(JSON.stringify(doc))),
    { numRuns: 2_000 },
  );
});

test('agrees with JSON.parse on generated documents with corrupted bytes', () => {
  const corrupted = fc.tuple(intentish, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('insert', 'replace', 'delete', 'truncate'));
  fc.assert(
    fc.property(corrupted, ([doc, at, byte, how]) => {
      const b = Buffer.from(JSON.stringify(doc), 'utf8');
      const i = at % (b.length + 1);
      const edited =
        how === 'insert' ? Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i)])
        : how === 'replace' ? Buffer.concat([b.subarray(0, i), Buffer.from([byte]), b.subarray(i + 1)])
        : how === 'delete' ? Buffer.concat([b.subarray(0, i), b.subarray(i + 1)])
        : b.subarray(0, i);
      agrees(edited);
    }),
    { numRuns: 3_000 },
  );
});
