import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StoreWatch } from './store-watch.js';

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

test('readiness reads the store health pinged in the background, never a query per call', async (t) => {
  let pings = 0;
  let up = true;
  const w = new StoreWatch({ healthy: async () => (pings++, up) }, 50);
  t.after(() => w.close());
  assert.equal(await w.current(), true, 'the first answer waits for the first ping');
  const before = pings;
  for (let i = 0; i < 1000; i++) assert.equal(w.current(), true);
  assert.ok(pings - before <= 1, `1000 calls made ${pings - before} pings`);
  up = false;
  await until(() => w.current() === false, 'a store that goes down is seen by the next ping');
  up = true;
  await until(() => w.current() === true, 'and coming back too');
});

test('a ping that throws or hangs counts as down and pings never pile up', async (t) => {
  let pings = 0;
  let release: (v: boolean) => void = () => {};
  const w = new StoreWatch(
    {
      healthy: () => {
        pings++;
        if (pings === 1) return Promise.reject(new Error('connection refused'));
        return new Promise<boolean>((r) => (release = r));
      },
    },
    20,
  );
  t.after(() => w.close());
  assert.equal(await w.current(), false);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(pings, 2, 'one ping hangs; no other started meanwhile');
  release(true);
  await until(() => w.current() === true, 'the hung ping answered');
});
