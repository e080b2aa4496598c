// The window rule of SPEC §10 as a property of the memory store, over random sequences of binds
// with random windows in a few programs: no two bound epochs of a program overlap, every refusal
// names a bound epoch of the same program whose window really overlaps, nothing refused is bound,
// a bind is refused only when some overlap exists, and the listing is every binding in window order.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { AppError } from '../errors.js';
import { record } from './contract.js';
import { MemoryStores } from './memory.js';
import { type EpochSummary, type Window, overlaps } from './types.js';

interface Bind {
  program: string;
  id: number;
  start: number;
  length: number;
}

const bindArb: fc.Arbitrary<Bind> = fc.record({
  program: fc.constantFrom('acme', 'globex', 'default'),
  // Few ids, so some binds repeat an epoch (replay or conflict, never an overlap with itself).
  id: fc.integer({ min: 0, max: 30 }),
  start: fc.integer({ min: 0, max: 200 }),
  length: fc.integer({ min: 1, max: 40 }),
});

void test('random binds: no two bound epochs of a program overlap, and every refusal names a real overlapping epoch', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(bindArb, { maxLength: 80 }), async (binds) => {
      const s = new MemoryStores(64 * 1024 * 1024);
      const bound = new Map<string, { program: string; window: Window }>();
      for (const b of binds) {
        const epochId = `${b.program}:e${b.id}`;
        const window = { startMs: b.start, endMs: b.start + b.length };
        const before = [...bound.entries()].filter(([, v]) => v.program === b.program);
        try {
          const out = await s.publish(record(epochId, { program: b.program, window }), [], 'pending');
          if (out.created) {
            assert.ok(!bound.has(epochId));
            assert.ok(before.every(([, v]) => !overlaps(v.window, window)), `${epochId} bound over an overlap`);
            bound.set(epochId, { program: b.program, window });
          } else {
            assert.ok(bound.has(epochId), 'only a bound epoch comes back as already bound');
          }
        } catch (e) {
          assert.ok(e instanceof AppError && e.code === 'WINDOW_OVERLAP', String(e));
          const named = String(e.details.epoch_id);
          const other = bound.get(named);
          assert.ok(other !== undefined, `the refusal names ${named}, which is not bound`);
          assert.equal(other.program, b.program, 'the named epoch is of the same program');
          assert.ok(overlaps(other.window, window), 'the named epoch really overlaps');
          assert.ok(!bound.has(epochId));
          assert.equal(await s.getEpoch(epochId), null, 'nothing refused is bound');
        }
      }
      for (const program of ['acme', 'globex', 'default']) {
        const listed = ((await s.listEpochs(program, null, 1000)) ?? []) as EpochSummary[];
        const expected = [...bound.entries()].filter(([, v]) => v.program === program);
        assert.equal(listed.length, expected.length);
        for (let i = 1; i < listed.length; i++) {
          const [prev, cur] = [listed[i - 1] as EpochSummary, listed[i] as EpochSummary];
          assert.ok(prev.window.endMs <= cur.window.startMs, 'window order, pairwise disjoint');
        }
      }
    }),
    { numRuns: 300 },
  );
});
