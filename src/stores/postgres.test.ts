// Runs against the real PostgreSQL at 127.0.0.1:5432 (CI starts it). An unreachable database
// fails these tests rather than skipping them. Every schema made here is dropped afterwards.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import postgres from 'postgres';
import { AppError } from '../errors.js';
import { bind, partsFor, record, runStoreContract, sealDocumentsOf } from './contract.js';
import { createLoginRole } from '../../testing/pg-roles.js';
import { openPostgresStores, type PostgresStores } from './postgres.js';
import type { OutboxPart, PartState } from './types.js';

const URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const PREFIX = `t_${randomBytes(4).toString('hex')}`;
const LIVE: readonly PartState[] = ['pending', 'held'];
let schemas = 0;
const created: string[] = [];

function freshSchema(): string {
  const name = `${PREFIX}_${++schemas}`;
  created.push(name);
  return name;
}

/** A plain connection for looking behind the stores' back. */
function admin(): postgres.Sql {
  return postgres(URL, { max: 1, onnotice: () => {}, fetch_types: false });
}

async function dropSchemas(): Promise<void> {
  const names = created.splice(0);
  if (names.length === 0) return;
  const sql = admin();
  try {
    for (const name of names) await sql.unsafe(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
  } finally {
    // timeout 0: after a refused connection postgres.js's graceful end() never settles (#1097).
    await sql.end({ timeout: 0 });
  }
}

const open = (schema: string, now: () => number = Date.now, url = URL): Promise<PostgresStores> =>
  openPostgresStores(url, { schema, now, max: 4 });

runStoreContract('postgres', (now) => open(freshSchema(), now), dropSchemas);

const ids = (parts: readonly OutboxPart[]): string[] => parts.map((p) => p.partId);

async function closeAll(stores: readonly PostgresStores[]): Promise<void> {
  await Promise.all(stores.map((s) => s.close()));
}

function assertUnavailable(err: unknown): true {
  assert.ok(err instanceof AppError, `expected an AppError, got ${String(err)}`);
  assert.equal(err.code, 'UNAVAILABLE');
  assert.equal(err.status, 503);
  assert.equal(err.details.reason, 'store_unavailable');
  assert.equal(err.headers['Retry-After'], '1');
  return true;
}

interface Relay {
  url: string;
  /** Refuses new connections and drops open ones, like a database that went away. */
  cut: () => Promise<void>;
  restore: () => Promise<void>;
  /** Keeps every socket open but passes nothing on, like a partition without resets. */
  stall: () => void;
  resume: () => void;
  close: () => Promise<void>;
}

/** A TCP relay to the database that a test can cut, stall and restore. */
async function relay(): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const parked: [net.Socket, Buffer][] = [];
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk: Buffer) => (stalled ? parked.push([to, chunk]) : to.write(chunk)));
    from.on('close', () => to.destroy());
  };
  const server = net.createServer((client) => {
    const upstream = net.connect(5432, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const cut = async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: URL.replace('127.0.0.1:5432', `127.0.0.1:${port}`),
    cut,
    restore: () => listen(port),
    stall: () => void (stalled = true),
    resume: () => {
      stalled = false;
      for (const [to, chunk] of parked.splice(0)) to.write(chunk);
    },
    close: () => (server.listening ? cut() : Promise.resolve()),
  };
}

async function throughRelay(fn: (link: Relay) => Promise<void>): Promise<void> {
  const link = await relay();
  try {
    await fn(link);
  } finally {
    await link.close();
  }
}

describe('postgres stores', () => {
  after(dropSchemas);

  test('two replicas racing to publish the same epoch produce exactly one binding', async () => {
    const schema = freshSchema();
    const a = await open(schema);
    const b = await open(schema);
    try {
      for (let round = 0; round < 10; round++) {
        const epochId = `race-${round}`;
        const recA = record(epochId, { runKey: `rk-a-${round}` });
        const recB = record(epochId, { runKey: `rk-b-${round}` });
        await sealDocumentsOf(a, recA);
        const [outA, outB] = await Promise.all([a.publish(recA, partsFor(recA, 5), 'pending'), b.publish(recB, partsFor(recB, 5), 'held')]);
        assert.equal(Number(outA.created) + Number(outB.created), 1, `round ${round}: one winner`);
        const winner = outA.created ? recA : recB;
        assert.deepEqual(outA.record, winner);
        assert.deepEqual(outB.record, winner);
        assert.deepEqual(ids(await a.claimPartsById('x', ids(partsFor(winner, 5)), 0)), ids(partsFor(winner, 5)));
        assert.deepEqual((await b.partsOf(epochId)).map((p) => p.partId), ids(partsFor(winner, 5)));
      }
      assert.equal(await a.countParts(LIVE), 50);
    } finally {
      await closeAll([a, b]);
    }
  });

  test('replicas claiming at the same time never lease the same part', async () => {
    const schema = freshSchema();
    const a = await open(schema);
    const b = await open(schema);
    try {
      for (let round = 0; round < 20; round++) {
        const rec = record(`claim-${round}`);
        const parts = partsFor(rec, 30);
        await bind(a, rec, parts, round % 2 === 0 ? 'pending' : 'held');
        const seen: string[] = [];
        // Bounded: a store that ignored leases would hand out parts forever.
        for (let i = 0; i < 10; i++) {
          const [gotA, gotB] = await Promise.all([a.claimParts('a', 7, 60_000, LIVE), b.claimParts('b', 7, 60_000, LIVE)]);
          for (const got of [gotA, gotB]) assert.deepEqual(got.map((p) => p.index), [...got.map((p) => p.index)].sort((x, y) => x - y));
          seen.push(...ids(gotA), ...ids(gotB));
          if (gotA.length === 0 && gotB.length === 0) break;
        }
        assert.equal(new Set(seen).size, seen.length, `round ${round}: a part was leased twice`);
        assert.deepEqual([...seen].sort(), ids(parts).sort());
      }
    } finally {
      await closeAll([a, b]);
    }
  });

  test('a part leased by a replica that stopped passes to another replica when the lease expires', async () => {
    const schema = freshSchema();
    let t = 1_000_000;
    const now = () => t;
    const a = await open(schema, now);
    const b = await open(schema, now);
    try {
      const rec = record('orphan');
      const parts = partsFor(rec, 2);
      await bind(a, rec, parts, 'pending');
      assert.deepEqual(ids(await a.claimParts('a', 10, 30_000, LIVE)), ids(parts));
      await a.close();
      assert.deepEqual(await b.claimParts('b', 10, 30_000, LIVE), []);
      t += 30_001;
      assert.deepEqual(ids(await b.claimParts('b', 10, 30_000, LIVE)), ids(parts));
    } finally {
      await closeAll([a, b]);
    }
  });

  test('reopening a schema migrates nothing again and keeps the data', async () => {
    const schema = freshSchema();
    const first = await open(schema);
    const rec = record('kept');
    await bind(first, rec, partsFor(rec, 2), 'held');
    await first.close();
    const second = await open(schema);
    const sql = admin();
    try {
      assert.deepEqual(await second.getEpoch('kept'), rec);
      assert.equal(await second.countParts(['held']), 2);
      const versions = await sql.unsafe(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
      assert.deepEqual(versions.map((r) => r.version), [1, 2, 3, 4]);
    } finally {
      await second.close();
      await sql.end({ timeout: 0 });
    }
  });

  test('parts enqueued before holds and corrections (migration 4) count as claimed: a supersession waits for them, never cancels them', async () => {
    const schema = freshSchema();
    const v2 = await openPostgresStores(URL, { schema, max: 2, migrateTo: 3 });
    const sql = admin();
    try {
      await sql`INSERT INTO ${sql(`${schema}.inputs`)} (cid, bytes, actors, events) VALUES ('cid', '\\x01', 1, 1)`;
      await sql`INSERT INTO ${sql(`${schema}.policies`)} (hash, id, bytes) VALUES ('ph', 'pol', '\\x02')`;
      await sql`INSERT INTO ${sql(`${schema}.epochs`)} (epoch_id, inputs_cid, policy_hash, policy_id, run_key, commitment, manifest,
          program, start_ms, end_ms, tenant, payees, payout_minor)
        VALUES ('p:old', 'cid', 'ph', 'pol', 'rk-old', 'c-old', '\\x7b7d', 'p', 0, 100, 'acme', 3, '927')`;
      const [e] = await sql<{ published_seq: string }[]>`SELECT published_seq FROM ${sql(`${schema}.epochs`)} WHERE epoch_id = 'p:old'`;
      for (const idx of [0, 1]) {
        await sql`INSERT INTO ${sql(`${schema}.outbox`)} (part_id, epoch_id, epoch_seq, run_key, idx, count, body, state)
          VALUES (${`rk-old/${idx}`}, 'p:old', ${e?.published_seq ?? '0'}, 'rk-old', ${idx}, 2, '\\x7b7d', 'pending')`;
      }
    } finally {
      await v2.close();
    }
    const now = await openPostgresStores(URL, { schema, max: 2 });
    try {
      // A release before the claimed flag may have sent them: they are not cancelled.
      await bind(now, record('p:new', { program: 'p', window: { startMs: 0, endMs: 100 }, supersedes: 'p:old', basis: 'awaiting' }), [], 'awaiting_basis');
      assert.deepEqual((await now.partsOf('p:old')).map((p) => p.state), ['pending', 'pending']);
      assert.equal((await now.getEpoch('p:old'))?.supersededBy, 'p:new');
      assert.equal((await now.getEpoch('p:old'))?.holdUntil, 0);
    } finally {
      await now.close();
      await sql.end({ timeout: 0 });
    }
  });

  test('a database from before tenancy migrates in place: the legacy owner holds its documents and bindings, old overlaps stay, new ones are refused', async () => {
    const schema = freshSchema();
    const old = await openPostgresStores(URL, { schema, max: 2, migrateTo: 1 });
    const sql = admin();
    const manifest = (start: number, end: number) =>
      Buffer.from(JSON.stringify({ window: { start_ms: start, end_ms: end }, counts: { payees: 3 }, totals: { payout_minor: '927' } }));
    try {
      const s = `"${schema}"`;
      await sql.unsafe(`INSERT INTO ${s}.inputs (cid, bytes, actors, events) VALUES ('cid-old', '\\x0102', 1, 1)`);
      await sql.unsafe(`INSERT INTO ${s}.policies (hash, id, bytes) VALUES ('ph-old', 'pol', '\\x03')`);
      // The same window paid twice under two ids, and once in another program, as before §10.
      for (const [id, start, end] of [['2026-03-01', 0, 100], ['2026-03-01-bis', 0, 100], ['acme-poc:x', 50, 150]] as const) {
        await sql`INSERT INTO ${sql(`${schema}.epochs`)} (epoch_id, inputs_cid, policy_hash, policy_id, run_key, commitment, manifest)
          VALUES (${id}, 'cid-old', 'ph-old', 'pol', ${`rk-${id}`}, ${`c-${id}`}, ${manifest(start, end)})`;
      }
    } finally {
      await old.close();
    }
    const now = await openPostgresStores(URL, { schema, max: 2, legacyOwner: 'old-co' });
    try {
      assert.deepEqual((await now.getInputs('cid-old', 'old-co'))?.bytes, Uint8Array.from([1, 2]));
      assert.equal((await now.getInputs('cid-old', 'old-co'))?.poolMinor, null);
      assert.equal(await now.getPolicy('ph-old', 'acme'), null);
      assert.deepEqual(await now.tenantUsage(), new Map([['old-co', 3]]));
      const bis = await now.getEpoch('2026-03-01-bis');
      assert.deepEqual([bis?.program, bis?.window, bis?.tenant, bis?.corrId, bis?.payees, bis?.payoutMinor], ['default', { startMs: 0, endMs: 100 }, 'old-co', '', 3, '927']);
      assert.equal((await now.getEpoch('acme-poc:x'))?.program, 'acme-poc');
      // New bindings overlapping either old one are refused, naming one of them; others bind.
      for (const win of [{ startMs: 99, endMs: 120 }, { startMs: 10, endMs: 20 }]) {
        await assert.rejects(bind(now, record('2026-03-02', { window: win }), [], 'pending'), (e: AppError) => {
          assert.equal(e.code, 'WINDOW_OVERLAP');
          assert.match(String(e.details.epoch_id), /^2026-03-01(-bis)?$/);
          return true;
        });
      }
      assert.equal((await bind(now, record('2026-03-02', { window: { startMs: 100, endMs: 200 } }), [], 'pending')).created, true);
      assert.deepEqual((await now.listEpochs('default', null, 10))?.map((e) => e.epochId), ['2026-03-01', '2026-03-01-bis', '2026-03-02']);
      // Sealing the legacy bytes again (by anyone) records their window and pool.
      const again = { cid: 'cid-old', bytes: Uint8Array.from([1, 2]), actors: 1, events: 1, window: { startMs: 0, endMs: 100 }, poolMinor: '5' };
      assert.equal(await now.putInputs(again, { tenant: 'acme', quotaBytes: null }), true);
      assert.deepEqual(await now.getInputs('cid-old', 'old-co'), again);
    } finally {
      await now.close();
      await sql.end({ timeout: 0 });
    }
  });

  test('many concurrent binds of overlapping windows from two replicas: exactly one wins, every refusal names it', async () => {
    const schema = freshSchema();
    const a = await open(schema);
    const b = await open(schema);
    try {
      // 40 epochs, all overlapping [1000, 2000) in program `race`; one in `other` overlapping too.
      const recs = Array.from({ length: 40 }, (_, i) => record(`race:e${i}`, { program: 'race', window: { startMs: 1000 + i * 10, endMs: 2000 - i * 5 } }));
      const other = record('other:e', { program: 'other', window: { startMs: 1000, endMs: 2000 } });
      for (const r of [...recs, other]) await sealDocumentsOf(a, r);
      const outcomes = await Promise.allSettled([
        ...recs.map((r, i) => (i % 2 === 0 ? a : b).publish(r, partsFor(r, 2), 'pending')),
        a.publish(other, [], 'pending'),
      ]);
      const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' && o.value.created ? [i] : []));
      assert.equal(won.length, 2, 'one in `race`, and the one in `other`');
      const winner = recs[won[0] as number] as (typeof recs)[number];
      for (const o of outcomes.slice(0, 40)) {
        if (o.status === 'fulfilled') continue;
        assert.ok(o.reason instanceof AppError && o.reason.code === 'WINDOW_OVERLAP', String(o.reason));
        assert.equal(o.reason.details.epoch_id, winner.epochId);
      }
      assert.deepEqual((await b.listEpochs('race', null, 100))?.map((e) => e.epochId), [winner.epochId]);
      assert.equal(await a.countParts(['pending']), 2, 'no parts of a refused binding');
    } finally {
      await closeAll([a, b]);
    }
  });

  test('three replicas starting at once on a fresh schema all open it', async () => {
    const schema = freshSchema();
    const results = await Promise.allSettled([open(schema), open(schema), open(schema)]);
    const stores = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      assert.deepEqual(results.map((r) => (r.status === 'rejected' ? String(r.reason) : 'ok')), ['ok', 'ok', 'ok']);
      const [x, y, z] = stores as [PostgresStores, PostgresStores, PostgresStores];
      const rec = record('shared');
      assert.equal((await bind(x, rec, partsFor(rec, 1), 'pending')).created, true);
      assert.deepEqual(await y.getEpoch('shared'), rec);
      assert.equal((await z.publish(rec, [], 'pending')).created, false);
    } finally {
      await closeAll(stores);
    }
  });

  test('opening a database nobody listens for rejects with UNAVAILABLE', async () => {
    await assert.rejects(openPostgresStores('postgres://postgres@127.0.0.1:1/test', { schema: freshSchema() }), assertUnavailable);
  });

  test('a lost database makes healthy() false and every operation a 503, until it comes back', async () => {
    await throughRelay(async (link) => {
      const s = await open(freshSchema(), Date.now, link.url);
      try {
        const rec = record('before');
        await bind(s, rec, partsFor(rec, 1), 'pending');
        await link.cut();
        const started = Date.now();
        assert.equal(await s.healthy(), false);
        assert.ok(Date.now() - started < 3_000, 'healthy() answers within its short timeout');
        const during = record('during');
        await assert.rejects(s.getEpoch('before'), assertUnavailable);
        await assert.rejects(s.publish(during, partsFor(during, 1), 'pending'), assertUnavailable);
        await assert.rejects(s.claimParts('a', 10, 1000, LIVE), assertUnavailable);
        await assert.rejects(s.settlePart('x', 'a', 'accepted', 1, null), assertUnavailable);
        await link.restore();
        assert.equal(await s.healthy(), true);
        assert.deepEqual(await s.getEpoch('before'), rec);
        assert.equal(await s.getEpoch('during'), null);
      } finally {
        await s.close();
      }
      await assert.rejects(s.getEpoch('before'), assertUnavailable, 'a closed store is unavailable, not broken');
      assert.equal(await s.healthy(), false);
    });
  });

  test('a database that stops answering makes healthy() false and operations a 503 within the timeout', async () => {
    await throughRelay(async (link) => {
      // 800 ms: short enough to tell a stall from a slow answer, long enough for a loaded machine.
      const s = await openPostgresStores(link.url, { schema: freshSchema(), max: 2, timeoutMs: 800 });
      try {
        const rec = record('stalled');
        await bind(s, rec, partsFor(rec, 1), 'pending');
        link.stall();
        let started = Date.now();
        assert.equal(await s.healthy(), false);
        assert.ok(Date.now() - started < 3_000, 'healthy() answers within its short timeout');
        started = Date.now();
        await assert.rejects(s.claimParts('a', 10, 1000, LIVE), assertUnavailable);
        assert.ok(Date.now() - started < 3_000, 'the operation gave up after timeoutMs');
        link.resume();
        assert.equal(await s.healthy(), true);
        // Back to normal: a read succeeds again (retried for a while: on a loaded machine a query
        // right after the stall can still exceed the timeout once).
        let back: unknown;
        for (const until = Date.now() + 5_000; ; ) {
          try {
            back = await s.getEpoch('stalled');
            break;
          } catch (e) {
            if (Date.now() > until) throw e;
          }
        }
        assert.deepEqual(back, rec);
      } finally {
        await s.close();
      }
    });
  });

  test('a publish that fails midway leaves no binding and surfaces the real error, not a 503', async () => {
    const s = await open(freshSchema());
    try {
      const rec = record('atomic');
      const [p0, p1] = partsFor(rec, 2) as [OutboxPart, OutboxPart];
      const clash = { ...p1, partId: p0.partId };
      await sealDocumentsOf(s, rec);
      await assert.rejects(s.publish(rec, [p0, clash], 'pending'), (err: unknown) => {
        assert.ok(!(err instanceof AppError));
        assert.equal((err as { code?: unknown }).code, '23505');
        return true;
      });
      assert.equal(await s.getEpoch('atomic'), null);
      assert.equal(await s.countParts(LIVE), 0);
      assert.equal((await s.publish(rec, [p0, p1], 'pending')).created, true);
    } finally {
      await s.close();
    }
  });

  test('close lets an in-flight publish commit before ending the pool', async () => {
    const schema = freshSchema();
    const s = await open(schema);
    const rec = record('closing');
    await sealDocumentsOf(s, rec);
    const publishing = s.publish(rec, partsFor(rec, 500), 'pending');
    await s.close();
    assert.equal((await publishing).created, true);
    await assert.rejects(s.getEpoch('closing'), assertUnavailable);
    const again = await open(schema);
    try {
      assert.equal(await again.countParts(LIVE), 500);
    } finally {
      await again.close();
    }
  });

  test('publishes thousands of parts in one call and drains them in index order', async (t) => {
    const s = await open(freshSchema());
    try {
      const rec = record('big');
      const parts = partsFor(rec, 2500).map((p) => ({ ...p, body: new Uint8Array(2048).fill(p.index % 251) }));
      let started = performance.now();
      assert.equal((await bind(s, rec, parts, 'held')).created, true);
      t.diagnostic(`publish 2500 parts × 2 KiB: ${(performance.now() - started).toFixed(0)} ms`);
      started = performance.now();
      const claimed = await s.claimParts('a', 3000, 60_000, ['held']);
      t.diagnostic(`claim 2500 parts: ${(performance.now() - started).toFixed(0)} ms`);
      assert.deepEqual(claimed, parts);
    } finally {
      await s.close();
    }
  });
});

// Issue 15: the runtime role apart from the migration role, append-only bindings and parts, and
// foreign keys from bindings to their documents. Real roles, made for this file and dropped after.
const migrator = await createLoginRole(URL, 'migrator', { canCreate: true });
const runtime = await createLoginRole(URL, 'runtime');
after(async () => {
  await dropSchemas();
  await migrator.drop();
  await runtime.drop();
});

const openSplit = (schema: string, now: () => number = Date.now): Promise<PostgresStores> =>
  openPostgresStores(runtime.url, { schema, now, max: 4, migrationUrl: migrator.url });

// Every operation the service runs, with only the privileges the runtime role is granted.
runStoreContract('postgres, runtime role apart from the migration role', (now) => openSplit(freshSchema(), now), dropSchemas);

/** Rejects with this SQLSTATE (42501 insufficient privilege, 23000 the append-only trigger, …). */
async function refused(query: Promise<unknown>, code: string, what: string): Promise<void> {
  await assert.rejects(query, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code, `${what}: ${String(err)}`);
    return true;
  }, what);
}

describe('postgres roles and append-only tables', () => {
  after(dropSchemas);

  test('the runtime role binds and settles, but cannot change or delete a binding or a published part, nor run DDL', async () => {
    const schema = freshSchema();
    const s = await openSplit(schema);
    const q = runtime.sql;
    const t = (table: string) => q(`${schema}.${table}`);
    try {
      const rec = record('split');
      const parts = partsFor(rec, 2);
      assert.equal((await bind(s, rec, parts, 'pending')).created, true);
      const [first] = await s.claimParts('me', 1, 60_000, LIVE);
      await s.settlePart(first?.partId ?? '', 'me', 'accepted', 1, null);
      assert.deepEqual((await s.partsOf('split')).map((p) => p.state), ['accepted', 'pending']);

      await refused(q`UPDATE ${t('epochs')} SET manifest = '\\x00' WHERE epoch_id = 'split'`, '42501', 'UPDATE a manifest');
      await refused(q`UPDATE ${t('epochs')} SET tenant = 'mallory'`, '42501', 'UPDATE a binding');
      await refused(q`DELETE FROM ${t('epochs')}`, '42501', 'DELETE a binding');
      await refused(q`TRUNCATE ${t('epochs')} CASCADE`, '42501', 'TRUNCATE the bindings');
      await refused(q`UPDATE ${t('outbox')} SET body = '\\x00'`, '42501', 'UPDATE a part body');
      await refused(q`DELETE FROM ${t('outbox')}`, '42501', 'DELETE a part');
      await refused(q`UPDATE ${t('inputs')} SET bytes = '\\x00'`, '42501', 'UPDATE document bytes');
      await refused(q`DELETE FROM ${t('inputs')}`, '42501', 'DELETE a document');
      await refused(q`DELETE FROM ${t('doc_owners')}`, '42501', 'DELETE an ownership');
      await refused(q`DELETE FROM ${t('schema_migrations')}`, '42501', 'DELETE a migration record');
      await refused(q`ALTER TABLE ${t('epochs')} DISABLE TRIGGER ALL`, '42501', 'ALTER TABLE');
      await refused(q`DROP TABLE ${t('outbox')}`, '42501', 'DROP TABLE');
      await refused(q`CREATE TABLE ${t('mine')} (x int)`, '42501', 'CREATE TABLE');
      await refused(q`CREATE SCHEMA ${q(`${schema}_mine`)}`, '42501', 'CREATE SCHEMA');

      // What it did bind is intact, and the owner meets the trigger: the same refusal for anyone.
      assert.deepEqual(await s.getEpoch('split'), rec);
      assert.deepEqual((await s.claimParts('me', 10, 60_000, LIVE)).map((p) => p.body), parts.slice(1).map((p) => p.body));
      await refused(migrator.sql`DELETE FROM ${migrator.sql(`${schema}.epochs`)}`, '23000', 'the owner deleting a binding');
    } finally {
      await s.close();
    }
  });

  test('with one role for everything the triggers still refuse to change, delete or truncate a binding or a published part, or to change sealed bytes', async () => {
    const schema = freshSchema();
    const s = await open(schema);
    const sql = admin();
    const t = (table: string) => sql(`${schema}.${table}`);
    try {
      const rec = record('single');
      const parts = partsFor(rec, 2);
      await bind(s, rec, parts, 'pending');
      await refused(sql`UPDATE ${t('epochs')} SET manifest = '\\x00' WHERE epoch_id = 'single'`, '23000', 'UPDATE a manifest');
      await refused(sql`UPDATE ${t('epochs')} SET window_legacy = true`, '23000', 'UPDATE a binding');
      await refused(sql`DELETE FROM ${t('epochs')} WHERE epoch_id = 'single'`, '23000', 'DELETE a binding');
      await refused(sql`TRUNCATE ${t('epochs')} CASCADE`, '23000', 'TRUNCATE the bindings');
      await refused(sql`UPDATE ${t('outbox')} SET body = '\\x00'`, '23000', 'UPDATE a part body');
      await refused(sql`UPDATE ${t('outbox')} SET idx = idx`, '23000', 'UPDATE a part index, even to itself');
      await refused(sql`DELETE FROM ${t('outbox')}`, '23000', 'DELETE a part');
      await refused(sql`TRUNCATE ${t('outbox')}`, '23000', 'TRUNCATE the parts');
      await refused(sql`UPDATE ${t('inputs')} SET bytes = '\\x00'`, '23000', 'UPDATE sealed inputs');
      await refused(sql`UPDATE ${t('policies')} SET bytes = '\\x00'`, '23000', 'UPDATE a sealed policy');
      // Settlement's own columns move as before.
      await sql`UPDATE ${t('outbox')} SET state = 'held', attempts = attempts + 1 WHERE idx = 0`;
      assert.deepEqual((await s.partsOf('single')).map((p) => [p.state, p.attempts]), [['held', 1], ['pending', 0]]);
      assert.deepEqual(await s.getEpoch('single'), rec);
      assert.deepEqual((await s.claimParts('me', 10, 60_000, LIVE)).map((p) => p.body), parts.map((p) => p.body));
    } finally {
      await s.close();
      await sql.end({ timeout: 0 });
    }
  });

  test('a binding must name stored documents, and a bound document cannot be deleted', async () => {
    const schema = freshSchema();
    const s = await open(schema);
    const sql = admin();
    try {
      const orphan = record('orphan');
      await refused(s.publish(orphan, partsFor(orphan, 2), 'pending'), '23503', 'a binding without its documents');
      assert.equal(await s.getEpoch('orphan'), null);
      assert.equal(await s.countParts(LIVE), 0, 'nothing of it is kept');
      // Inputs stored but not the policy: still refused.
      await s.putInputs({ cid: orphan.inputsCid, bytes: Uint8Array.of(1), actors: 1, events: 1, window: null, poolMinor: null }, { tenant: 'acme', quotaBytes: null });
      await refused(s.publish(orphan, [], 'pending'), '23503', 'a binding without its policy');
      assert.equal((await bind(s, orphan, partsFor(orphan, 2), 'pending')).created, true);

      await refused(sql`DELETE FROM ${sql(`${schema}.inputs`)} WHERE cid = ${orphan.inputsCid}`, '23503', 'deleting bound inputs');
      await refused(sql`DELETE FROM ${sql(`${schema}.policies`)} WHERE hash = ${orphan.policyHash}`, '23503', 'deleting a bound policy');
      await refused(sql`UPDATE ${sql(`${schema}.inputs`)} SET cid = 'other' WHERE cid = ${orphan.inputsCid}`, '23000', 'renaming inputs (sealed bytes never change)');
      // Documents no binding names are not held by the keys.
      const spare = record('spare');
      await sealDocumentsOf(s, spare);
      const gone = await sql`DELETE FROM ${sql(`${schema}.inputs`)} WHERE cid = ${spare.inputsCid}`;
      assert.equal(gone.count, 1);
    } finally {
      await s.close();
      await sql.end({ timeout: 0 });
    }
  });

  test('a database whose bindings already name missing documents migrates: those keys check new bindings only, and say so', async () => {
    const schema = freshSchema();
    const old = await openPostgresStores(URL, { schema, max: 2, migrateTo: 2 });
    const sql = admin();
    try {
      const rec = record('lost-docs');
      await sealDocumentsOf(old, rec);
      // As a release at migration 2 bound it (today's publish needs the later columns).
      await sql`INSERT INTO ${sql(`${schema}.epochs`)} (epoch_id, inputs_cid, policy_hash, policy_id, run_key, commitment, manifest,
          program, start_ms, end_ms, tenant, payees, payout_minor)
        VALUES (${rec.epochId}, ${rec.inputsCid}, ${rec.policyHash}, ${rec.policyId}, ${rec.runKey}, ${rec.commitment}, ${rec.manifest},
          ${rec.program}, ${rec.window.startMs}, ${rec.window.endMs}, ${rec.tenant}, ${rec.payees}, ${rec.payoutMinor})`;
      await sql`DELETE FROM ${sql(`${schema}.inputs`)} WHERE cid = ${rec.inputsCid}`;
    } finally {
      await old.close();
    }
    const now = await open(schema);
    try {
      assert.deepEqual(now.unvalidatedConstraints, ['epochs_inputs_fk']);
      assert.equal((await now.getEpoch('lost-docs'))?.inputsCid, 'cid-lost-docs');
      await refused(now.publish(record('new-orphan'), [], 'pending'), '23503', 'a new binding without its documents');
      const fresh = await open(freshSchema());
      assert.deepEqual(fresh.unvalidatedConstraints, []);
      await fresh.close();
    } finally {
      await now.close();
      await sql.end({ timeout: 0 });
    }
  });

  test('the runtime role alone cannot migrate and says what to set; once migrated it opens the schema without DDL', async () => {
    const schema = freshSchema();
    await assert.rejects(open(schema, Date.now, runtime.url), (err: Error) => {
      assert.match(err.message, new RegExp(`role "${runtime.name}" may not migrate schema "${schema}" .*DATABASE_MIGRATION_URL`));
      return true;
    });
    await (await openSplit(schema)).close();
    const s = await open(schema, Date.now, runtime.url);
    try {
      const rec = record('runtime-only');
      assert.equal((await bind(s, rec, partsFor(rec, 1), 'pending')).created, true);
    } finally {
      await s.close();
    }
  });

  test('every start resets the runtime role to its grants: a privilege added by hand is taken back', async () => {
    const schema = freshSchema();
    await (await openSplit(schema)).close();
    const sql = admin();
    try {
      await sql.unsafe(`GRANT DELETE, UPDATE ON "${schema}".epochs, "${schema}".outbox TO "${runtime.name}"`);
      await sql.unsafe(`GRANT CREATE ON SCHEMA "${schema}" TO "${runtime.name}"`);
      await (await openSplit(schema)).close();
      await refused(runtime.sql`DELETE FROM ${runtime.sql(`${schema}.outbox`)}`, '42501', 'DELETE after the restart');
      await refused(runtime.sql`CREATE TABLE ${runtime.sql(`${schema}.mine`)} (x int)`, '42501', 'CREATE after the restart');
    } finally {
      await sql.end({ timeout: 0 });
    }
  });

  test('a split that would not bind the runtime role is refused at open, naming the fix', async () => {
    const cases: [string, () => Promise<PostgresStores>, RegExp][] = [
      ['the same role twice', () => openPostgresStores(migrator.url, { schema: freshSchema(), max: 1, migrationUrl: migrator.url }), /both connect as role/],
      ['a superuser runtime role', () => openPostgresStores(URL, { schema: freshSchema(), max: 1, migrationUrl: migrator.url }), /is a superuser/],
    ];
    for (const [what, opening, message] of cases) {
      await assert.rejects(opening(), (err: Error) => {
        assert.match(err.message, message, what);
        return true;
      }, what);
    }
    // A schema the runtime role owns (as when it migrated it itself before the split).
    const schema = freshSchema();
    const sql = admin();
    try {
      await sql.unsafe(`CREATE SCHEMA "${schema}" AUTHORIZATION "${runtime.name}"`);
      await assert.rejects(openSplit(schema), /owns 1 object\(s\) of schema .*Moving to a separate migration role/);
      // The RUNBOOK's fix: hand it to the migration role, then the split opens.
      await sql.unsafe(`REASSIGN OWNED BY "${runtime.name}" TO "${migrator.name}"`);
      await (await openSplit(schema)).close();
    } finally {
      await sql.end({ timeout: 0 });
    }
  });
});
