// The OpenAPI document's schemas hold the real documents: every vector the engine accepts
// validates against the request body it would be sealed with, every golden manifest against the
// manifest GET /epochs/{id} answers, and what the engine refuses for shape is refused here too.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from './openapi.js';

const VECTORS = fileURLToPath(new URL('../../../vectors/', import.meta.url));
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const doc = openApiDocument() as { components: { schemas: Record<string, object> } };
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: true, strictRequired: false, keywords: ['example'] }));
const validate = (name: string) => ajv.compile(doc.components.schemas[name] as object);
const read = (...p: string[]) => JSON.parse(readFileSync(join(VECTORS, ...p), 'utf8')) as Record<string, unknown>;
const dirs = readdirSync(VECTORS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);

test('every schema of the document compiles under ajv strict mode', () => {
  for (const name of Object.keys(doc.components.schemas)) assert.doesNotThrow(() => validate(name), name);
});

test('every inputs, policy and manifest vector validates against its schema', () => {
  const inputs = validate('InputsDocument');
  const policy = validate('PolicyDocument');
  const manifest = validate('Manifest');
  let n = 0;
  for (const d of dirs) {
    for (const f of readdirSync(join(VECTORS, d))) {
      const v = f.startsWith('inputs') ? inputs : f.startsWith('policy') ? policy : f.startsWith('manifest') ? manifest : null;
      if (v === null) continue;
      assert.ok(v(read(d, f)), `${d}/${f}: ${ajv.errorsText(v.errors)}`);
      n++;
    }
  }
  assert.ok(n >= 8, `only ${n} vectors`);
});

test('the schemas refuse what the engine refuses for shape: unknown members, a wrong schema name, a float, a negative quantity', () => {
  const inputs = validate('InputsDocument');
  const policy = validate('PolicyDocument');
  const ex = read('example', 'inputs.json');
  const events = ex.events as Record<string, unknown>[];
  assert.equal(inputs({ ...ex, extra: 1 }), false);
  assert.equal(inputs({ ...ex, schema: 'rewarder.inputs/v2' }), false);
  assert.equal(inputs({ ...ex, pool_minor: 1000 }), false, 'money is a decimal string');
  assert.equal(inputs({ ...ex, events: [{ ...events[0], qty: 1.5 }] }), false);
  assert.equal(inputs({ ...ex, events: [{ ...events[0], qty: -1 }] }), false);
  assert.equal(inputs({ ...ex, kinds: ['a', 'a'] }), false, 'kinds are unique');
  const p = read('example', 'policy.json');
  assert.equal(policy({ ...p, rounding: 'ceil' }), false);
  assert.equal(policy({ ...p, kinds: { 'Bad-Kind': { weight: 1 } } }), false);
  assert.equal(policy({ ...p, kinds: { k: { weight: 1, divisor: 0 } } }), false);
});
