// Model-based test of corrections (SPEC §13, issue 19; fast-check commands, imitating model.test.ts):
// random sequences of compute / supersede / crash / ledgerDown / ledgerUp / drain against the real
// service (macronode, PostgreSQL) and the real ledger stub. One program per run holds one chain:
// the first compute binds a plain epoch, every later one supersedes the chain's latest epoch with
// one of a few documents over the same window (a repeat of the last request replays).
// After every command: no part accepted twice, no conflicting body, nothing unpublished sent, and no
// cancelled part at the ledger. Once quiet (the ledger up, the outbox final): every actor's net
// equals the amounts of the chain's latest epoch, and every correction recomputes offline.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { type ChainManifest, type CorrectionDocument, chainManifest, verifyCorrection } from '../../src/core/correction.js';
import type { SpawnedLedgerStub } from '../ledger-stub/client.js';
import { type Triple, startStub } from '../ledger/service.js';
import { Replica, type Schema, freshSchema, ledgerSnapshot, mustCall, outboxRows, seal, serviceEnv, tryCall, waitFor } from './cluster.js';

const RUNS = Number(process.env.CORRECTIONS_MODEL_RUNS ?? 15);
const MIN_COMMANDS = 5;
const MAX_COMMANDS = 10;
const WINDOW = { start_ms: 1767225600000, end_ms: 1767312000000 };
const enc = new TextEncoder();
const POLICY = enc.encode(JSON.stringify({ schema: 'rewarder.policy/v1', id: 'corr-m', rounding: 'largest_remainder', kinds: { requests: { weight: 1 } } }));

function inputs(events: [string, number][]): Uint8Array {
  const actors = [...new Set(events.map(([a]) => a))].sort();
  return enc.encode(
    JSON.stringify({
      schema: 'rewarder.inputs/v1',
      window: WINDOW,
      pool_minor: '1000',
      kinds: ['requests'],
      actors,
      events: events.map(([actor, qty], i) => ({ actor, kind: 'requests', qty, ts: WINDOW.start_ms + i })),
    }),
  );
}
// Overlapping actor sets, so corrections credit, debit to zero and credit newcomers.
const DOCS = [
  inputs([['alice', 10], ['bob', 10], ['carol', 5]]),
  inputs([['alice', 20], ['bob', 5], ['dave', 5]]),
  inputs([['carol', 15], ['dave', 1], ['erin', 4]]),
  inputs([['alice', 1], ['bob', 1], ['carol', 1], ['dave', 1], ['erin', 1]]),
];

interface Model {
  ledgerDown: boolean;
  /** The chain's epochs in order, with the document each was computed from. */
  chain: { epochId: string; doc: number }[];
}

interface Real {
  svc: Replica;
  stub: SpawnedLedgerStub;
  schema: Schema;
  triples: Triple[];
  log: string[];
}

const url = (r: Real): string => r.svc.url as string;

/** Safety after every command. */
async function invariants(r: Real, after: string): Promise<void> {
  const { records, stats } = await ledgerSnapshot(r.stub);
  const rows = await outboxRows(r.schema);
  assert.equal(stats.accepted, records.length, `${after}: a part accepted twice`);
  assert.equal(stats.conflict, 0, `${after}: a conflicting body reached the ledger`);
  const published = new Set(rows.map((x) => x.part_id));
  assert.deepEqual(records.filter((x) => !published.has(x.part_id)).map((x) => x.part_id), [], `${after}: sent but never published`);
  const cancelled = new Set(rows.filter((x) => x.state === 'cancelled').map((x) => x.part_id));
  assert.deepEqual(records.filter((x) => cancelled.has(x.part_id)).map((x) => x.part_id), [], `${after}: a cancelled part reached the ledger`);
}

class Compute implements fc.AsyncCommand<Model, Real> {
  constructor(readonly doc: number) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const latest = m.chain.at(-1);
    const epochId = `chain:v${m.chain.length}`;
    const body = latest === undefined ? { ...r.triples[this.doc] } : { ...r.triples[this.doc], supersedes: latest.epochId };
    const a = await tryCall(url(r), 'POST', `/epochs/${epochId}/compute`, body, 30_000);
    assert.ok(a !== null, `${this.toString()}: no answer from a live service`);
    r.log.push(`${this.toString()} ${epochId} → ${a.status}`);
    assert.ok(a.status === 200 || a.status === 202, `${this.toString()}: ${a.status} ${a.text.slice(0, 300)}`);
    if (latest !== undefined) assert.equal(a.json.supersedes, latest.epochId);
    if (m.ledgerDown && a.status === 200) {
      // Only a correction with nothing to send settles while the ledger is down: the same amounts
      // as the chain's latest epoch, all of it acknowledged (no entries, no parts).
      assert.equal(a.json.ledger.state, 'none', `${this.toString()}: nothing settles while the ledger is down`);
      assert.equal(latest?.doc, this.doc, `${this.toString()}: settled with nothing to send, yet the amounts changed`);
    }
    m.chain.push({ epochId, doc: this.doc });
    await invariants(r, this.toString());
  }
  toString = () => `Compute(${this.doc})`;
}

/** The last request again: it replays (same run), whatever its ledger state. */
class Repeat implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.chain.length > 0;
  async run(m: Model, r: Real): Promise<void> {
    const n = m.chain.length - 1;
    const { epochId, doc } = m.chain[n] as { epochId: string; doc: number };
    const body = n === 0 ? { ...r.triples[doc] } : { ...r.triples[doc], supersedes: m.chain[n - 1]?.epochId };
    const a = await tryCall(url(r), 'POST', `/epochs/${epochId}/compute`, body, 30_000);
    assert.ok(a !== null && (a.status === 200 || a.status === 202) && a.replayed, `Repeat(${epochId}): ${a?.status} ${a?.text.slice(0, 300)}`);
    r.log.push(`Repeat ${epochId} → ${a.status}`);
    await invariants(r, 'Repeat');
  }
  toString = () => 'Repeat';
}

/** SIGKILL and restart, optionally while the drainer works (`delayMs` after a drain began). */
class Crash implements fc.AsyncCommand<Model, Real> {
  constructor(readonly delayMs: number) {}
  check = () => true;
  async run(_m: Model, r: Real): Promise<void> {
    await sleep(this.delayMs);
    await r.svc.kill('SIGKILL');
    await r.svc.start();
    r.log.push(this.toString());
    await invariants(r, this.toString());
  }
  toString = () => `Crash(${this.delayMs} ms)`;
}

class LedgerDown implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => !m.ledgerDown;
  async run(m: Model, r: Real): Promise<void> {
    await r.stub.admin.setFaults({ down: true });
    m.ledgerDown = true;
    r.log.push('LedgerDown');
    await invariants(r, 'LedgerDown');
  }
  toString = () => 'LedgerDown';
}

class LedgerUp implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.ledgerDown;
  async run(m: Model, r: Real): Promise<void> {
    await r.stub.admin.setFaults({ down: false });
    m.ledgerDown = false;
    r.log.push('LedgerUp');
    await invariants(r, 'LedgerUp');
  }
  toString = () => 'LedgerUp';
}

/** Outbox rows not final (any live state). */
async function live(s: Schema): Promise<number> {
  const rows = await outboxRows(s);
  return rows.filter((x) => ['pending', 'held', 'on_hold', 'awaiting_basis'].includes(x.state)).length;
}

class Drain implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    const drained = await waitFor(m.ledgerDown ? 300 : 3_000, async () => (await live(r.schema)) === 0, 50);
    r.log.push(`Drain → ${drained ? 'empty' : 'not empty'}`);
    await invariants(r, 'Drain');
  }
  toString = () => 'Drain';
}

const commands = [
  fc.nat(DOCS.length - 1).map((d) => new Compute(d)),
  fc.nat(DOCS.length - 1).map((d) => new Compute(d)),
  fc.constant(new Repeat()),
  fc.integer({ min: 0, max: 300 }).map((ms) => new Crash(ms)),
  fc.constant(new LedgerDown()),
  fc.constant(new LedgerUp()),
  fc.constant(new Drain()),
];

async function manifestOf(base: string, epochId: string): Promise<ChainManifest> {
  const m = chainManifest((await mustCall(base, 'GET', `/epochs/${epochId}`)).json);
  assert.ok(typeof m !== 'string', String(m));
  return m;
}

test('random computes, supersessions, SIGKILLs, ledger outages and drains end with every actor at the latest epoch\'s amounts, no part twice', { timeout: 600_000 }, async (t) => {
  const stub = await startStub(t, { seed: 1906 });
  let runs = 0;
  let corrections = 0;
  const t0 = performance.now();
  await fc.assert(
    fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS, size: 'max' }).filter((c) => [...c].length >= MIN_COMMANDS), async (cmds) => {
      runs++;
      await stub.admin.clearFaults();
      await stub.admin.reset();
      const schema = freshSchema(t);
      const svc = new Replica(t, serviceEnv(schema.name, stub.url, { LEDGER_P95_BUDGET_MS: '2000', LEDGER_P99_BUDGET_MS: '4000' }), `rewarder-corr-${runs}`);
      const log: string[] = [];
      const real: Real = { svc, stub, schema, triples: [], log };
      try {
        const base = await svc.start();
        for (const doc of DOCS) real.triples.push(await seal(base, { inputs: doc, policy: POLICY }));
        const model: Model = { ledgerDown: false, chain: [] };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        await stub.admin.setFaults({ down: false });
        const latest = model.chain.at(-1);
        if (latest === undefined) return;
        const quiet = await waitFor(30_000, async () => {
          if ((await live(schema)) > 0) return false;
          const l = await tryCall(url(real), 'GET', `/epochs/${latest.epochId}/ledger`);
          return l !== null && (l.json.state === 'accepted' || l.json.state === 'none');
        });
        assert.ok(quiet, `quiet: ${JSON.stringify((await outboxRows(schema)).filter((x) => !['accepted', 'dup', 'cancelled'].includes(x.state)))}`);
        await invariants(real, 'at the end');
        const manifests = await Promise.all(model.chain.map((e) => manifestOf(url(real), e.epochId)));
        const want = new Map((manifests.at(-1) as ChainManifest).payouts.filter((p) => p.amount > 0n).map((p) => [p.actor, String(p.amount)]));
        const got = new Map((await stub.admin.balances()).filter((b) => b.net_minor !== '0').map((b) => [b.actor, b.net_minor]));
        assert.deepEqual(got, want, 'once quiet, every actor\'s net equals the amounts of the chain\'s latest epoch');
        // Every correction of the chain recomputes offline from the manifests and the earlier ones.
        const docs: CorrectionDocument[] = [];
        for (const e of model.chain.slice(1)) {
          const c = await mustCall(url(real), 'GET', `/epochs/${e.epochId}/correction`);
          if (c.status === 404) continue;
          assert.equal(c.status, 200);
          docs.push(c.json as CorrectionDocument);
        }
        for (const d of docs) assert.equal(verifyCorrection(d, manifests, docs), null, `${d.epoch_id}'s correction recomputes`);
        corrections += docs.length;
      } catch (e) {
        throw new Error(`${(e as Error).message}\n  steps: ${log.join(' ; ')}`, { cause: e });
      } finally {
        await svc.kill('SIGKILL');
        await schema.drop();
      }
    }),
    { numRuns: RUNS, seed: Number(process.env.CORRECTIONS_MODEL_SEED ?? 0x19_0da1), endOnFailure: true, includeErrorInReport: true },
  );
  t.diagnostic(`${runs} runs, ${corrections} corrections verified offline, in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
