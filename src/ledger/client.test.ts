// The ledger client against the in-process ledger stub on a real loopback socket: what each ledger
// answer becomes, how many requests it costs (counted by the stub), and the headers sent.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { type LedgerStub, type LedgerStubOptions, startLedgerStub } from '../../testing/ledger-stub/server.js';
import { intentParts } from '../core/intents.js';
import type { ManifestHead } from '../core/manifest.js';
import type { OutboxPart } from '../stores/types.js';
import { LedgerClient, type LedgerClientOptions, judge } from './client.js';

const LIMIT = { timeout: 15_000 };
const RFC3339_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The parts of a run with `payees` credits; `tag` makes run_key (and so every part_id) unique. */
function runParts(tag: string, payees = 3, amount = 1): OutboxPart[] {
  const head = {
    run_key: `b3:run-${tag}`,
    epoch_id: `epoch-${tag}`,
    commitment: `b3:${'c'.repeat(64)}`,
    payouts_root: `b3:${'d'.repeat(64)}`,
  } as ManifestHead;
  const credits = Array.from({ length: payees }, (_, i) => ({ actor: `did:ron:a${i}`, amount_minor: String(amount + i) }));
  return intentParts(head, credits).map((p) => ({ ...p, epochId: head.epoch_id, runKey: head.run_key }));
}

function onePart(tag: string, amount = 1): OutboxPart {
  return runParts(tag, 3, amount)[0] as OutboxPart;
}

async function stubFor(t: TestContext, opts: LedgerStubOptions = {}): Promise<LedgerStub> {
  const stub = await startLedgerStub({ seed: 7, ...opts });
  t.after(() => stub.close());
  return stub;
}

function clientFor(stub: { url: string }, over: Partial<LedgerClientOptions> = {}): LedgerClient {
  return new LedgerClient({ url: stub.url, maxRetries: 2, attemptMs: 1_000, minBackoffMs: 5, ...over });
}

test('a first send is accepted and a resend of the same part is a dup, each in one request', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const client = clientFor(stub);
  const part = onePart('first');
  const first = await client.send(part, 'corr-1');
  assert.equal(first.result, 'accepted');
  assert.equal(first.attempts, 1);
  const again = await client.send(part, 'corr-2');
  assert.equal(again.result, 'dup');
  assert.equal(again.attempts, 1);
  const stats = stub.stats();
  assert.equal(stats.requests_total, 2);
  assert.equal(stats.accepted, 1);
  assert.equal(stats.dup, 1);
  assert.equal(stub.parts().length, 1);
});

test('a different body under a known part_id is a conflict and is never retried', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const client = clientFor(stub, { maxRetries: 3 });
  assert.equal((await client.send(onePart('clash', 1), 'c')).result, 'accepted');
  const other = onePart('clash', 1000);
  assert.notDeepEqual(other.body, onePart('clash', 1).body);
  const r = await client.send(other, 'c');
  assert.equal(r.result, 'conflict');
  assert.equal(r.attempts, 1);
  const stats = stub.stats();
  assert.equal(stats.conflict, 1);
  assert.equal(stats.requests_total, 2, 'exactly one request for the conflicting body');
});

test('a 4xx refusal in the ledger\'s own JSON (here 400, a credit that is not money) is a permanent failure after a single request', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const good = onePart('refused');
  const text = new TextDecoder().decode(good.body).replace('"amount_minor":"1"', '"amount_minor":"-1"');
  const bad = { ...good, body: new TextEncoder().encode(text) };
  assert.notDeepEqual(bad.body, good.body);
  const r = await clientFor(stub, { maxRetries: 3 }).send(bad, 'c');
  assert.equal(r.result, 'failed');
  assert.equal(r.attempts, 1);
  assert.match('error' in r ? r.error : '', /400/);
  assert.equal(stub.stats().requests_total, 1);
  assert.equal(stub.stats().bad_request, 1);
  assert.equal(stub.parts().length, 0);
});

test('a 401 (wrong or missing ledger token) is not a refusal of the part: retried, alerted, unknown, and accepted once the token is right', LIMIT, async (t) => {
  const stub = await stubFor(t, { token: 'ledger-secret' });
  const alerts: number[] = [];
  const r = await clientFor(stub, { maxRetries: 2, onUnexpected: (status) => alerts.push(status) }).send(onePart('unauth'), 'c');
  assert.equal(r.result, 'unknown');
  assert.equal(r.attempts, 3);
  assert.match('error' in r ? r.error : '', /401/);
  assert.deepEqual(alerts, [401, 401, 401]);
  assert.equal(stub.stats().unauthorized, 3);
  assert.equal(stub.parts().length, 0);
  const fixed = await clientFor(stub, { token: 'ledger-secret' }).send(onePart('unauth'), 'c');
  assert.equal(fixed.result, 'accepted');
});

for (const bogus of ['html-200', 'empty-202', 'empty-204', 'redirect-302', 'json-401'] as const) {
  test(`a ledger answering ${bogus} is never an acknowledgement: retried with backoff, alerted, unknown, then accepted once real`, LIMIT, async (t) => {
    const stub = await stubFor(t, { faults: { canned_answer: bogus } });
    const alerts: number[] = [];
    const seen: boolean[] = [];
    const client = clientFor(stub, { maxRetries: 2, onUnexpected: (status) => alerts.push(status), observe: (_ms, healthy) => seen.push(healthy) });
    const part = onePart(`bogus-${bogus}`);
    const r = await client.send(part, 'c');
    assert.equal(r.result, 'unknown', `${bogus} must not count as ${r.result}`);
    assert.equal(r.attempts, 3);
    assert.equal(alerts.length, 3);
    assert.equal(alerts[0], Number(bogus.slice(-3)));
    assert.deepEqual(seen, [false, false, false], 'an unexpected answer is not a healthy one');
    assert.equal(stub.stats().canned, 3);
    assert.equal(stub.parts().length, 0, 'the ledger stored nothing');
    stub.clearFaults();
    assert.equal((await client.send(part, 'c')).result, 'accepted');
  });
}

test('judge: acknowledgements need the SPEC §7 body matching their status', () => {
  const json = 'application/json';
  assert.deepEqual(judge({ status: 201, contentType: json, body: '{"result":"accepted"}' }), { kind: 'final', outcome: { result: 'accepted' } });
  assert.deepEqual(judge({ status: 200, contentType: 'application/json; charset=utf-8', body: '{"result":"dup"}' }), { kind: 'final', outcome: { result: 'dup' } });
  assert.equal(judge({ status: 200, contentType: json, body: '{"result":"accepted"}' }).kind, 'unexpected');
  assert.equal(judge({ status: 201, contentType: 'text/html', body: '{"result":"accepted"}' }).kind, 'unexpected');
  assert.equal(judge({ status: 200, contentType: json, body: '["dup"]' }).kind, 'unexpected');
  assert.equal(judge({ status: 200, contentType: json, body: '{"result":"dup"' }).kind, 'unexpected');
  assert.equal(judge({ status: 409, contentType: json, body: '{"result":"conflict"}' }).kind, 'final');
  assert.equal(judge({ status: 409, contentType: 'text/html', body: '<h1>409</h1>' }).kind, 'unexpected');
  assert.equal(judge({ status: 404, contentType: 'text/html', body: '<h1>Not Found</h1>' }).kind, 'unexpected');
  assert.equal(judge({ status: 403, contentType: json, body: '{"result":"error"}' }).kind, 'unexpected');
  assert.deepEqual(judge({ status: 422, contentType: json, body: '{"result":"error"}' }), { kind: 'final', outcome: { result: 'failed', error: 'ledger refused the part with 422' } });
  assert.deepEqual(judge({ status: 503, contentType: 'text/html', body: '' }), { kind: 'retry' });
  assert.equal(judge({ status: 400, contentType: 'application/problem+json', body: '{"result":"error","title":"bad"}' }).kind, 'final');
  assert.equal(judge({ status: 400, contentType: 'application/jsonx', body: '{"result":"error"}' }).kind, 'unexpected');
});

test('the bearer token is sent when one is configured', LIMIT, async (t) => {
  const stub = await stubFor(t, { token: 'ledger-secret' });
  const r = await clientFor(stub, { token: 'ledger-secret' }).send(onePart('token'), 'c');
  assert.equal(r.result, 'accepted');
  assert.equal(stub.stats().unauthorized, 0);
});

test('503 answers are retried LEDGER_MAX_RETRIES times, then the outcome is unknown, not failed', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { down: true } });
  for (const maxRetries of [0, 2, 4]) {
    stub.reset();
    const r = await clientFor(stub, { maxRetries }).send(onePart(`down-${maxRetries}`), 'c');
    assert.equal(r.result, 'unknown');
    assert.equal(r.attempts, maxRetries + 1);
    assert.equal(stub.stats().requests_total, maxRetries + 1);
    assert.equal(stub.stats().unavailable, maxRetries + 1);
  }
  // And the same part goes through once the ledger is back: nothing was recorded meanwhile.
  stub.clearFaults();
  assert.equal((await clientFor(stub).send(onePart('down-2'), 'c')).result, 'accepted');
});

test('a 429 is retried with the same part and body until it is accepted', LIMIT, async (t) => {
  // error_rate 1 for the first requests, then healthy: flip the fault after two requests.
  const stub = await stubFor(t, { faults: { error_rate: 1, error_status: 429 } });
  const client = clientFor(stub, {
    maxRetries: 3,
    observe: () => {
      if (stub.stats().requests_total >= 2) stub.clearFaults();
    },
  });
  const r = await client.send(onePart('busy'), 'c');
  assert.equal(r.result, 'accepted');
  assert.equal(r.attempts, 3);
  assert.equal(stub.stats().errors_injected, 2);
  assert.equal(stub.parts().length, 1);
});

test('an acknowledgement lost after the commit is resent and counted as a dup, the part recorded once', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { reset_after_commit_rate: 1 } });
  const r = await clientFor(stub).send(onePart('ambiguous'), 'c');
  assert.equal(r.result, 'dup');
  assert.equal(r.attempts, 2);
  const stats = stub.stats();
  assert.equal(stats.reset_after_commit, 1);
  assert.equal(stats.accepted, 1);
  assert.equal(stats.dup, 1);
  const parts = stub.parts();
  assert.equal(parts.length, 1);
  assert.equal(parts[0]?.dups, 1);
});

test('a hanging ledger is cut per attempt at attemptMs, retried, then reported unknown', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { hang: true } });
  const seen: Array<[number, boolean]> = [];
  const client = clientFor(stub, { maxRetries: 1, attemptMs: 200, observe: (ms, answered) => seen.push([ms, answered]) });
  const t0 = performance.now();
  const r = await client.send(onePart('hang'), 'c');
  const elapsed = performance.now() - t0;
  assert.equal(r.result, 'unknown');
  assert.equal(r.attempts, 2);
  assert.ok(elapsed >= 2 * 190, `two attempts of ~200 ms each, took ${elapsed.toFixed(0)} ms`);
  assert.ok(elapsed < 2_000, `bounded by the attempt budget, took ${elapsed.toFixed(0)} ms`);
  assert.equal(stub.stats().hung, 2);
  assert.deepEqual(seen.map(([, answered]) => answered), [false, false], 'no answer is reported to the health tracker');
});

test('a request deadline shorter than the attempt budget ends the send as deadline, not unknown', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { hang: true } });
  const seen: boolean[] = [];
  const client = clientFor(stub, { maxRetries: 3, attemptMs: 5_000, observe: (_ms, answered) => seen.push(answered) });
  const t0 = performance.now();
  const r = await client.send(onePart('deadline'), 'c', Date.now() + 150);
  const elapsed = performance.now() - t0;
  assert.equal(r.result, 'deadline');
  assert.equal(r.attempts, 1);
  assert.ok(elapsed < 1_000, `cut at the request deadline, took ${elapsed.toFixed(0)} ms`);
  assert.deepEqual(seen, [], 'the request running out of time says nothing about the ledger');
});

test('a request deadline already past sends nothing and reports deadline', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const r = await clientFor(stub).send(onePart('late'), 'c', Date.now() - 1);
  assert.equal(r.result, 'deadline');
  assert.equal(stub.stats().requests_total, 0);
});

test('Idempotency-Key, X-Corr-ID and X-Deadline are sent; X-Deadline is the request deadline, unchanged', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const part = onePart('headers');
  const deadlineAt = Date.now() + 700;
  assert.equal((await clientFor(stub, { attemptMs: 5_000 }).send(part, 'corr-headers', deadlineAt)).result, 'accepted');
  const [rec] = stub.parts();
  // The stub refuses (400) a request whose Idempotency-Key is not the body's part_id.
  assert.equal(rec?.part_id, part.partId);
  assert.equal(rec?.x_corr_id, 'corr-headers');
  assert.match(rec?.x_deadline ?? '', RFC3339_MS_UTC);
  assert.equal(rec?.x_deadline, new Date(deadlineAt).toISOString());
});

test('X-Deadline is lowered to the attempt budget, never later than the request deadline', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const attemptMs = 300;
  const before = Date.now();
  const deadlineAt = before + 60_000;
  assert.equal((await clientFor(stub, { attemptMs }).send(onePart('capped'), 'c', deadlineAt)).result, 'accepted');
  const after = Date.now();
  assert.equal((await clientFor(stub, { attemptMs }).send(onePart('no-deadline'), 'c')).result, 'accepted');
  const after2 = Date.now();
  const [capped, open] = stub.parts();
  const sent = Date.parse(capped?.x_deadline ?? '');
  assert.match(capped?.x_deadline ?? '', RFC3339_MS_UTC);
  assert.ok(sent <= deadlineAt, 'never later than the request deadline');
  assert.ok(sent <= after + attemptMs, 'never later than now + attemptMs');
  assert.ok(sent >= before + attemptMs - 1, 'the attempt budget, not something shorter');
  const sentOpen = Date.parse(open?.x_deadline ?? '');
  assert.ok(sentOpen <= after2 + attemptMs && sentOpen >= after + attemptMs - 1, 'without a request deadline: now + attemptMs');
});

test('probe returns a finite latency from a live ledger and Infinity when nothing listens', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const live = await clientFor(stub).probe();
  assert.ok(Number.isFinite(live) && live >= 0, `latency ${live}`);

  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.equal(await clientFor({ url: `http://127.0.0.1:${port}` }).probe(), Number.POSITIVE_INFINITY);
});

test('probe of a ledger answering 5xx is Infinity', LIMIT, async (t) => {
  const server = createServer((_req, res) => res.writeHead(503).end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;
  assert.equal(await clientFor({ url: `http://127.0.0.1:${port}` }).probe(), Number.POSITIVE_INFINITY);
});

test('a connection refused is retried, then unknown', LIMIT, async () => {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const answered: boolean[] = [];
  const r = await clientFor({ url: `http://127.0.0.1:${port}` }, { observe: (_ms, a) => answered.push(a) }).send(onePart('refused-conn'), 'c');
  assert.equal(r.result, 'unknown');
  assert.equal(r.attempts, 3);
  assert.deepEqual(answered, [false, false, false]);
});

test('429, 5xx and 401 answers are reported to the health tracker as unhealthy, 2xx as healthy', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { down: true }, token: 'ledger-secret' });
  const seen: boolean[] = [];
  const observe = (_ms: number, healthy: boolean) => seen.push(healthy);
  await clientFor(stub, { maxRetries: 1, observe, token: 'ledger-secret' }).send(onePart('obs-503'), 'c');
  stub.setFaults({ down: false, error_rate: 1, error_status: 429 });
  await clientFor(stub, { maxRetries: 0, observe, token: 'ledger-secret' }).send(onePart('obs-429'), 'c');
  stub.clearFaults();
  await clientFor(stub, { maxRetries: 0, observe, token: 'ledger-secret' }).send(onePart('obs-201'), 'c');
  await clientFor(stub, { maxRetries: 0, observe }).send(onePart('obs-401'), 'c');
  assert.deepEqual(seen, [false, false, false, true, false]);
});

test('a request deadline passing during a retry backoff ends the send at the deadline, as deadline', LIMIT, async (t) => {
  const stub = await stubFor(t, { faults: { down: true } });
  // Backoffs of 2–4 s: sleeping through one would overrun the 120 ms deadline by seconds.
  const client = clientFor(stub, { maxRetries: 3, minBackoffMs: 2_000 });
  const t0 = performance.now();
  const r = await client.send(onePart('backoff'), 'c', Date.now() + 120);
  const elapsed = performance.now() - t0;
  assert.equal(r.result, 'deadline');
  assert.ok(elapsed < 1_000, `no sleeping past the deadline: took ${elapsed.toFixed(0)} ms for a 120 ms deadline`);
  assert.equal(stub.stats().requests_total, 1, 'nothing sent after the deadline');
});

test('no attempt starts with less than 10 ms left before the deadline: nothing is sent, the result is deadline', LIMIT, async (t) => {
  const stub = await stubFor(t);
  const client = clientFor(stub);
  // A kept-alive connection first, so a late attempt would reach the stub at once.
  assert.equal((await client.send(onePart('in-time'), 'c', Date.now() + 1_000)).result, 'accepted');
  const r = await client.send(onePart('too-late'), 'c', Date.now() + 8);
  assert.equal(r.result, 'deadline');
  assert.equal(r.attempts, 1);
  assert.equal(stub.stats().requests_total, 1, 'the late part was not sent');
});

test('consecutive sends reuse one keep-alive connection and post the exact part bytes', LIMIT, async (t) => {
  const bodies: Buffer[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push(Buffer.concat(chunks));
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"result":"accepted"}');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const client = clientFor({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
  const parts = runParts('reuse', 5_000);
  for (const part of parts) assert.equal((await client.send(part, 'c')).result, 'accepted');
  assert.equal(parts.length, 2);
  assert.deepEqual(bodies, parts.map((p) => Buffer.from(p.body)));
  assert.equal(connections, 1);
});

test('an answer that stalls after its headers is cut at the attempt budget, retried, and reported unknown', LIMIT, async (t) => {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(201, { 'content-length': '100' }).write('{"res'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const seen: boolean[] = [];
  const r = await clientFor({ url }, { maxRetries: 1, attemptMs: 150, observe: (_ms, answered) => seen.push(answered) }).send(onePart('stall'), 'c');
  assert.equal(r.result, 'unknown');
  assert.equal(r.attempts, 2);
  assert.match('error' in r ? r.error : '', /timeout/);
  assert.deepEqual(seen, [false, false]);
  // Bounded by the request's own deadline instead, the same stall is that deadline passing.
  const late = await clientFor({ url }, { attemptMs: 5_000 }).send(onePart('stall-2'), 'c', Date.now() + 150);
  assert.equal(late.result, 'deadline');
});
