// The behaviour every `Stores` implementation owes the service, as one node:test suite that each
// implementation's test file runs against itself. `open` must return a fresh, empty store driven by
// the given clock; each test closes the store it opened, `cleanup` runs once after the suite.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { AppError } from '../errors.js';
import type { EpochRecord, InitialState, OutboxPart, PartState, PublishLease, PublishOutcome, Sealer, StoredInputs, Stores } from './types.js';

const LIVE: readonly PartState[] = ['pending', 'held'];
const ALL: readonly PartState[] = ['pending', 'held', 'accepted', 'dup', 'conflict', 'failed'];

/** Every byte value, so an encoding that mangles any of them (0x00, '\\', '"', 0xff) shows. */
const EVERY_BYTE = Uint8Array.from({ length: 256 }, (_, i) => i);
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

let windows = 0;

/**
 * A record of `epochId` in the `default` program, with a window of its own (one day after the
 * previous record's), so records made without a window never overlap.
 */
export function record(epochId: string, over: Partial<EpochRecord> = {}): EpochRecord {
  const day = 86_400_000;
  const start = 1_700_000_000_000 + windows++ * day;
  return {
    epochId,
    inputsCid: `cid-${epochId}`,
    policyHash: `ph-${epochId}`,
    policyId: 'pol',
    runKey: `rk-${epochId}`,
    commitment: `c-${epochId}`,
    manifest: utf8(`{"epoch":"${epochId}"}`),
    attestation: null,
    program: 'default',
    window: { startMs: start, endMs: start + day },
    tenant: 'acme',
    corrId: `corr-${epochId}`,
    boundAt: 1_700_000_000_000,
    payees: 3,
    payoutMinor: '927',
    holdUntil: 0,
    supersedes: null,
    supersededBy: null,
    basis: null,
    correction: null,
    correctionAttestation: null,
    ...over,
  };
}

const ACME: Sealer = { tenant: 'acme', quotaBytes: null };
const GLOBEX: Sealer = { tenant: 'globex', quotaBytes: null };

function inputsDoc(cid: string, bytes: Uint8Array, over: Partial<StoredInputs> = {}): StoredInputs {
  return { cid, bytes, actors: 3, events: 5_000_000_000, window: { startMs: 0, endMs: 10 }, poolMinor: '340282366920938463463374607431768211455', ...over };
}

/** `count` parts of an epoch, in index order, each with a distinct body. */
export function partsFor(rec: EpochRecord, count: number): OutboxPart[] {
  return Array.from({ length: count }, (_, index) => ({
    partId: `${rec.runKey}/${index}`,
    epochId: rec.epochId,
    runKey: rec.runKey,
    index,
    count,
    body: utf8(`{"part":${index},"of":${count},"epoch":"${rec.epochId}"}`),
  }));
}

/**
 * Seals a record's documents as its tenant, as the service always has before it binds an epoch
 * (PostgreSQL refuses a binding whose documents are not stored: issue 15's foreign keys).
 */
export async function sealDocumentsOf(s: Stores, rec: EpochRecord): Promise<void> {
  const by: Sealer = { tenant: rec.tenant, quotaBytes: null };
  await s.putInputs(inputsDoc(rec.inputsCid, utf8(rec.inputsCid)), by);
  await s.putPolicy({ hash: rec.policyHash, id: rec.policyId, bytes: utf8(rec.policyHash) }, by);
}

/** Seals the record's documents, then publishes it: a binding the way the service makes one. */
export async function bind(s: Stores, rec: EpochRecord, parts: readonly OutboxPart[], initial: InitialState, lease?: PublishLease): Promise<PublishOutcome> {
  await sealDocumentsOf(s, rec);
  return s.publish(rec, parts, initial, lease);
}

const ids = (parts: readonly OutboxPart[]): string[] => parts.map((p) => p.partId);

interface Clock {
  now: () => number;
  advance: (ms: number) => void;
}

export function runStoreContract(name: string, open: (now: () => number) => Promise<Stores>, cleanup: () => Promise<void>): void {
  async function withStore(fn: (s: Stores, clock: Clock) => Promise<void>): Promise<void> {
    let t = 1_700_000_000_000;
    const clock: Clock = { now: () => t, advance: (ms) => void (t += ms) };
    const s = await open(clock.now);
    try {
      await fn(s, clock);
    } finally {
      await s.close();
    }
  }

  /** Publishes `n` parts of a fresh epoch and returns them. */
  async function published(s: Stores, epochId: string, n: number, initial: 'pending' | 'held' = 'pending'): Promise<OutboxPart[]> {
    const rec = record(epochId);
    const parts = partsFor(rec, n);
    assert.equal((await bind(s, rec, parts, initial)).created, true);
    return parts;
  }

  /** One test, on a fresh store and clock; the store is closed whatever happens. */
  function scenario(title: string, fn: (s: Stores, clock: Clock) => Promise<void>): void {
    void test(title, () => withStore(fn));
  }

  void describe(`store contract: ${name}`, () => {
    after(cleanup);

    scenario('stores inputs once and returns their exact bytes', async (s) => {
      assert.equal(await s.getInputs('cid-1', 'acme'), null);
      assert.equal(await s.putInputs(inputsDoc('cid-1', EVERY_BYTE), ACME), true);
      assert.equal(await s.putInputs(inputsDoc('cid-1', utf8('other'), { actors: 1, events: 1 }), ACME), false);
      assert.deepEqual(await s.getInputs('cid-1', 'acme'), inputsDoc('cid-1', EVERY_BYTE));
      assert.equal(await s.putInputs(inputsDoc('cid-empty', new Uint8Array(0), { window: null, poolMinor: null }), ACME), true);
      assert.deepEqual(await s.getInputs('cid-empty', 'acme'), inputsDoc('cid-empty', new Uint8Array(0), { window: null, poolMinor: null }));
    });

    scenario('stores a policy once and returns its exact bytes', async (s) => {
      assert.equal(await s.getPolicy('ph-1', 'acme'), null);
      assert.equal(await s.putPolicy({ hash: 'ph-1', id: 'pol-a', bytes: EVERY_BYTE }, ACME), true);
      assert.equal(await s.putPolicy({ hash: 'ph-1', id: 'pol-b', bytes: utf8('other') }, ACME), false);
      assert.deepEqual(await s.getPolicy('ph-1', 'acme'), { hash: 'ph-1', id: 'pol-a', bytes: EVERY_BYTE });
    });

    scenario('a document is read only by the tenants that sealed it; its bytes are stored once', async (s) => {
      assert.equal(await s.putInputs(inputsDoc('cid-1', EVERY_BYTE), ACME), true);
      assert.equal(await s.putPolicy({ hash: 'ph-1', id: 'pol', bytes: utf8('{}') }, ACME), true);
      assert.equal(await s.getInputs('cid-1', 'globex'), null);
      assert.equal(await s.getPolicy('ph-1', 'globex'), null);
      assert.equal(await s.owns('inputs', 'cid-1', 'globex'), false);
      assert.equal(await s.owns('inputs', 'cid-1', 'acme'), true);
      assert.equal(await s.owns('policy', 'cid-1', 'acme'), false, 'kinds are apart');
      // Globex sealing the same bytes is a first sealing for globex: true, as for new bytes.
      assert.equal(await s.putInputs(inputsDoc('cid-1', EVERY_BYTE), GLOBEX), true);
      assert.equal(await s.putInputs(inputsDoc('cid-1', EVERY_BYTE), GLOBEX), false);
      assert.deepEqual((await s.getInputs('cid-1', 'globex'))?.bytes, EVERY_BYTE);
      // Each owner is charged the whole document.
      assert.deepEqual(await s.tenantUsage(), new Map([['acme', 258], ['globex', 256]]));
    });

    scenario('a tenant quota refuses the document that would pass it, and nothing of it is kept', async (s) => {
      const small: Sealer = { tenant: 'acme', quotaBytes: 300 };
      assert.equal(await s.putInputs(inputsDoc('cid-1', EVERY_BYTE), small), true);
      await assert.rejects(s.putPolicy({ hash: 'ph-1', id: 'pol', bytes: new Uint8Array(45) }, small), (e: AppError) => {
        assert.equal(e.code, 'QUOTA_EXCEEDED');
        assert.deepEqual(e.details, { reason: 'tenant_quota', limit_bytes: 300, used_bytes: 256, document_bytes: 45 });
        return true;
      });
      assert.equal(await s.getPolicy('ph-1', 'acme'), null);
      assert.equal(await s.putPolicy({ hash: 'ph-1', id: 'pol', bytes: new Uint8Array(44) }, small), true);
      // Already owned: no new bytes, no refusal, even at the limit.
      assert.equal(await s.putInputs(inputsDoc('cid-1', EVERY_BYTE), small), false);
      // Another tenant's quota is its own.
      assert.equal(await s.putInputs(inputsDoc('cid-1', EVERY_BYTE), { tenant: 'globex', quotaBytes: 256 }), true);
      assert.deepEqual(await s.tenantUsage(), new Map([['acme', 300], ['globex', 256]]));
    });

    scenario('a window overlapping another binding of the program is refused, naming it; other programs and touching windows bind', async (s) => {
      const w = (startMs: number, endMs: number) => ({ startMs, endMs });
      const first = record('acme:e1', { program: 'acme', window: w(100, 200) });
      assert.equal((await bind(s, first, partsFor(first, 1), 'pending')).created, true);
      for (const [id, win] of [['acme:e2', w(150, 160)], ['acme:e3', w(0, 101)], ['acme:e4', w(199, 300)], ['acme:e5', w(0, 1000)]] as const) {
        await assert.rejects(bind(s, record(id, { program: 'acme', window: win }), [], 'pending'), (e: AppError) => {
          assert.equal(e.code, 'WINDOW_OVERLAP', id);
          assert.deepEqual(e.details, { reason: 'window_overlap', epoch_id: 'acme:e1' });
          return true;
        });
        assert.equal(await s.getEpoch(id), null);
      }
      assert.equal(await s.overlapping('acme', w(150, 160)), 'acme:e1');
      assert.equal(await s.overlapping('acme', w(200, 300)), null);
      assert.equal(await s.overlapping('globex', w(150, 160)), null);
      assert.equal((await bind(s, record('acme:e6', { program: 'acme', window: w(200, 300) }), [], 'pending')).created, true);
      assert.equal((await bind(s, record('acme:e7', { program: 'acme', window: w(0, 100) }), [], 'pending')).created, true);
      assert.equal((await bind(s, record('globex:e1', { program: 'globex', window: w(100, 200) }), [], 'pending')).created, true);
      // The same epoch again is the bound record (replay or conflict), never an overlap with itself.
      assert.deepEqual(await bind(s, record('acme:e1', { program: 'acme', window: w(100, 200) }), [], 'pending'), { created: false, record: first });
      assert.equal(await s.countParts(ALL), 1);
    });

    scenario('listEpochs pages a program in window order and records who bound each epoch', async (s) => {
      const w = (startMs: number) => ({ startMs, endMs: startMs + 10 });
      for (const [id, start] of [['p:c', 30], ['p:a', 10], ['p:b', 20], ['p:d', 40]] as const) {
        await bind(s, record(id, { program: 'p', window: w(start), tenant: `t-${id}`, corrId: `corr-${id}`, boundAt: 1_700_000_000_000 + start }), [], 'pending');
      }
      await bind(s, record('q:z', { program: 'q', window: w(0) }), [], 'pending');
      const page1 = await s.listEpochs('p', null, 3);
      assert.deepEqual(page1?.map((e) => e.epochId), ['p:a', 'p:b', 'p:c']);
      const { manifest: _m, attestation: _a, correction: _c, correctionAttestation: _ca, ...expected } = record('p:a', { program: 'p', window: w(10), tenant: 't-p:a', corrId: 'corr-p:a', boundAt: 1_700_000_000_010 });
      assert.deepEqual(page1?.[0], expected);
      assert.deepEqual((await s.listEpochs('p', 'p:c', 3))?.map((e) => e.epochId), ['p:d']);
      assert.deepEqual(await s.listEpochs('p', 'p:d', 3), []);
      assert.equal(await s.listEpochs('p', 'q:z', 3), null, 'a cursor from another program');
      assert.deepEqual(await s.listEpochs('nobody', null, 3), []);
    });

    scenario('getEpoch returns null for an unbound epoch and the exact record once published', async (s) => {
      assert.equal(await s.getEpoch('e1'), null);
      const signed = record('e1', { manifest: EVERY_BYTE, attestation: utf8('{"sig":"x"}') });
      await bind(s, signed, [], 'pending');
      assert.deepEqual(await s.getEpoch('e1'), signed);
      const unsigned = record('e2');
      await bind(s, unsigned, [], 'pending');
      assert.deepEqual(await s.getEpoch('e2'), unsigned);
    });

    scenario('publish binds an epoch once: a second publish gets the first record back and writes no parts', async (s) => {
      const first = record('e1');
      const firstParts = partsFor(first, 3);
      assert.deepEqual(await bind(s, first, firstParts, 'pending'), { created: true, record: first });
      const second = record('e1', { runKey: 'rk-other', commitment: 'c-other', manifest: utf8('other') });
      const outcome = await bind(s, second, partsFor(second, 5), 'held');
      assert.deepEqual(outcome, { created: false, record: first });
      assert.deepEqual(await s.getEpoch('e1'), first);
      assert.deepEqual((await s.partsOf('e1')).map((p) => p.partId), ids(firstParts));
      assert.equal(await s.countParts(ALL), 3);
      assert.equal(await s.countParts(['held']), 0);
    });

    scenario('publish enqueues the parts in the requested initial state with no attempts', async (s) => {
      await published(s, 'e-pending', 2, 'pending');
      await published(s, 'e-held', 3, 'held');
      const held = await s.partsOf('e-held');
      assert.deepEqual(
        held.map((p) => [p.state, p.attempts, p.lastError, p.index, p.count]),
        [['held', 0, null, 0, 3], ['held', 0, null, 1, 3], ['held', 0, null, 2, 3]],
      );
      assert.deepEqual((await s.partsOf('e-pending')).map((p) => p.state), ['pending', 'pending']);
    });

    scenario('claimed parts carry the exact fields and body bytes they were published with', async (s) => {
      const rec = record('e1');
      const parts = partsFor(rec, 2).map((p, i) => (i === 0 ? { ...p, body: EVERY_BYTE } : p));
      await bind(s, rec, parts, 'pending');
      assert.deepEqual(await s.claimParts('a', 10, 1000, LIVE), parts);
    });

    scenario('claimParts returns only parts in the requested states', async (s) => {
      const pending = await published(s, 'e-pending', 2, 'pending');
      const held = await published(s, 'e-held', 2, 'held');
      assert.deepEqual(ids(await s.claimParts('a', 10, 1000, ['held'])), ids(held));
      assert.deepEqual(ids(await s.claimParts('a', 10, 1000, ['held', 'pending'])), ids(pending));
    });

    scenario('claimParts returns at most limit parts, in publication order then index, and skips those it leased', async (s) => {
      // Epoch ids sort against publication order, so an implementation ordering by id fails.
      const z = await published(s, 'z-first', 3);
      const a = await published(s, 'a-second', 2);
      const m = await published(s, 'm-third', 1);
      assert.deepEqual(ids(await s.claimParts('a', 4, 1000, LIVE)), ids([...z, ...a.slice(0, 1)]));
      assert.deepEqual(ids(await s.claimParts('b', 4, 1000, LIVE)), ids([...a.slice(1), ...m]));
      assert.deepEqual(await s.claimParts('c', 4, 1000, LIVE), []);
    });

    scenario('a leased part is not claimable, even by its owner, until the lease expires', async (s, clock) => {
      const parts = await published(s, 'e1', 1);
      assert.deepEqual(ids(await s.claimParts('a', 10, 1000, LIVE)), ids(parts));
      assert.deepEqual(await s.claimParts('b', 10, 1000, LIVE), []);
      assert.deepEqual(await s.claimParts('a', 10, 1000, LIVE), []);
      assert.deepEqual(await s.claimPartsById('b', ids(parts), 1000), []);
      clock.advance(999);
      assert.deepEqual(await s.claimParts('b', 10, 1000, LIVE), []);
      clock.advance(2);
      assert.deepEqual(ids(await s.claimParts('b', 10, 5000, LIVE)), ids(parts));
      clock.advance(1001);
      assert.deepEqual(await s.claimParts('a', 10, 1000, LIVE), [], "b's new lease runs 5000 ms from its own claim");
    });

    scenario('claimPartsById leases only the named parts that are unleased and not final, in the order asked', async (s) => {
      const parts = await published(s, 'e1', 4);
      const [p0, p1, p2, p3] = ids(parts) as [string, string, string, string];
      await s.claimPartsById('other', [p1], 1000);
      await s.settlePart(p2, 'x', 'accepted', 1, null);
      const got = await s.claimPartsById('me', [p3, p2, 'no-such-part', p1, p0], 1000);
      assert.deepEqual(ids(got), [p3, p0]);
      assert.deepEqual(await s.claimParts('third', 10, 1000, LIVE), []);
    });

    scenario('publish with a lease reserves the parts for their publisher, who claims them by id; others only once it expires', async (s, clock) => {
      const emitted = record('e-emitted');
      const orphaned = record('e-orphaned');
      const [mine, lost] = [partsFor(emitted, 2), partsFor(orphaned, 1)];
      await bind(s, emitted, mine, 'pending', { owner: 'publisher', ms: 1000 });
      await bind(s, orphaned, lost, 'pending', { owner: 'dead', ms: 1000 });
      assert.deepEqual(await s.claimParts('drainer', 10, 1000, LIVE), [], 'no drainer takes a part its publisher is about to emit');
      assert.deepEqual(await s.claimPartsById('other', ids(mine), 1000), []);
      clock.advance(500);
      assert.deepEqual(ids(await s.claimPartsById('publisher', ids(mine), 1000)), ids(mine), 'the publisher claims its own, renewing the lease');
      clock.advance(501);
      assert.deepEqual(ids(await s.claimParts('drainer', 10, 1000, LIVE)), ids(lost), "a publisher that never emitted leaves its parts once the lease expires");
      clock.advance(500);
      assert.deepEqual(ids(await s.claimParts('drainer2', 10, 1000, LIVE)), ids(mine), 'the renewed lease ran 1000 ms from the claim');
    });

    scenario('settlePart records the outcome and attempts, and frees the lease for anyone', async (s) => {
      const [part] = await published(s, 'e1', 1);
      assert.ok(part);
      await s.claimParts('a', 1, 60_000, LIVE);
      await s.settlePart(part.partId, 'a', 'pending', 2, 'timeout');
      assert.deepEqual(ids(await s.claimParts('b', 1, 60_000, LIVE)), [part.partId]);
      await s.settlePart(part.partId, 'b', 'held', 1, 'ledger degraded');
      const [status] = await s.partsOf('e1');
      assert.deepEqual(status && [status.state, status.attempts, status.lastError], ['held', 3, 'ledger degraded']);
      assert.deepEqual(ids(await s.claimParts('c', 1, 60_000, ['held'])), [part.partId]);
    });

    scenario('releaseLeases frees only the owner\'s leases, at once, for anyone', async (s) => {
      const [one, two, three] = await published(s, 'e1', 3);
      assert.ok(one && two && three);
      assert.deepEqual(ids(await s.claimParts('a', 2, 60_000, LIVE)), [one.partId, two.partId]);
      assert.deepEqual(ids(await s.claimParts('b', 1, 60_000, LIVE)), [three.partId]);
      assert.equal(await s.releaseLeases('a'), 2);
      assert.deepEqual(ids(await s.claimParts('c', 10, 60_000, LIVE)), [one.partId, two.partId], "a's parts at once, b's still leased");
      assert.equal(await s.releaseLeases('a'), 0);
    });

    scenario('settlePart by someone other than the lease owner keeps the lease, which its owner can still release', async (s, clock) => {
      const [one, two] = await published(s, 'e1', 2);
      assert.ok(one && two);
      await s.claimParts('a', 2, 1000, LIVE);
      await s.settlePart(one.partId, 'b', 'pending', 1, 'b tried');
      await s.settlePart(two.partId, 'b', 'pending', 1, 'b tried');
      assert.deepEqual(await s.claimParts('b', 2, 1000, LIVE), []);
      await s.settlePart(two.partId, 'a', 'pending', 1, 'a tried');
      assert.deepEqual(ids(await s.claimParts('b', 2, 5000, LIVE)), [two.partId]);
      clock.advance(1001);
      assert.deepEqual(ids(await s.claimParts('c', 2, 1000, LIVE)), [one.partId]);
    });

    scenario('final states are never left, while attempts and the last error keep being recorded', async (s, clock) => {
      const parts = await published(s, 'e1', 4);
      const finals: PartState[] = ['accepted', 'dup', 'conflict', 'failed'];
      for (const [i, state] of finals.entries()) {
        const id = parts[i]?.partId ?? '';
        await s.settlePart(id, 'a', state, 1, null);
        await s.settlePart(id, 'a', 'pending', 2, 'late retry');
        await s.settlePart(id, 'a', 'held', 0, 'late hold');
      }
      assert.equal(await s.holdPending(), 0);
      const statuses = await s.partsOf('e1');
      assert.deepEqual(statuses.map((p) => [p.state, p.attempts, p.lastError]), finals.map((f) => [f, 3, 'late hold']));
      clock.advance(10_000);
      assert.deepEqual(await s.claimParts('a', 10, 1000, ALL), []);
      assert.deepEqual(await s.claimPartsById('a', ids(parts), 1000), []);
    });

    scenario('redriveFailed moves failed parts (of one epoch or all) back to pending with their bodies, never conflicts', async (s, clock) => {
      const e1 = await published(s, 'e1', 3);
      const e2 = await published(s, 'e2', 1);
      const [a, b, c] = e1;
      const [d] = e2;
      assert.ok(a && b && c && d);
      await s.claimParts('x', 10, 1000, LIVE);
      await s.settlePart(a.partId, 'x', 'failed', 1, 'HTTP 400');
      await s.settlePart(b.partId, 'x', 'conflict', 1, 'conflict');
      await s.settlePart(c.partId, 'x', 'accepted', 1, null);
      await s.settlePart(d.partId, 'x', 'failed', 2, 'HTTP 422');
      assert.equal(await s.redriveFailed('no-such-epoch'), 0);
      assert.equal(await s.redriveFailed('e1'), 1);
      assert.deepEqual((await s.partsOf('e1')).map((p) => [p.state, p.attempts, p.lastError]), [
        ['pending', 1, 'HTTP 400'],
        ['conflict', 1, 'conflict'],
        ['accepted', 1, null],
      ]);
      assert.equal((await s.partsOf('e2'))[0]?.state, 'failed');
      assert.equal(await s.redriveFailed(), 1);
      assert.equal(await s.redriveFailed(), 0);
      clock.advance(1);
      // Claimable again, with the exact body published.
      const again = await s.claimParts('y', 10, 1000, LIVE);
      assert.deepEqual(ids(again).sort(), [a.partId, d.partId].sort());
      assert.deepEqual(again.find((p) => p.partId === a.partId)?.body, a.body);
    });

    scenario('settlePart on an unknown part changes nothing and does not throw', async (s) => {
      await published(s, 'e1', 1);
      await s.settlePart('no-such-part', 'a', 'accepted', 1, null);
      assert.equal(await s.countParts(['pending']), 1);
    });

    scenario('holdPending moves only pending parts to held and says how many', async (s) => {
      const parts = await published(s, 'e1', 3);
      await published(s, 'e2', 2, 'held');
      await s.settlePart(parts[0]?.partId ?? '', 'a', 'accepted', 1, null);
      assert.equal(await s.holdPending(), 2);
      assert.deepEqual((await s.partsOf('e1')).map((p) => p.state), ['accepted', 'held', 'held']);
      assert.equal(await s.countParts(['pending']), 0);
      assert.equal(await s.countParts(['held']), 4);
      assert.equal(await s.holdPending(), 0);
    });

    scenario('partsOf lists an epoch’s parts by index and countParts counts by state', async (s) => {
      const parts = await published(s, 'e1', 5);
      await published(s, 'e2', 2, 'held');
      await s.settlePart(parts[1]?.partId ?? '', 'a', 'dup', 1, null);
      await s.settlePart(parts[3]?.partId ?? '', 'a', 'failed', 1, 'HTTP 400');
      assert.deepEqual((await s.partsOf('e1')).map((p) => [p.index, p.partId]), parts.map((p) => [p.index, p.partId]));
      assert.deepEqual(await s.partsOf('no-such-epoch'), []);
      assert.equal(await s.countParts(['pending']), 3);
      assert.equal(await s.countParts(['held', 'dup']), 3);
      assert.equal(await s.countParts(['accepted', 'conflict']), 0);
      assert.equal(await s.countParts(ALL), 7);
      assert.equal(await s.countParts([]), 0);
    });

    // SPEC §13: holds and supersession.

    scenario('an on_hold part is claimed only once its hold has ended, as pending', async (s, clock) => {
      const rec = record('p:h', { program: 'p', holdUntil: clock.now() + 1000 });
      const parts = partsFor(rec, 2);
      assert.equal((await bind(s, rec, parts, 'on_hold')).created, true);
      assert.equal((await s.getEpoch('p:h'))?.holdUntil, clock.now() + 1000);
      assert.deepEqual((await s.partsOf('p:h')).map((p) => p.state), ['on_hold', 'on_hold']);
      assert.equal(await s.countParts(['on_hold']), 2);
      assert.deepEqual(await s.claimParts('a', 10, 500, ['held', 'pending']), []);
      assert.deepEqual(await s.claimPartsById('a', ids(parts), 500), [], 'a hold is not jumped by id either');
      assert.equal(await s.holdPending(), 0, 'quarantine leaves on_hold parts on hold');
      clock.advance(999);
      assert.deepEqual(await s.claimParts('a', 10, 500, ['held']), [], 'only a claim of pending parts takes them');
      assert.deepEqual(await s.claimParts('a', 10, 500, ['pending']), []);
      clock.advance(1);
      assert.deepEqual(ids(await s.claimParts('a', 10, 500, ['held', 'pending'])), ids(parts));
      assert.deepEqual((await s.partsOf('p:h')).map((p) => p.state), ['pending', 'pending']);
    });

    scenario('supersession marks the old epoch, takes its window over and cancels exactly its never-claimed parts', async (s) => {
      const window = { startMs: 0, endMs: 100 };
      const old = record('p:old', { program: 'p', window });
      const parts = partsFor(old, 4);
      await bind(s, old, parts, 'pending');
      // Part 0 claimed and answered, part 1 claimed (in flight), parts 2 and 3 never claimed.
      assert.deepEqual(ids(await s.claimPartsById('a', [parts[0]?.partId ?? '', parts[1]?.partId ?? ''], 500)), ids(parts.slice(0, 2)));
      await s.settlePart(parts[0]?.partId ?? '', 'a', 'accepted', 1, null);
      const next = record('p:new', { program: 'p', window, supersedes: 'p:old', basis: 'awaiting' });
      assert.equal((await bind(s, next, [], 'awaiting_basis')).created, true);
      const marked = await s.getEpoch('p:old');
      assert.equal(marked?.supersededBy, 'p:new');
      assert.deepEqual(marked?.manifest, old.manifest, 'the superseded binding itself is unchanged');
      const bound = await s.getEpoch('p:new');
      assert.deepEqual([bound?.supersedes, bound?.basis, bound?.supersededBy], ['p:old', 'awaiting', null]);
      assert.deepEqual((await s.partsOf('p:old')).map((p) => p.state), ['accepted', 'pending', 'cancelled', 'cancelled']);
      assert.deepEqual(await s.partsOf('p:new'), [], 'bound without parts until its basis is fixed');
      assert.deepEqual(await s.awaitingBasis(), ['p:new']);
      // Cancelled parts are never claimed again; the in-flight one is, once its lease ends.
      assert.deepEqual(ids(await s.claimPartsById('b', ids(parts), 500)), [], 'leased by a, cancelled or final');
      assert.equal(await s.overlapping('p', window), 'p:new', 'the window belongs to the successor');
      // A third epoch over the window is refused; a second successor too.
      await assert.rejects(bind(s, record('p:other', { program: 'p', window }), [], 'pending'), (e: AppError) => e.code === 'WINDOW_OVERLAP' && e.details.epoch_id === 'p:new');
      await assert.rejects(bind(s, record('p:again', { program: 'p', window, supersedes: 'p:old', basis: 'awaiting' }), [], 'awaiting_basis'), (e: AppError) => {
        assert.equal(e.code, 'ALREADY_SUPERSEDED');
        assert.equal(e.details.superseded_by, 'p:new');
        return true;
      });
      await assert.rejects(bind(s, record('p:x', { program: 'p', window: { startMs: 500, endMs: 600 }, supersedes: 'q:none', basis: 'awaiting' }), [], 'awaiting_basis'), (e: AppError) => e.code === 'NOT_FOUND');
      // The new epoch superseded in turn: it awaits no more, and never fixes its basis.
      await bind(s, record('p:third', { program: 'p', window, supersedes: 'p:new', basis: 'awaiting' }), [], 'awaiting_basis');
      assert.deepEqual(await s.awaitingBasis(), ['p:third']);
      assert.equal(await s.overlapping('p', window), 'p:third', 'superseded epochs (p:new, p:old sort first) hold no window');
      assert.equal(await s.fixBasis('p:new', { document: null, attestation: null, parts: [] }), false, 'a superseded epoch never fixes its basis');
    });

    scenario('a failed part of a superseded epoch is never re-driven: its successor counted it unpaid', async (s) => {
      const window = { startMs: 0, endMs: 100 };
      const old = record('p:old', { program: 'p', window });
      const parts = partsFor(old, 2);
      await bind(s, old, parts, 'pending');
      await s.claimParts('a', 2, 500, ['pending']);
      for (const p of parts) await s.settlePart(p.partId, 'a', 'failed', 1, 'HTTP 422');
      assert.equal(await s.redriveFailed('p:old'), 2, 'before supersession a re-drive is allowed');
      await s.claimParts('a', 2, 500, ['pending']);
      for (const p of parts) await s.settlePart(p.partId, 'a', 'failed', 1, 'HTTP 422');
      await bind(s, record('p:new', { program: 'p', window, supersedes: 'p:old', basis: 'awaiting' }), [], 'awaiting_basis');
      assert.equal(await s.redriveFailed('p:old'), 0);
      assert.equal(await s.redriveFailed(), 0);
      assert.deepEqual((await s.partsOf('p:old')).map((p) => p.state), ['failed', 'failed']);
    });

    scenario('a part is either claimed or cancelled, whichever comes first, for every interleaving', async (s) => {
      // (Racing claims from several callers against one supersession; PostgreSQL runs them on separate connections.)
      const window = { startMs: 0, endMs: 100 };
      const old = record('p:old', { program: 'p', window });
      const parts = partsFor(old, 40);
      await bind(s, old, parts, 'pending');
      // Claims and the supersession race; every claimed part must stay uncancelled.
      const claims = Array.from({ length: 8 }, (_, i) => s.claimParts(`r${i}`, 3, 60_000, ['pending', 'held']));
      const superseding = bind(s, record('p:new', { program: 'p', window, supersedes: 'p:old', basis: 'awaiting' }), [], 'awaiting_basis');
      const claimed = new Set((await Promise.all(claims)).flat().map((p) => p.partId));
      await superseding;
      for (const p of await s.partsOf('p:old')) {
        assert.equal(p.state === 'cancelled', !claimed.has(p.partId), `${p.partId}: cancelled exactly when never claimed`);
      }
      assert.deepEqual(await s.claimParts('late', 100, 60_000, ['pending', 'held']), [], 'nothing is claimable after: claimed ones are leased, the rest cancelled');
    });

    scenario('fixBasis stores the correction and enqueues its parts once; an empty basis enqueues plain parts, on hold while the hold lasts', async (s, clock) => {
      const w1 = { startMs: 0, endMs: 100 };
      await bind(s, record('p:a', { program: 'p', window: w1 }), [], 'pending');
      const b = record('p:b', { program: 'p', window: w1, supersedes: 'p:a', basis: 'awaiting' });
      await bind(s, b, [], 'awaiting_basis');
      assert.equal(await s.fixBasis('p:a', { document: null, attestation: null, parts: [] }), false, 'only a superseding epoch has a basis');
      const corr = partsFor(record('p:b', { runKey: 'rk-corr' }), 3);
      assert.equal(await s.fixBasis('p:b', { document: utf8('{"doc":1}'), attestation: null, parts: corr }), true);
      assert.equal(await s.fixBasis('p:b', { document: utf8('{"doc":2}'), attestation: null, parts: corr }), false, 'once');
      const fixedB = await s.getEpoch('p:b');
      assert.equal(fixedB?.basis, 'fixed');
      assert.deepEqual(fixedB?.correction, utf8('{"doc":1}'));
      assert.deepEqual((await s.partsOf('p:b')).map((p) => [p.partId, p.state]), corr.map((p) => [p.partId, 'pending']));
      assert.deepEqual(await s.awaitingBasis(), []);
      assert.deepEqual(ids(await s.claimParts('a', 10, 500, ['pending'])), ids(corr));

      const w2 = { startMs: 100, endMs: 200 };
      await bind(s, record('p:c', { program: 'p', window: w2 }), [], 'pending');
      const d = record('p:d', { program: 'p', window: w2, supersedes: 'p:c', basis: 'awaiting', holdUntil: clock.now() + 50 });
      await bind(s, d, [], 'awaiting_basis');
      assert.equal(await s.fixBasis('p:d', { document: null, attestation: null, parts: partsFor(d, 2) }), true);
      assert.deepEqual((await s.partsOf('p:d')).map((p) => p.state), ['on_hold', 'on_hold']);
      assert.equal((await s.getEpoch('p:d'))?.correction, null);
      clock.advance(50);
      assert.equal((await s.claimParts('a', 10, 500, ['pending'])).length, 2);
    });

    scenario('reports itself healthy', async (s) => {
      assert.equal(await s.healthy(), true);
    });
  });
}
