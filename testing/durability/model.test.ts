// Model-based durability test (fast-check commands): random sequences of computes, SIGKILLs of the
// service (some landing in the middle of a compute), ledger outages and drains, against the real
// service (macronode, PostgreSQL) and the real ledger stub. The model keeps the runs the service
// acknowledged (answered 200 or 202) and which epochs are bound to what, so it predicts every
// compute answer: a fresh epoch publishes (202 and held while the ledger is down), the same triple
// replays, another one is a 409. After every command: no part is at the ledger twice or with
// another body, nothing is there that was not published, and every acknowledged run is still bound
// with all its parts in the outbox. At the end, with the ledger up: acknowledged ⊆ settled.
// One fresh schema and a reset stub per run.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import fc from 'fast-check';
import { generate } from '../../src/gen/generate.js';
import type { SpawnedLedgerStub } from '../ledger-stub/client.js';
import { type Triple, startStub } from '../ledger/service.js';
import {
  type Acked,
  type Answer,
  Replica,
  type Schema,
  ackedOf,
  assertNoPartTwice,
  assertRunsSettled,
  bindings,
  ledgerSnapshot,
  computeAt,
  freshSchema,
  liveParts,
  outboxRows,
  partsOfRun,
  serviceEnv,
  settle,
  waitFor,
  seal,
} from './cluster.js';

const RUNS = 10;
const MIN_COMMANDS = 6;
const MAX_COMMANDS = 12;
const EPOCHS = 4;
const DOCS = [generate({ scale: 'S', seed: 61, form: 'columnar' }), generate({ scale: 'S', seed: 62, form: 'columnar' }), generate({ scale: 'S', seed: 63, form: 'columnar' })];

interface Model {
  ledgerDown: boolean;
  /** Epochs whose binding is known: to which document, and the run acknowledged for it (if any). */
  bound: Map<string, { doc: number; acked: Acked | null }>;
  /** Epochs a kill cut a compute of: bound to one of these documents, or not at all. */
  maybe: Map<string, Set<number>>;
  acked: Acked[];
}

interface Real {
  svc: Replica;
  stub: SpawnedLedgerStub;
  schema: Schema;
  triples: Triple[];
  log: string[];
  /** Wall time per command kind, across runs: where the test's minutes go. */
  spent: Map<string, { n: number; ms: number }>;
}

async function timed(r: Real, kind: string, fn: () => Promise<void>): Promise<void> {
  const t0 = performance.now();
  try {
    await fn();
  } finally {
    const s = r.spent.get(kind) ?? { n: 0, ms: 0 };
    s.n++;
    s.ms += performance.now() - t0;
    r.spent.set(kind, s);
  }
}

// Each epoch its own program: epochs of one program may not pay overlapping windows (SPEC §10).
const epochName = (e: number) => `model-${e}:e`;

/** Checks one compute answer against the model and updates it. null: the call was cut by a kill. */
function apply(m: Model, r: Real, epoch: number, doc: number, a: Answer | null, what: string): void {
  const id = epochName(epoch);
  const known = m.bound.get(id);
  const maybe = m.maybe.get(id);
  if (a === null) {
    // A bound epoch stays as it is; an unbound one may now be bound to this document.
    if (known === undefined) m.maybe.set(id, (maybe ?? new Set()).add(doc));
    r.log.push(`${what} → cut`);
    return;
  }
  r.log.push(`${what} → ${a.status}${a.replayed ? ' replayed' : ''}`);
  const ok = a.status === 200 || a.status === 202;
  if (known !== undefined) {
    if (known.doc !== doc) {
      assert.equal(a.status, 409, `${what}: another triple for a bound epoch is a 409 (${a.text.slice(0, 200)})`);
      return;
    }
    assert.ok(ok && a.replayed, `${what}: the bound triple replays (${a.status} ${a.text.slice(0, 200)})`);
    if (known.acked !== null) assert.equal(a.json.run_key, known.acked.runKey, `${what}: the replay is the acknowledged run`);
    else known.acked = ackedOf(id, a);
    if (!m.acked.some((x) => x.epochId === id)) m.acked.push(known.acked);
    return;
  }
  if (maybe === undefined) {
    // Never asked before: it publishes now.
    assert.ok(ok && !a.replayed, `${what}: a fresh epoch publishes (${a.status} ${a.text.slice(0, 200)})`);
    if (m.ledgerDown) {
      assert.equal(a.status, 202, `${what}: with the ledger down the run is held`);
      assert.equal(a.json.quarantine, true);
    }
  } else if (a.status === 409) {
    // A cut compute bound it to another of its documents: learn which.
    const cid: string = a.json.error.details.bound.inputs_cid;
    const other = r.triples.findIndex((t) => t.inputs_cid === cid);
    assert.ok(maybe.has(other) && other !== doc, `${what}: 409 names a document a cut compute asked for (${cid})`);
    m.bound.set(id, { doc: other, acked: null });
    m.maybe.delete(id);
    return;
  } else {
    assert.ok(ok, `${what}: ${a.status} ${a.text.slice(0, 200)}`);
    // Replayed only if a cut compute of this very triple had published.
    if (a.replayed) assert.ok(maybe.has(doc), `${what}: replayed a run nobody asked for`);
  }
  const acked = ackedOf(id, a);
  m.bound.set(id, { doc, acked });
  m.maybe.delete(id);
  m.acked.push(acked);
}

/** Safety, checked after every command: nothing twice, nothing unpublished, no acknowledged run lost. */
async function invariants(m: Model, r: Real, after: string): Promise<void> {
  // The ledger first: every part it holds was in the outbox before it was sent.
  const { records, stats } = await ledgerSnapshot(r.stub);
  const rows = await outboxRows(r.schema);
  assertNoPartTwice(records, stats, new Set(rows.map((x) => x.part_id)), after);
  const bound = await bindings(r.schema);
  for (const a of m.acked) {
    assert.equal(bound.get(a.epochId)?.runKey, a.runKey, `${after}: acknowledged ${a.epochId} is bound to its run`);
    assert.equal(rows.filter((x) => x.run_key === a.runKey).length, partsOfRun(a.payees), `${after}: ${a.epochId}'s parts are in the outbox`);
  }
  const refused = rows.filter((x) => x.state === 'conflict' || x.state === 'failed');
  assert.deepEqual(refused, [], `${after}: no part refused by the ledger`);
}

class Compute implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly epoch: number,
    readonly doc: number,
  ) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await timed(r, 'Compute', async () => {
      const a = await computeAt(r.svc.url as string, epochName(this.epoch), r.triples[this.doc] as Triple);
      assert.ok(a !== null, `${this.toString()}: no answer from a live service`);
      apply(m, r, this.epoch, this.doc, a, this.toString());
      await invariants(m, r, this.toString());
    });
  }
  toString = () => `Compute(${this.epoch}, ${this.doc})`;
}

/** SIGKILL and restart; with `during`, the kill lands `delayMs` into a compute. */
class Crash implements fc.AsyncCommand<Model, Real> {
  constructor(readonly during: { epoch: number; doc: number; delayMs: number } | null) {}
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await timed(r, this.during === null ? 'Crash' : 'Crash(during)', async () => {
      if (this.during === null) {
        await r.svc.kill('SIGKILL');
        r.log.push('Crash');
      } else {
        const { epoch, doc, delayMs } = this.during;
        const pending = computeAt(r.svc.url as string, epochName(epoch), r.triples[doc] as Triple);
        await sleep(delayMs);
        await r.svc.kill('SIGKILL');
        apply(m, r, epoch, doc, await pending, this.toString());
      }
      await r.svc.start();
      await invariants(m, r, this.toString());
    });
  }
  toString = () => (this.during === null ? 'Crash' : `Crash(during Compute(${this.during.epoch}, ${this.during.doc}) at ${this.during.delayMs} ms)`);
}

class LedgerDown implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => !m.ledgerDown;
  async run(m: Model, r: Real): Promise<void> {
    await timed(r, 'LedgerDown', async () => {
      await r.stub.admin.setFaults({ down: true });
      m.ledgerDown = true;
      r.log.push('LedgerDown');
      await invariants(m, r, this.toString());
    });
  }
  toString = () => 'LedgerDown';
}

class LedgerUp implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => m.ledgerDown;
  async run(m: Model, r: Real): Promise<void> {
    await timed(r, 'LedgerUp', async () => {
      await r.stub.admin.setFaults({ down: false });
      m.ledgerDown = false;
      r.log.push('LedgerUp');
      await invariants(m, r, this.toString());
    });
  }
  toString = () => 'LedgerUp';
}

/** Waits for the outbox to empty (held and pending parts settled), or a short while when it cannot. */
class Drain implements fc.AsyncCommand<Model, Real> {
  check = () => true;
  async run(m: Model, r: Real): Promise<void> {
    await timed(r, 'Drain', async () => {
      const drained = await waitFor(m.ledgerDown ? 300 : 3_000, async () => (await liveParts(r.schema)) === 0, 50);
      r.log.push(`Drain → ${drained ? 'empty' : 'not empty'}`);
      await invariants(m, r, this.toString());
    });
  }
  toString = () => 'Drain';
}

const commands = [
  fc.tuple(fc.nat(EPOCHS - 1), fc.nat(DOCS.length - 1)).map(([e, d]) => new Compute(e, d)),
  fc.tuple(fc.nat(EPOCHS - 1), fc.nat(DOCS.length - 1)).map(([e, d]) => new Compute(e, d)),
  fc.option(fc.record({ epoch: fc.nat(EPOCHS - 1), doc: fc.nat(DOCS.length - 1), delayMs: fc.integer({ min: 0, max: 400 }) }), { freq: 2 }).map((d) => new Crash(d)),
  fc.constant(new LedgerDown()),
  fc.constant(new LedgerUp()),
  fc.constant(new Drain()),
];

test('random computes, SIGKILLs, ledger outages and drains keep every acknowledged run, settle it exactly once, and never send a part twice', { timeout: 300_000 }, async (t) => {
  const stub = await startStub(t, { seed: 606 });
  let runs = 0;
  let steps = 0;
  let ackedTotal = 0;
  let cutPublished = 0;
  const spent = new Map<string, { n: number; ms: number }>();
  const t0 = performance.now();
  await fc.assert(
    // fast-check favours short sequences; a durability story needs a few steps to say anything.
    fc.asyncProperty(fc.commands(commands, { maxCommands: MAX_COMMANDS, size: 'max' }).filter((c) => [...c].length >= MIN_COMMANDS), async (cmds) => {
      runs++;
      await stub.admin.clearFaults();
      await stub.admin.reset();
      // Each run gets its own schema and process; both are gone before the next run starts.
      const schema = freshSchema(t);
      const svc = new Replica(t, serviceEnv(schema.name, stub.url), `rewarder-run-${runs}`);
      const log: string[] = [];
      const real: Real = { svc, stub, schema, triples: [], log, spent };
      try {
        await timed(real, 'setup', async () => {
          const url = await svc.start();
          for (const doc of DOCS) real.triples.push(await seal(url, doc));
        });
        const model: Model = { ledgerDown: false, bound: new Map(), maybe: new Map(), acked: [] };
        await fc.asyncModelRun(() => ({ model, real }), cmds);
        // Eventually: the ledger up, every acknowledged run settles, exactly once.
        await timed(real, 'final settle', async () => {
          await stub.admin.setFaults({ down: false });
          await settle(stub, schema, model.acked, 20_000);
        });
        const { records, stats } = await ledgerSnapshot(stub);
        const rows = await outboxRows(schema);
        assertNoPartTwice(records, stats, new Set(rows.map((x) => x.part_id)), 'at the end');
        assertRunsSettled(model.acked, records, 'at the end');
        assert.deepEqual(new Set(records.map((x) => x.part_id)), new Set(rows.map((x) => x.part_id)), 'at the end: every published part at the ledger');
        assert.deepEqual(svc.conflictAlerts(), []);
        steps += log.length;
        ackedTotal += model.acked.length;
        // Runs published by a compute that a kill cut short: settled too, never acknowledged.
        const acked = new Set(model.acked.map((a) => a.runKey));
        cutPublished += new Set(rows.filter((x) => !acked.has(x.run_key)).map((x) => x.run_key)).size;
      } catch (e) {
        throw new Error(`${(e as Error).message}\n  steps: ${log.join(' ; ')}`, { cause: e });
      } finally {
        await svc.kill('SIGKILL');
        await schema.drop();
      }
    }),
    // Shrinking would replay whole process lifecycles for minutes: report the first failure with
    // its seed and path (and the step log in the message) instead.
    { numRuns: RUNS, seed: 0x0d_0ab1e, endOnFailure: true, includeErrorInReport: true },
  );
  const where = [...spent].map(([k, v]) => `${k} ${v.n}× ${(v.ms / 1000).toFixed(1)} s`).join(', ');
  t.diagnostic(
    `${runs} runs, ${steps} steps, ${ackedTotal} acknowledged runs settled (+${cutPublished} published by cut computes), ` +
      `in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${where}`,
  );
});
