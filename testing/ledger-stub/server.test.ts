// The in-process API (startLedgerStub), and the resource hygiene that is only visible from inside
// the process: no timer outlives the request it was delaying.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { b3Text } from '../../src/core/hash.js';
import { startLedgerStub } from './server.js';

const LIMIT = { timeout: 10_000 };

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function post(url: string, partId: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${url}/v1/intents`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': partId },
    body: JSON.stringify({ part_id: partId, credits: [{ actor: 'a', amount_minor: '7' }] }),
    signal,
  });
}

test('an in-process stub accepts, dedupes and reports through its programmatic API', LIMIT, async (t) => {
  const stub = await startLedgerStub({ seed: 1 });
  t.after(() => stub.close());
  assert.match(stub.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(stub.url, `http://127.0.0.1:${stub.port}`);
  assert.equal((await post(stub.url, 'p-1')).status, 201);
  assert.equal((await post(stub.url, 'p-1')).status, 200);
  assert.deepEqual(
    stub.parts().map((p) => [p.part_id, p.sum_minor, p.dups]),
    [['p-1', '7', 1]],
  );
  assert.equal(stub.stats().accepted, 1);
  stub.setFaults({ down: true });
  assert.equal((await post(stub.url, 'p-2')).status, 503);
  assert.throws(() => stub.setFaults({ error_rate: -1 }), /error_rate/);
  assert.equal(stub.faults().down, true);
  stub.reset();
  assert.equal(stub.stats().requests_total, 0);
});

test('concurrent intents each keep their own bytes while bodies are read into reused buffers', LIMIT, async (t) => {
  const stub = await startLedgerStub({ faults: { latency_ms: { min: 0, max: 20 } } });
  t.after(() => stub.close());
  const body = (i: number) =>
    JSON.stringify({ part_id: `p-${i}`, credits: Array.from({ length: 2_000 + i }, (_, k) => ({ actor: `a${k}`, amount_minor: String(i) })) });
  for (let round = 0; round < 3; round++) {
    const ids = Array.from({ length: 8 }, (_, i) => round * 8 + i);
    const answers = await Promise.all(
      ids.map((i) =>
        fetch(`${stub.url}/v1/intents`, { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': `p-${i}` }, body: body(i) }),
      ),
    );
    assert.deepEqual(answers.map((r) => r.status), ids.map(() => 201));
  }
  for (const p of stub.parts()) {
    const i = Number(p.part_id.slice(2));
    assert.equal(p.body_b3, b3Text(body(i)));
    assert.equal(p.sum_minor, String(i * (2_000 + i)));
  }
  assert.equal(stub.parts().length, 24);
});

test('refuses a host other than loopback', async () => {
  await assert.rejects(startLedgerStub({ host: '0.0.0.0' }), /loopback only/);
});

test('a latency timer is cleared as soon as the waiting client goes away', LIMIT, async (t) => {
  const stub = await startLedgerStub({ faults: { latency_ms: { min: 60_000, max: 60_000 } } });
  t.after(() => stub.close());
  const before = timers();
  const controller = new AbortController();
  const pending = post(stub.url, 'p-1', controller.signal);
  while (stub.stats().requests_total === 0) await sleep(5);
  await sleep(50); // let the stub read the body and start waiting
  assert.ok(timers() > before, 'the stub should be holding a timer');
  controller.abort();
  await assert.rejects(pending, { name: 'AbortError' });
  const until = Date.now() + 2_000;
  while (timers() > before && Date.now() < until) await sleep(10);
  assert.equal(timers(), before);
  assert.deepEqual(stub.parts(), [], 'a request abandoned during the delay records nothing');
});

test('close() returns promptly while a request is hanging', LIMIT, async () => {
  const stub = await startLedgerStub({ faults: { hang: true } });
  const hung = post(stub.url, 'p-1', AbortSignal.timeout(5_000));
  hung.catch(() => undefined); // asserted below
  while (stub.stats().hung === 0) await sleep(5);
  const started = performance.now();
  await stub.close();
  assert.ok(performance.now() - started < 1_000);
  await assert.rejects(hung, (err: Error) => err.name !== 'TimeoutError');
});
