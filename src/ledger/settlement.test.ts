// Settlement over memory stores and the in-process ledger stub: what reaches the ledger, in which
// order, and which state each part ends in, through healthy, degraded and recovering egress.

import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { pino } from 'pino';
import { type LedgerStub, startLedgerStub } from '../../testing/ledger-stub/server.js';
import { intentParts } from '../core/intents.js';
import type { ManifestHead } from '../core/manifest.js';
import { createMetrics } from '../metrics.js';
import { MemoryStores } from '../stores/memory.js';
import type { EpochRecord, OutboxPart, PublishLease } from '../stores/types.js';
import { record as recordOf } from '../stores/contract.js';
import { LedgerClient } from './client.js';
import { EgressHealth } from './health.js';
import { Settlement } from './settlement.js';

const LIMIT = { timeout: 20_000 };
const PART = 4096;
const RECOVERY_MS = 1_000;

interface Rig {
  stub: LedgerStub;
  stores: MemoryStores;
  settlement: Settlement;
  health: EgressHealth;
  metrics: ReturnType<typeof createMetrics>;
  /** The fake clock of the health tracker and the stores' leases. */
  clock: { t: number };
  changes: boolean[];
  /** Another replica on the same stores and ledger. */
  replica(owner: string): Settlement;
}

async function rig(t: TestContext, opts: { batch?: number } = {}): Promise<Rig> {
  const stub = await startLedgerStub({ seed: 11 });
  t.after(() => stub.close());
  const clock = { t: 1_000_000 };
  const now = () => clock.t;
  const stores = new MemoryStores(256 * 1024 * 1024, now);
  const logger = pino({ level: 'silent' });
  const changes: boolean[] = [];
  const build = (owner: string) => {
    const health = new EgressHealth({
      p95BudgetMs: 100,
      p99BudgetMs: 250,
      recoveryWindowMs: RECOVERY_MS,
      now,
      // As the runtime wires it: entering the mode holds every pending part.
      onChange: (degraded) => {
        changes.push(degraded);
        if (degraded) void settlement.enterQuarantine();
      },
    });
    const client = new LedgerClient({
      url: stub.url,
      maxRetries: 2,
      attemptMs: 1_000,
      minBackoffMs: 5,
      observe: (ms, answered) => health.observe(answered ? ms : Number.POSITIVE_INFINITY),
    });
    const metrics = createMetrics(
      { queueDepth: () => 0, inflight: () => 0, cacheBytes: () => 0, heldIntents: () => stores.countParts(['held']), ledgerDegraded: () => health.degraded },
      { defaultMetrics: false },
    );
    const settlement: Settlement = new Settlement({ stores, client, health, metrics, logger, owner, leaseMs: 30_000, probeIntervalMs: 50, ...opts });
    return { settlement, health, metrics };
  };
  const main = build('replica-a');
  return { stub, stores, clock, changes, ...main, replica: (owner) => build(owner).settlement };
}

/** Publishes a run of `payees` credits (so ceil(payees / 4096) parts) in the given initial state. */
async function publish(
  stores: MemoryStores,
  tag: string,
  payees: number,
  initial: 'pending' | 'held' = 'pending',
  alter: (p: OutboxPart) => OutboxPart = (p) => p,
  lease?: PublishLease,
): Promise<OutboxPart[]> {
  const head = {
    run_key: `b3:run-${tag}`,
    epoch_id: `epoch-${tag}`,
    commitment: `b3:${'c'.repeat(64)}`,
    payouts_root: `b3:${'d'.repeat(64)}`,
  } as ManifestHead;
  const credits = Array.from({ length: payees }, (_, i) => ({ actor: `did:ron:${tag}-${String(i).padStart(6, '0')}`, amount_minor: String(1 + (i % 97)) }));
  const parts = intentParts(head, credits).map((p) => alter({ ...p, epochId: head.epoch_id, runKey: head.run_key }));
  const record: EpochRecord = recordOf(head.epoch_id, {
    inputsCid: `b3:inputs-${tag}`,
    policyHash: `b3:policy-${tag}`,
    policyId: 'policy',
    runKey: head.run_key,
    commitment: head.commitment,
    manifest: new TextEncoder().encode(`{"epoch_id":"${head.epoch_id}"}`),
  });
  const out = await stores.publish(record, parts, initial, lease);
  assert.equal(out.created, true);
  return parts;
}

async function states(stores: MemoryStores, epochId: string): Promise<string[]> {
  return (await stores.partsOf(epochId)).map((p) => p.state);
}

async function counter(metric: { get(): Promise<{ values: Array<{ value: number; labels: Record<string, unknown> }> }> }, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

/** Enters and then leaves quarantine-only mode on the fake clock, as probes would. */
function recover(r: Rig): void {
  r.health.exhausted();
  r.health.observe(10);
  r.clock.t += RECOVERY_MS;
  r.health.observe(10);
  assert.equal(r.health.degraded, false);
}

test('emitRun sends every part of a healthy run once, in order, and the run ends accepted', LIMIT, async (t) => {
  const r = await rig(t);
  const parts = await publish(r.stores, 'healthy', 2 * PART + 5);
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'accepted');
  assert.deepEqual(r.stub.parts().map((p) => p.part_id), parts.map((p) => p.partId));
  assert.deepEqual(r.stub.parts().map((p) => p.credits), [PART, PART, 5]);
  assert.equal(r.stub.stats().requests_total, 3);
  assert.deepEqual(await states(r.stores, 'epoch-healthy'), ['accepted', 'accepted', 'accepted']);
  assert.equal(await counter(r.metrics.ledgerIntents, { result: 'accepted' }), 3);
  // A second emitRun of the same run sends nothing: its parts are final.
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'accepted');
  assert.equal(r.stub.stats().requests_total, 3);
});

test('emitRun while egress is degraded holds the run and sends nothing', LIMIT, async (t) => {
  const r = await rig(t);
  r.health.exhausted();
  const parts = await publish(r.stores, 'held', PART + 1);
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'held');
  assert.deepEqual(await states(r.stores, 'epoch-held'), ['held', 'held']);
  assert.equal(r.stub.stats().requests_total, 0);
  assert.equal(await r.stores.countParts(['held']), 2);
});

test('a part whose send ends unknown is held, egress degrades and every other pending part is held', LIMIT, async (t) => {
  const r = await rig(t);
  const waiting = await publish(r.stores, 'waiting', 2 * PART); // published earlier, not emitted yet
  r.stub.setFaults({ down: true });
  const parts = await publish(r.stores, 'unlucky', 2 * PART + 1);
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'held');
  assert.equal(r.health.degraded, true);
  assert.deepEqual(r.changes, [true]);
  assert.deepEqual(await states(r.stores, 'epoch-unlucky'), ['held', 'held', 'held']);
  assert.deepEqual(await states(r.stores, 'epoch-waiting'), ['held', 'held'], 'holdPending moved the other run too');
  assert.equal(r.stub.stats().requests_total, 3, 'only the first part was tried (3 attempts), nothing after the mode was entered');
  const [first] = await r.stores.partsOf('epoch-unlucky');
  assert.equal(first?.attempts, 3);
  assert.ok(first?.lastError, 'the last error is kept for GET /epochs/{id}/ledger');
  assert.equal(waiting.length, 2);
  assert.equal(await counter(r.metrics.ledgerIntents, { result: 'error' }), 1);
});

test('a request deadline passing during emission leaves the part pending and egress healthy', LIMIT, async (t) => {
  const r = await rig(t);
  r.stub.setFaults({ hang: true });
  const parts = await publish(r.stores, 'late', PART + 1);
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 150), 'deadline');
  assert.equal(r.health.degraded, false);
  assert.deepEqual(await states(r.stores, 'epoch-late'), ['pending', 'pending']);
  assert.equal(r.stub.stats().hung, 1, 'the second part was not sent after the deadline');
  // The drainer picks the parts up without any client once the ledger answers again.
  r.stub.clearFaults();
  await r.settlement.drainOnce();
  assert.deepEqual(await states(r.stores, 'epoch-late'), ['accepted', 'accepted']);
});

test('drainOnce while degraded probes with the oldest held part only', LIMIT, async (t) => {
  const r = await rig(t);
  const older = await publish(r.stores, 'older', PART + 1, 'held');
  await publish(r.stores, 'newer', 1, 'held');
  r.health.exhausted();
  await r.settlement.drainOnce();
  assert.equal(r.stub.stats().requests_total, 1);
  assert.deepEqual(r.stub.parts().map((p) => p.part_id), [older[0]?.partId]);
  assert.deepEqual(await states(r.stores, 'epoch-older'), ['accepted', 'held']);
  assert.deepEqual(await states(r.stores, 'epoch-newer'), ['held']);
  assert.equal(r.health.degraded, true, 'one good probe does not end the mode');
  await r.settlement.drainOnce();
  assert.deepEqual(r.stub.parts().map((p) => p.part_id), [older[0]?.partId, older[1]?.partId], 'the next probe is the next oldest');
});

test('a degraded drainer whose probe part gets no answer keeps it held', LIMIT, async (t) => {
  const r = await rig(t);
  await publish(r.stores, 'probe-down', 1, 'held');
  r.health.exhausted();
  r.stub.setFaults({ down: true });
  await r.settlement.drainOnce();
  assert.deepEqual(await states(r.stores, 'epoch-probe-down'), ['held']);
  assert.equal(r.stub.stats().unavailable, 3);
  assert.equal(r.stub.parts().length, 0);
});

test('a ledger answering 503 to every probe keeps egress degraded past the recovery window', LIMIT, async (t) => {
  const r = await rig(t);
  await publish(r.stores, 'still-down', 1, 'held');
  r.health.exhausted();
  r.stub.setFaults({ down: true });
  for (let i = 0; i < 6; i++) {
    await r.settlement.drainOnce();
    r.clock.t += RECOVERY_MS / 2;
  }
  assert.equal(r.health.degraded, true, 'fast 503s are not a healthy ledger');
  assert.deepEqual(r.changes, [true]);
  assert.deepEqual(await states(r.stores, 'epoch-still-down'), ['held']);
});

test('after recovery drainOnce emits every held part in publication order', LIMIT, async (t) => {
  const r = await rig(t, { batch: 2 });
  const a = await publish(r.stores, 'a', PART + 1, 'held');
  const b = await publish(r.stores, 'b', 3, 'held');
  const c = await publish(r.stores, 'c', 2 * PART + 1, 'held');
  recover(r);
  await r.settlement.drainOnce();
  assert.deepEqual(
    r.stub.parts().map((p) => p.part_id),
    [...a, ...b, ...c].map((p) => p.partId),
  );
  assert.equal(r.stub.stats().requests_total, 6);
  assert.equal(r.stub.stats().dup, 0);
  assert.equal(await r.stores.countParts(['held', 'pending']), 0);
  assert.deepEqual(await states(r.stores, 'epoch-c'), ['accepted', 'accepted', 'accepted']);
});

test('parts leased by another owner are not emitted by this one until the lease expires', LIMIT, async (t) => {
  const r = await rig(t);
  const parts = await publish(r.stores, 'leased', PART + 1);
  const taken = await r.stores.claimPartsById('replica-b', parts.map((p) => p.partId), 30_000);
  assert.equal(taken.length, 2);
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'pending');
  await r.settlement.drainOnce();
  assert.equal(r.stub.stats().requests_total, 0);
  // replica-b crashed: its lease runs out and this replica's drainer takes over, once per part.
  r.clock.t += 30_001;
  await r.settlement.drainOnce();
  assert.equal(r.stub.stats().requests_total, 2);
  assert.deepEqual(await states(r.stores, 'epoch-leased'), ['accepted', 'accepted']);
});

test("a run published under its request's lease is emitted by that request, not by drainers ticking in between", LIMIT, async (t) => {
  const r = await rig(t);
  const parts = await publish(r.stores, 'fresh', PART + 1, 'pending', undefined, r.settlement.publishLease());
  // Between the publish and the request's claim, drainers here and on another replica tick.
  await Promise.all([r.replica('replica-b').drainOnce(), r.settlement.drainOnce()]);
  assert.equal(r.stub.stats().requests_total, 0, 'no drainer takes a part its publisher is about to emit');
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'accepted');
  assert.deepEqual(r.stub.parts().map((p) => p.x_corr_id), ['corr', 'corr'], 'both parts sent by the request');
});

test('two replicas draining one outbox concurrently send each part once', LIMIT, async (t) => {
  const r = await rig(t, { batch: 3 });
  const all: OutboxPart[] = [];
  for (let i = 0; i < 6; i++) all.push(...(await publish(r.stores, `shared-${i}`, i % 2 === 0 ? PART + 1 : 2, 'held')));
  const other = r.replica('replica-b');
  await Promise.all([r.settlement.drainOnce(), other.drainOnce(), r.settlement.drainOnce()]);
  const stats = r.stub.stats();
  assert.equal(stats.requests_total, all.length);
  assert.equal(stats.accepted, all.length);
  assert.equal(stats.dup, 0);
  assert.equal(await r.stores.countParts(['accepted']), all.length);
});

test('a conflicting part is marked conflict, never retried, and counted in ledger_conflicts_total', LIMIT, async (t) => {
  const r = await rig(t);
  const parts = await publish(r.stores, 'clash', 2);
  const part = parts[0] as OutboxPart;
  // Someone already sent a different body under this part_id.
  const forged = new TextEncoder().encode(new TextDecoder().decode(part.body).replace('"amount_minor":"1"', '"amount_minor":"999"'));
  assert.notDeepEqual(forged, part.body);
  const direct = new LedgerClient({ url: r.stub.url, maxRetries: 0, attemptMs: 1_000 });
  assert.equal((await direct.send({ ...part, body: forged }, 'forger')).result, 'accepted');

  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'failed');
  const [status] = await r.stores.partsOf('epoch-clash');
  assert.equal(status?.state, 'conflict');
  assert.equal(status?.attempts, 1);
  assert.equal(r.stub.stats().conflict, 1);
  assert.equal(r.stub.stats().requests_total, 2, 'one forged request, one conflicting one');
  assert.equal(await counter(r.metrics.ledgerConflicts), 1);
  assert.equal(await counter(r.metrics.ledgerIntents, { result: 'conflict' }), 1);
  assert.equal(r.health.degraded, false, 'a conflict says nothing about the ledger being slow');
  // A conflict is final: drains leave it alone.
  await r.settlement.drainOnce();
  assert.equal(r.stub.stats().requests_total, 2);
});

test('a permanently refused part is marked failed and the run reports failed', LIMIT, async (t) => {
  const r = await rig(t);
  // A body the ledger cannot read (400): permanent, not retried.
  const broken = (p: OutboxPart) => ({ ...p, body: new TextEncoder().encode(`{"part_id":"${p.partId}","credits":[{"amount_minor":"-1"}]}`) });
  const parts = await publish(r.stores, 'refused', 1, 'pending', broken);
  assert.equal(await r.settlement.emitRun(parts, 'corr', Date.now() + 10_000), 'failed');
  assert.deepEqual(await states(r.stores, 'epoch-refused'), ['failed']);
  assert.equal(r.stub.stats().bad_request, 1);
  assert.equal(r.stub.stats().requests_total, 1);
});

test('the drainer started on a timer empties the held queue once the ledger recovers', LIMIT, async (t) => {
  const r = await rig(t);
  const parts = await publish(r.stores, 'timer', PART + 1, 'held');
  recover(r);
  r.settlement.start();
  t.after(() => r.settlement.stop());
  const until = Date.now() + 5_000;
  while ((await r.stores.countParts(['held'])) > 0 && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
  await r.settlement.stop();
  assert.deepEqual(r.stub.parts().map((p) => p.part_id), parts.map((p) => p.partId));
});
