import assert from 'node:assert/strict';
import { test } from 'node:test';
import { record as recordOf, runStoreContract } from './contract.js';
import { MemoryStores } from './memory.js';

runStoreContract('memory', async (now) => new MemoryStores(64 * 1024 * 1024, now), async () => {});

test('a settled part gives its body back to the byte budget, and only unsettled parts are claimed', async () => {
  const part = (i: number) => ({ partId: `p${i}`, epochId: 'e1', runKey: 'k', index: i, count: 2, body: new Uint8Array(600) });
  const record = recordOf('e1', { manifest: new Uint8Array(100) });
  // Room for the manifest and both bodies, not for a second copy of one body.
  const s = new MemoryStores(100 + 1200 + 500);
  await s.publish(record, [part(0), part(1)], 'pending');
  const by = { tenant: 'acme', quotaBytes: null };
  await assert.rejects(s.putPolicy({ hash: 'x', id: 'x', bytes: new Uint8Array(600) }, by), /full/);
  await s.settlePart('p0', 'me', 'accepted', 1, null);
  await s.putPolicy({ hash: 'x', id: 'x', bytes: new Uint8Array(600) }, by);
  assert.deepEqual((await s.claimParts('me', 10, 1000, ['pending'])).map((p) => p.partId), ['p1']);
  assert.deepEqual((await s.partsOf('e1')).map((p) => [p.partId, p.state]), [['p0', 'accepted'], ['p1', 'pending']]);
});
