// Ambiguous acknowledgement, end to end: the ledger stub commits each part, then resets the socket
// instead of answering. The service cannot tell "lost request" from "lost answer", so it resends
// the same bytes; the ledger answers dup and the part is recorded once.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generate } from '../../src/gen/generate.js';
import { compute, ledgerOf, seal, startService, startStub } from './service.js';

test('a part committed but never acknowledged is resent, counted dup by the ledger and recorded once', { timeout: 30_000 }, async (t) => {
  const stub = await startStub(t, { seed: 202, faults: { reset_after_commit_rate: 1 } });
  const svc = await startService(t, { LEDGER_URL: stub.url });
  const triple = await seal(svc.url, generate({ scale: 'S', seed: 6, form: 'columnar' }));

  const epochs = ['ambiguous-1:e', 'ambiguous-2:e', 'ambiguous-3:e'];
  for (const epoch of epochs) {
    const r = await compute(svc.url, epoch, triple);
    assert.equal(r.status, 200, `${epoch}: ${r.text}`);
    assert.deepEqual(r.json.ledger, { state: 'accepted' }, 'a dup is an acknowledgement');
    assert.equal(r.json.quarantine, false);

    const view = await ledgerOf(svc.url, epoch);
    assert.equal(view.state, 'accepted');
    assert.equal(view.parts.length, 1);
    const [part] = view.parts;
    assert.ok(part?.state === 'dup' || part?.state === 'accepted', `part state ${part?.state}`);
    assert.equal(part?.attempts, 2, 'the lost answer cost exactly one resend');

    const records = await stub.admin.parts({ epoch_id: epoch });
    assert.equal(records.length, 1);
    assert.equal(records[0]?.part_id, part?.part_id);
    assert.equal(records[0]?.dups, 1);
  }
  const stats = await stub.admin.stats();
  assert.equal(stats.reset_after_commit, epochs.length);
  assert.equal(stats.accepted, epochs.length, 'each part credited once');
  assert.equal(stats.dup, epochs.length);
  assert.equal(stats.conflict, 0);
  assert.equal(stats.requests_total, 2 * epochs.length);
});
