// Macronode stores on PostgreSQL, behind the same `Stores` seam as the memory stores. Every replica
// of the service opens these on one database: the epoch binding is a primary key, so two replicas
// racing on an epoch produce one binding, and the outbox is shared through leases taken with
// `FOR UPDATE SKIP LOCKED`, so a part is leased by at most one replica at a time.
//
// Leases are timed by the injected clock (`opts.now`, Date.now by default), stored as epoch
// milliseconds, never by the database's now(): the memory and PostgreSQL stores then expire leases
// by the same rule and tests drive both with one fake clock. Replicas' clocks may drift by a few
// milliseconds, which only lengthens or shortens a lease by that much; a lease is a liveness
// device, exactly-once rests on the ledger's dedupe by part_id.

import postgres from 'postgres';
import { AppError } from '../errors.js';
import {
  type EpochRecord,
  type EpochSummary,
  CANCELLABLE_STATES,
  FINAL_STATES,
  type FixedBasis,
  type InitialState,
  type OutboxPart,
  type PartState,
  type PartStatus,
  type PublishLease,
  type PublishOutcome,
  type Sealer,
  type StoredInputs,
  type StoredPolicy,
  type Stores,
  type Window,
  alreadySuperseded,
  noSuchSuperseded,
  quotaExceeded,
  windowOverlap,
} from './types.js';
import { SCHEMA_VERSION, migrateAs, migrateSchema, schemaVersion, unvalidatedConstraints } from './postgres-schema.js';

export interface PostgresStoresOptions {
  /** Schema holding every table, created if missing. Default `rewarder`. */
  schema?: string;
  /** Clock for leases, in epoch milliseconds. */
  now?: () => number;
  /** Pool size. */
  max?: number;
  /**
   * Client-side bound on one operation, default 20 s. A database that stops answering without
   * closing its sockets would otherwise hang callers: postgres.js has no query timeout, and the
   * server-side statement_timeout cannot fire for a query that never reached the server.
   */
  timeoutMs?: number;
  /**
   * The tenant that owns what a database holds from before tenancy (migration 2): its documents
   * and bindings. Used once, when that migration runs. Default `legacy`.
   */
  legacyOwner?: string;
  /**
   * A connection as the migration role, when it is not the runtime role of `url` (issue 15). The
   * schema is migrated over it (then it is closed), and the runtime role is granted only the DML
   * the service runs: it can neither change nor delete a binding or a published part, nor run DDL.
   * Absent: the runtime role migrates, as before; the append-only triggers still hold.
   */
  migrationUrl?: string;
  /** @internal tests: stop migrating after this version (to build a database as an older release left it). */
  migrateTo?: number;
}

export const DEFAULT_LEGACY_OWNER = 'legacy';
const TENANT_RE = /^[A-Za-z0-9._-]{1,64}$/;

const CONNECT_TIMEOUT_S = 5;
/** Bounds any one statement so a wedged database turns into a 503, not a hung request. */
const STATEMENT_TIMEOUT_MS = 15_000;
const HEALTH_TIMEOUT_MS = 1_000;
const CLOSE_TIMEOUT_MS = 5_000;
const OPERATION_TIMEOUT_MS = 20_000;
/**
 * Outbox rows per INSERT, closed at whichever limit comes first. A full-size part (4096 credits,
 * ~250 KB) gets a statement of its own so the server stores one while the next is still being
 * sent; thousands of small parts share a few statements instead of paying a round trip each.
 */
const INSERT_ROWS = 500;
const INSERT_BYTES = 128 * 1024;

// The SQL below spells out the live (non-final) states as literals so the partial index on them
// can serve the claim query; this check keeps the literals honest if PartState ever grows.
const ALL_STATES: readonly PartState[] = ['pending', 'held', 'on_hold', 'awaiting_basis', 'accepted', 'dup', 'conflict', 'failed', 'cancelled'];
const LIVE_STATES = ALL_STATES.filter((s) => !FINAL_STATES.includes(s));
if (LIVE_STATES.join() !== 'pending,held,on_hold,awaiting_basis' || CANCELLABLE_STATES.join() !== LIVE_STATES.join()) {
  throw new Error('postgres stores: SQL state literals are out of date');
}

function pool(url: string, max: number): postgres.Sql {
  return postgres(url, {
    max,
    connect_timeout: CONNECT_TIMEOUT_S,
    // Lists travel as JSON (jsonb_array_elements_text), never as array parameters: those need
    // this per-connection type fetch, and when the pool is ended while a connection is still
    // starting, the fetch's rejection goes unhandled and takes the process down.
    fetch_types: false,
    onnotice: () => {},
    connection: { application_name: 'svc-rewarder', statement_timeout: STATEMENT_TIMEOUT_MS },
  });
}

// Network errors, postgres.js's own connection codes, and SQLSTATEs meaning "not now": connection
// exceptions (class 08), shutdown or startup (57P0x), too many connections, statement timeout.
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  '57P01', '57P02', '57P03', '53300', '57014',
]);

function unavailable(cause: unknown): AppError {
  const app = new AppError('UNAVAILABLE', 'the database is unavailable', { reason: 'store_unavailable' }, { 'Retry-After': '1' });
  return Object.assign(app, { cause });
}

function asUnavailable(err: unknown): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08')) ? unavailable(err) : err;
}

/** A plain Uint8Array owning its memory: postgres.js hands out Buffers that may share a pool slab. */
function bytesOf(b: Uint8Array): Uint8Array {
  return new Uint8Array(b);
}

interface EpochRow {
  epoch_id: string;
  inputs_cid: string;
  policy_hash: string;
  policy_id: string;
  run_key: string;
  commitment: string;
  manifest: Uint8Array;
  attestation: Uint8Array | null;
  program: string;
  start_ms: string;
  end_ms: string;
  tenant: string;
  corr_id: string;
  created_at: Date;
  payees: string;
  payout_minor: string;
  hold_until: string;
  supersedes: string | null;
  superseded_by: string | null;
  basis_fixed: boolean;
  correction?: Uint8Array | null;
  correction_attestation?: Uint8Array | null;
}

interface PartRow {
  part_id: string;
  epoch_id: string;
  run_key: string;
  idx: number;
  count: number;
  body: Uint8Array;
  epoch_seq: string;
}

function toSummary(r: Omit<EpochRow, 'manifest' | 'attestation'>): EpochSummary {
  return {
    epochId: r.epoch_id,
    inputsCid: r.inputs_cid,
    policyHash: r.policy_hash,
    policyId: r.policy_id,
    runKey: r.run_key,
    commitment: r.commitment,
    program: r.program,
    window: { startMs: Number(r.start_ms), endMs: Number(r.end_ms) },
    tenant: r.tenant,
    corrId: r.corr_id,
    boundAt: r.created_at.getTime(),
    payees: Number(r.payees),
    payoutMinor: r.payout_minor,
    holdUntil: Number(r.hold_until),
    supersedes: r.supersedes,
    supersededBy: r.superseded_by,
    basis: r.supersedes === null ? null : r.basis_fixed ? 'fixed' : 'awaiting',
  };
}

function toRecord(r: EpochRow): EpochRecord {
  return {
    ...toSummary(r),
    manifest: bytesOf(r.manifest),
    attestation: r.attestation === null ? null : bytesOf(r.attestation),
    correction: (r.correction ?? null) === null ? null : bytesOf(r.correction as Uint8Array),
    correctionAttestation: (r.correction_attestation ?? null) === null ? null : bytesOf(r.correction_attestation as Uint8Array),
  };
}

const SUMMARY_COLUMNS = [
  'epoch_id', 'inputs_cid', 'policy_hash', 'policy_id', 'run_key', 'commitment', 'program', 'start_ms', 'end_ms', 'tenant', 'corr_id', 'created_at', 'payees', 'payout_minor',
  'hold_until', 'supersedes', 'superseded_by', 'basis_fixed',
] as const;

/** The advisory lock serialising, per epoch, its supersession, the fixing of its basis and re-drives of its parts. */
function epochLock(schema: string, epochId: string): string {
  return `svc-rewarder.epoch.${schema}.${epochId}`;
}

function toPart(r: PartRow): OutboxPart {
  return { partId: r.part_id, epochId: r.epoch_id, runKey: r.run_key, index: r.idx, count: r.count, body: bytesOf(r.body) };
}

/** Publication order, then index: UPDATE … RETURNING promises no order, so it is restored here. */
function byPublication(a: PartRow, b: PartRow): number {
  return Number(a.epoch_seq) - Number(b.epoch_seq) || a.idx - b.idx;
}

function chunks(parts: readonly OutboxPart[]): OutboxPart[][] {
  const out: OutboxPart[][] = [];
  let cur: OutboxPart[] = [];
  let bytes = 0;
  for (const p of parts) {
    if (cur.length > 0 && (cur.length >= INSERT_ROWS || bytes + p.body.length > INSERT_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(p);
    bytes += p.body.length;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}


const OUTBOX_COLUMNS = ['part_id', 'epoch_id', 'epoch_seq', 'run_key', 'idx', 'count', 'body', 'state', 'lease_owner', 'lease_until', 'hold_until', 'claimed'] as const;

function outboxRows(parts: readonly OutboxPart[], epochSeq: string, state: PartState, holdUntil: number, lease?: { owner: string; until: number }) {
  return parts.map((p) => ({
    part_id: p.partId,
    epoch_id: p.epochId,
    epoch_seq: epochSeq,
    run_key: p.runKey,
    idx: p.index,
    count: p.count,
    body: p.body,
    state,
    lease_owner: lease?.owner ?? null,
    lease_until: lease?.until ?? 0,
    hold_until: holdUntil,
    // Published leased to its publisher, which emits it at once: claimed from the start.
    claimed: lease !== undefined,
  }));
}

export class PostgresStores implements Stores {
  readonly kind = 'postgres' as const;
  /**
   * Foreign keys of `epochs` that migration 3 could not validate because bindings already named
   * missing documents (a hand-edited database): new bindings are checked, those are not. The
   * service logs them at every start; empty on any database this service alone has written.
   */
  unvalidatedConstraints: readonly string[] = [];
  /** The schema's version when it was opened (a newer release may have migrated it further). */
  schemaVersion = 0;
  private inflight = 0;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly t: {
    owners: postgres.Helper<string>;
    inputs: postgres.Helper<string>;
    policies: postgres.Helper<string>;
    epochs: postgres.Helper<string>;
    epochsV: postgres.Helper<string>;
    supersessions: postgres.Helper<string>;
    corrections: postgres.Helper<string>;
    outbox: postgres.Helper<string>;
  };

  private constructor(
    private readonly sql: postgres.Sql,
    readonly schema: string,
    private readonly now: () => number,
    private readonly timeoutMs: number,
  ) {
    this.t = {
      owners: sql(`${schema}.doc_owners`),
      inputs: sql(`${schema}.inputs`),
      policies: sql(`${schema}.policies`),
      epochs: sql(`${schema}.epochs`),
      epochsV: sql(`${schema}.epochs_v`),
      supersessions: sql(`${schema}.supersessions`),
      corrections: sql(`${schema}.corrections`),
      outbox: sql(`${schema}.outbox`),
    };
  }

  /** @internal use openPostgresStores */
  static async open(url: string, opts: PostgresStoresOptions = {}): Promise<PostgresStores> {
    const schema = opts.schema ?? 'rewarder';
    // Interpolated into DDL below: only plain lower-case identifiers are accepted.
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new RangeError(`invalid schema name: ${JSON.stringify(schema)}`);
    const legacyOwner = opts.legacyOwner ?? DEFAULT_LEGACY_OWNER;
    // Interpolated into the migration's SQL: only the tokens file's tenant characters.
    if (!TENANT_RE.test(legacyOwner)) throw new RangeError(`invalid legacy owner: ${JSON.stringify(legacyOwner)}`);
    const sql = pool(url, opts.max ?? 10);
    const stores = new PostgresStores(sql, schema, opts.now ?? Date.now, opts.timeoutMs ?? OPERATION_TIMEOUT_MS);
    const upTo = Math.min(opts.migrateTo ?? SCHEMA_VERSION, SCHEMA_VERSION);
    try {
      const { migrationUrl } = opts;
      if (migrationUrl === undefined) await stores.guard(() => migrateSchema(sql, schema, legacyOwner, upTo));
      else {
        // The migration role's connection lives only for this.
        const mig = pool(migrationUrl, 1);
        try {
          await stores.guard(() => migrateAs(mig, sql, schema, legacyOwner, upTo));
        } finally {
          await mig.end({ timeout: 0 }).catch(() => {});
        }
      }
      // What the runtime role sees, whoever migrated: a schema behind this release cannot be served.
      const version = await stores.guard(() => schemaVersion(sql, schema));
      if (version < upTo) throw new Error(`schema "${schema}" is at version ${version}, this release needs ${upTo}`);
      stores.schemaVersion = version;
      stores.unvalidatedConstraints = await stores.guard(() => unvalidatedConstraints(sql, schema));
    } catch (err) {
      await sql.end({ timeout: 0 }).catch(() => {});
      throw err;
    }
    return stores;
  }

  /**
   * Connection-level failures and operations outliving `timeoutMs` become a 503 the service can
   * render; anything else is a bug and propagates as is. A timed-out write may still commit later:
   * like a ledger timeout, it means "unknown", and publish's binding makes the retry a replay.
   */
  private async guard<T>(fn: () => Promise<T>): Promise<T> {
    this.inflight++;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(new Error(`store operation exceeded ${this.timeoutMs} ms`))), this.timeoutMs);
    });
    try {
      return await Promise.race([fn(), late]);
    } catch (err) {
      throw asUnavailable(err);
    } finally {
      clearTimeout(timer);
      if (--this.inflight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** Sealing bytes stored before their window and pool were recorded fills those in. */
  putInputs(doc: StoredInputs, by: Sealer): Promise<boolean> {
    return this.own('inputs', doc.cid, doc.bytes.length, by, (tx) => tx`
      INSERT INTO ${this.t.inputs} (cid, bytes, actors, events, start_ms, end_ms, pool_minor)
      VALUES (${doc.cid}, ${doc.bytes}, ${doc.actors}, ${doc.events}, ${doc.window?.startMs ?? null}, ${doc.window?.endMs ?? null}, ${doc.poolMinor})
      ON CONFLICT (cid) DO UPDATE SET start_ms = EXCLUDED.start_ms, end_ms = EXCLUDED.end_ms, pool_minor = EXCLUDED.pool_minor
        WHERE ${this.t.inputs}.pool_minor IS NULL AND EXCLUDED.pool_minor IS NOT NULL`);
  }

  getInputs(cid: string, tenant: string): Promise<StoredInputs | null> {
    return this.guard(async () => {
      // One statement whether or not another tenant owns the CID: the same work as a missing one.
      const [r] = await this.sql<{ cid: string; bytes: Uint8Array; actors: string; events: string; start_ms: string | null; end_ms: string | null; pool_minor: string | null }[]>`
        SELECT i.cid, i.bytes, i.actors, i.events, i.start_ms, i.end_ms, i.pool_minor FROM ${this.t.inputs} i
        JOIN ${this.t.owners} o ON o.kind = 'inputs' AND o.id = i.cid AND o.tenant = ${tenant}
        WHERE i.cid = ${cid}`;
      if (r === undefined) return null;
      return {
        cid: r.cid,
        bytes: bytesOf(r.bytes),
        actors: Number(r.actors),
        events: Number(r.events),
        window: r.start_ms === null || r.end_ms === null ? null : { startMs: Number(r.start_ms), endMs: Number(r.end_ms) },
        poolMinor: r.pool_minor,
      };
    });
  }

  putPolicy(doc: StoredPolicy, by: Sealer): Promise<boolean> {
    return this.own('policy', doc.hash, doc.bytes.length, by, (tx) => tx`
      INSERT INTO ${this.t.policies} (hash, id, bytes) VALUES (${doc.hash}, ${doc.id}, ${doc.bytes}) ON CONFLICT (hash) DO NOTHING`);
  }

  getPolicy(hash: string, tenant: string): Promise<StoredPolicy | null> {
    return this.guard(async () => {
      const [r] = await this.sql<{ hash: string; id: string; bytes: Uint8Array }[]>`
        SELECT p.hash, p.id, p.bytes FROM ${this.t.policies} p
        JOIN ${this.t.owners} o ON o.kind = 'policy' AND o.id = p.hash AND o.tenant = ${tenant}
        WHERE p.hash = ${hash}`;
      return r === undefined ? null : { hash: r.hash, id: r.id, bytes: bytesOf(r.bytes) };
    });
  }

  owns(kind: 'inputs' | 'policy', id: string, tenant: string): Promise<boolean> {
    return this.guard(async () => {
      const [r] = await this.sql`SELECT 1 FROM ${this.t.owners} WHERE kind = ${kind} AND id = ${id} AND tenant = ${tenant}`;
      return r !== undefined;
    });
  }

  tenantUsage(): Promise<Map<string, number>> {
    return this.guard(async () => {
      const rows = await this.sql<{ tenant: string; bytes: string }[]>`SELECT tenant, sum(bytes)::bigint AS bytes FROM ${this.t.owners} GROUP BY tenant`;
      return new Map(rows.map((r) => [r.tenant, Number(r.bytes)]));
    });
  }

  /**
   * Stores a document (once) and its ownership by `by.tenant`, in one transaction. A per-tenant
   * advisory lock serialises one tenant's uploads across replicas, so two of them cannot both
   * pass the quota check on the same remaining bytes.
   */
  private own(kind: 'inputs' | 'policy', id: string, size: number, by: Sealer, insertDoc: (tx: postgres.TransactionSql) => Promise<unknown>): Promise<boolean> {
    return this.guard(() =>
      this.sql.begin(async (tx): Promise<boolean> => {
        if (by.quotaBytes !== null) {
          await tx`SELECT pg_advisory_xact_lock(hashtext(${`svc-rewarder.quota.${this.schema}.${by.tenant}`}))`;
          const [mine] = await tx`SELECT 1 FROM ${this.t.owners} WHERE kind = ${kind} AND id = ${id} AND tenant = ${by.tenant}`;
          if (mine !== undefined) return false;
          const [u] = await tx<{ used: string }[]>`SELECT coalesce(sum(bytes), 0)::bigint AS used FROM ${this.t.owners} WHERE tenant = ${by.tenant}`;
          const used = Number(u?.used ?? 0);
          if (used + size > by.quotaBytes) throw quotaExceeded(by.quotaBytes, used, size);
        }
        await insertDoc(tx);
        const r = await tx`INSERT INTO ${this.t.owners} (kind, id, tenant, bytes) VALUES (${kind}, ${id}, ${by.tenant}, ${size}) ON CONFLICT DO NOTHING`;
        return r.count === 1;
      }),
    );
  }

  overlapping(program: string, window: Window): Promise<string | null> {
    return this.guard(async () => {
      // A superseded epoch has passed its window on (SPEC §13).
      const [r] = await this.sql<{ epoch_id: string }[]>`SELECT epoch_id FROM ${this.t.epochsV}
        WHERE program = ${program} AND start_ms < ${window.endMs}::bigint AND ${window.startMs}::bigint < end_ms
          AND superseded_by IS NULL
        ORDER BY start_ms, epoch_id LIMIT 1`;
      return r?.epoch_id ?? null;
    });
  }

  listEpochs(program: string, after: string | null, limit: number): Promise<EpochSummary[] | null> {
    return this.guard(async () => {
      const epochs = this.t.epochsV;
      const cols = this.sql(SUMMARY_COLUMNS as unknown as string[]);
      if (after === null) {
        const rows = await this.sql<EpochRow[]>`SELECT ${cols} FROM ${epochs} WHERE program = ${program} ORDER BY start_ms, epoch_id LIMIT ${limit}`;
        return rows.map(toSummary);
      }
      const [from] = await this.sql<{ start_ms: string }[]>`SELECT start_ms FROM ${epochs} WHERE program = ${program} AND epoch_id = ${after}`;
      if (from === undefined) return null;
      const rows = await this.sql<EpochRow[]>`SELECT ${cols} FROM ${epochs}
        WHERE program = ${program} AND (start_ms, epoch_id) > (${from.start_ms}::bigint, ${after})
        ORDER BY start_ms, epoch_id LIMIT ${limit}`;
      return rows.map(toSummary);
    });
  }

  getEpoch(epochId: string): Promise<EpochRecord | null> {
    return this.guard(async () => {
      const [r] = await this.sql<EpochRow[]>`SELECT * FROM ${this.t.epochsV} WHERE epoch_id = ${epochId}`;
      return r === undefined ? null : toRecord(r);
    });
  }

  async publish(record: EpochRecord, parts: readonly OutboxPart[], initial: InitialState, lease?: PublishLease): Promise<PublishOutcome> {
    const stray = parts.find((p) => p.epochId !== record.epochId);
    if (stray !== undefined) throw new Error(`part ${stray.partId} belongs to epoch ${stray.epochId}, not ${record.epochId}`);
    const { startMs, endMs } = record.window;
    return this.guard(async () => {
      try {
        return await this.publishIn(record, parts, initial, lease);
      } catch (err) {
        // 23P01: the exclusion constraint refused the window. The binding it clashed with has
        // committed (the constraint waits for an in-flight one to end), so it can be read now; it
        // may be this very epoch, bound by a racing replica with the same window.
        if ((err as { code?: unknown } | null)?.code !== '23P01') throw err;
        const [same] = await this.sql<EpochRow[]>`SELECT * FROM ${this.t.epochsV} WHERE epoch_id = ${record.epochId}`;
        if (same !== undefined) return { created: false, record: toRecord(same) };
        const [clash] = await this.sql<{ epoch_id: string }[]>`SELECT epoch_id FROM ${this.t.epochsV}
          WHERE program = ${record.program} AND start_ms < ${endMs}::bigint AND ${startMs}::bigint < end_ms
            AND superseded_by IS NULL
          ORDER BY start_ms, epoch_id LIMIT 1`;
        if (clash === undefined) throw err;
        throw windowOverlap(clash.epoch_id);
      }
    });
  }

  private publishIn(record: EpochRecord, parts: readonly OutboxPart[], initial: InitialState, lease?: PublishLease): Promise<PublishOutcome> {
    const { epochs, epochsV, outbox, supersessions } = this.t;
    const { startMs, endMs } = record.window;
    const old = record.supersedes ?? null;
    return this.sql.begin(async (tx): Promise<PublishOutcome> => {
      // SPEC §13: the chain a superseding epoch joins (its window is the chain's), checked under
      // the superseded epoch's lock, which its own basis being fixed (fixBasis) and a racing
      // supersession of it take too.
      let chain: string | null = null;
      if (old !== null) {
        await tx`SELECT pg_advisory_xact_lock(hashtext(${epochLock(this.schema, old)}))`;
        const [o] = await tx<{ program: string; chain: string | null; superseded_by: string | null }[]>`
          SELECT program, chain, superseded_by FROM ${epochsV} WHERE epoch_id = ${old}`;
        if (o === undefined || o.program !== record.program) throw noSuchSuperseded(old);
        if (o.superseded_by !== null) {
          const [same] = await tx<EpochRow[]>`SELECT * FROM ${epochsV} WHERE epoch_id = ${record.epochId}`;
          if (same !== undefined) return { created: false, record: toRecord(same) };
          throw alreadySuperseded(old, o.superseded_by);
        }
        chain = o.chain ?? old;
      }
      // Bindings kept from before the window rule are outside the constraint; they never change.
      const [legacy] = await tx<{ epoch_id: string }[]>`SELECT epoch_id FROM ${epochsV}
        WHERE window_legacy AND superseded_by IS NULL AND program = ${record.program} AND start_ms < ${endMs}::bigint AND ${startMs}::bigint < end_ms
          AND epoch_id <> ${record.epochId} AND coalesce(chain, epoch_id) IS DISTINCT FROM ${chain}
        LIMIT 1`;
      if (legacy !== undefined) throw windowOverlap(legacy.epoch_id);
      // A racing publisher of the same epoch waits here for ours to commit or roll back; one of
      // an overlapping window in the same program (and another chain) waits too, then fails the
      // constraint (23P01).
      const [bound] = await tx<{ published_seq: string }[]>`
        INSERT INTO ${epochs} (epoch_id, inputs_cid, policy_hash, policy_id, run_key, commitment, manifest, attestation,
                               program, start_ms, end_ms, tenant, corr_id, created_at, payees, payout_minor,
                               hold_until, supersedes, chain)
        VALUES (${record.epochId}, ${record.inputsCid}, ${record.policyHash}, ${record.policyId}, ${record.runKey},
                ${record.commitment}, ${record.manifest}, ${record.attestation},
                ${record.program}, ${startMs}::bigint, ${endMs}::bigint, ${record.tenant}, ${record.corrId},
                ${new Date(record.boundAt)}, ${record.payees}, ${record.payoutMinor},
                ${record.holdUntil ?? 0}::bigint, ${old}, ${chain})
        ON CONFLICT (epoch_id) DO NOTHING
        RETURNING published_seq`;
      if (bound === undefined) {
        const [existing] = await tx<EpochRow[]>`SELECT * FROM ${epochsV} WHERE epoch_id = ${record.epochId}`;
        if (existing === undefined) throw new Error(`epoch ${record.epochId} conflicted but cannot be read`);
        return { created: false, record: toRecord(existing) };
      }
      if (old !== null) {
        // `old` is superseded (once: the key), and every part of it nobody ever claimed is
        // cancelled. A claim marks its rows `claimed` in the same update that leases them, under
        // the row lock: whichever comes first wins, and a claimed part is never cancelled (the new
        // epoch waits for its answer instead).
        await tx`INSERT INTO ${supersessions} (epoch_id, superseded_by) VALUES (${old}, ${record.epochId})`;
        await tx`UPDATE ${outbox} SET state = 'cancelled', lease_owner = NULL, lease_until = 0
          WHERE epoch_id = ${old} AND NOT claimed AND state IN ('pending', 'held', 'on_hold', 'awaiting_basis')`;
      }
      // Pipelined on the transaction's connection; the first failure aborts the transaction.
      const leased = lease === undefined ? undefined : { owner: lease.owner, until: this.now() + lease.ms };
      await Promise.all(chunks(parts).map((chunk) => tx`INSERT INTO ${outbox} ${tx(outboxRows(chunk, bound.published_seq, initial, record.holdUntil ?? 0, leased), OUTBOX_COLUMNS)}`));
      return { created: true, record: { ...record, supersedes: old, supersededBy: null, basis: old === null ? null : 'awaiting' } };
    });
  }

  awaitingBasis(): Promise<string[]> {
    return this.guard(async () => {
      const rows = await this.sql<{ epoch_id: string }[]>`SELECT epoch_id FROM ${this.t.epochsV}
        WHERE supersedes IS NOT NULL AND NOT basis_fixed AND superseded_by IS NULL ORDER BY published_seq`;
      return rows.map((r) => r.epoch_id);
    });
  }

  fixBasis(epochId: string, fixed: FixedBasis): Promise<boolean> {
    const { epochs, outbox, supersessions, corrections } = this.t;
    const now = this.now();
    return this.guard(() =>
      this.sql.begin(async (tx): Promise<boolean> => {
        // Under the epoch's lock: a supersession of this epoch either came first (nothing is
        // fixed) or comes after and cancels what this enqueues, none of it claimed yet.
        await tx`SELECT pg_advisory_xact_lock(hashtext(${epochLock(this.schema, epochId)}))`;
        const [gone] = await tx`SELECT 1 FROM ${supersessions} WHERE epoch_id = ${epochId}`;
        if (gone !== undefined) return false;
        const [e] = await tx<{ hold_until: string; published_seq: string; supersedes: string | null }[]>`
          SELECT hold_until, published_seq, supersedes FROM ${epochs} WHERE epoch_id = ${epochId}`;
        if (e === undefined || e.supersedes === null) return false;
        const [r] = await tx`INSERT INTO ${corrections} (epoch_id, document, attestation)
          VALUES (${epochId}, ${fixed.document}, ${fixed.attestation}) ON CONFLICT (epoch_id) DO NOTHING RETURNING epoch_id`;
        if (r === undefined) return false;
        const holdUntil = Number(e.hold_until);
        const released: PartState = holdUntil > now ? 'on_hold' : 'pending';
        for (const chunk of chunks(fixed.parts)) {
          await tx`INSERT INTO ${outbox} ${tx(outboxRows(chunk, e.published_seq, released, holdUntil), OUTBOX_COLUMNS)}`;
        }
        return true;
      }),
    );
  }

  claimParts(owner: string, limit: number, leaseMs: number, states: readonly PartState[]): Promise<OutboxPart[]> {
    if (limit <= 0 || states.length === 0) return Promise.resolve([]);
    const now = this.now();
    const { outbox } = this.t;
    return this.guard(async () => {
      // SKIP LOCKED: a row another replica is claiming right now is passed over, not waited for;
      // a row it claimed and committed meanwhile is re-checked against the lease and dropped.
      const rows = await this.sql<PartRow[]>`
        WITH picked AS MATERIALIZED (
          SELECT part_id FROM ${outbox}
          WHERE ((state IN ('pending', 'held') AND state IN (SELECT jsonb_array_elements_text(${this.sql.json([...states])})))
              OR (${states.includes('pending')} AND state = 'on_hold' AND hold_until <= ${now}::bigint))
            AND lease_until <= ${now}::bigint
          ORDER BY epoch_seq, idx
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        UPDATE ${outbox} o SET lease_owner = ${owner}, lease_until = ${now + leaseMs}::bigint, claimed = true,
          state = CASE WHEN o.state = 'on_hold' THEN 'pending' ELSE o.state END
        FROM picked WHERE o.part_id = picked.part_id
        RETURNING o.part_id, o.epoch_id, o.run_key, o.idx, o.count, o.body, o.epoch_seq`;
      return rows.sort(byPublication).map(toPart);
    });
  }

  claimPartsById(owner: string, partIds: readonly string[], leaseMs: number): Promise<OutboxPart[]> {
    const ids = [...new Set(partIds)];
    if (ids.length === 0) return Promise.resolve([]);
    const now = this.now();
    const { outbox } = this.t;
    return this.guard(async () => {
      const rows = await this.sql<PartRow[]>`
        WITH picked AS MATERIALIZED (
          SELECT part_id FROM ${outbox}
          WHERE part_id IN (SELECT jsonb_array_elements_text(${this.sql.json(ids)})) AND state IN ('pending', 'held')
            AND (lease_until <= ${now}::bigint OR lease_owner = ${owner})
          FOR UPDATE SKIP LOCKED)
        UPDATE ${outbox} o SET lease_owner = ${owner}, lease_until = ${now + leaseMs}::bigint, claimed = true
        FROM picked WHERE o.part_id = picked.part_id
        RETURNING o.part_id, o.epoch_id, o.run_key, o.idx, o.count, o.body, o.epoch_seq`;
      // In the order asked for, as the memory store does.
      const byId = new Map(rows.map((r) => [r.part_id, r]));
      return ids.flatMap((id) => {
        const r = byId.get(id);
        return r === undefined ? [] : [toPart(r)];
      });
    });
  }

  settlePart(partId: string, owner: string, state: PartState, attemptsAdded: number, lastError: string | null): Promise<void> {
    return this.guard(async () => {
      // SET expressions read the row as it was, so both lease columns test the old owner.
      await this.sql`
        UPDATE ${this.t.outbox} SET
          state = CASE WHEN state IN ('pending', 'held') THEN ${state} ELSE state END,
          attempts = attempts + ${attemptsAdded},
          last_error = ${lastError},
          lease_owner = CASE WHEN lease_owner = ${owner} THEN NULL ELSE lease_owner END,
          lease_until = CASE WHEN lease_owner = ${owner} THEN 0 ELSE lease_until END
        WHERE part_id = ${partId}`;
    });
  }

  releaseLeases(owner: string): Promise<number> {
    return this.guard(async () => {
      const r = await this.sql`
        UPDATE ${this.t.outbox} SET lease_owner = NULL, lease_until = 0
        WHERE lease_owner = ${owner} AND state IN ('pending', 'held')`;
      return r.count;
    });
  }

  redriveFailed(epochId?: string): Promise<number> {
    return this.guard(async () => {
      // A superseded epoch's parts are never sent again: its successor's basis counts them unpaid.
      // Each epoch's lock (sorted, so two re-drives cannot deadlock) serialises this with a
      // supersession of it: either the supersession comes after and waits for the re-driven
      // (claimed) parts' answers, or it came first and the epoch is left out here.
      const { outbox, supersessions } = this.t;
      return await this.sql.begin(async (tx) => {
        const ids = epochId !== undefined
          ? [epochId]
          : (await tx<{ epoch_id: string }[]>`SELECT DISTINCT epoch_id FROM ${outbox} WHERE state = 'failed' ORDER BY epoch_id`).map((x) => x.epoch_id);
        for (const id of ids) await tx`SELECT pg_advisory_xact_lock(hashtext(${epochLock(this.schema, id)}))`;
        const r = await tx`UPDATE ${outbox} o SET state = 'pending', lease_owner = NULL, lease_until = 0
          WHERE o.state = 'failed' AND o.epoch_id IN (SELECT jsonb_array_elements_text(${tx.json(ids)}))
            AND NOT EXISTS (SELECT 1 FROM ${supersessions} x WHERE x.epoch_id = o.epoch_id)`;
        return r.count;
      });
    });
  }

  holdPending(): Promise<number> {
    return this.guard(async () => {
      const r = await this.sql`UPDATE ${this.t.outbox} SET state = 'held' WHERE state = 'pending'`;
      return r.count;
    });
  }

  partsOf(epochId: string): Promise<PartStatus[]> {
    return this.guard(async () => {
      const rows = await this.sql<{ part_id: string; epoch_id: string; idx: number; count: number; state: PartState; attempts: number; last_error: string | null }[]>`
        SELECT part_id, epoch_id, idx, count, state, attempts, last_error
        FROM ${this.t.outbox} WHERE epoch_id = ${epochId} ORDER BY idx`;
      return rows.map((r) => ({
        partId: r.part_id,
        epochId: r.epoch_id,
        index: r.idx,
        count: r.count,
        state: r.state,
        attempts: r.attempts,
        lastError: r.last_error,
      }));
    });
  }

  countParts(states: readonly PartState[]): Promise<number> {
    if (states.length === 0) return Promise.resolve(0);
    return this.guard(async () => {
      const [r] = await this.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM ${this.t.outbox} WHERE state IN (SELECT jsonb_array_elements_text(${this.sql.json([...states])}))`;
      return r?.n ?? 0;
    });
  }

  /** Never throws: a dead, slow or closed pool reads as unhealthy within HEALTH_TIMEOUT_MS. */
  async healthy(): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const probe = this.sql`SELECT 1`.then(
      () => true,
      () => false,
    );
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
      timer.unref();
    });
    try {
      return await Promise.race([probe, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Lets in-flight operations finish (up to CLOSE_TIMEOUT_MS), then ends the pool at once. The
   * waiting is ours, not postgres.js's: its end() can wait forever on a connection whose socket
   * died mid-query (porsager/postgres#1097), which after any database outage would stall shutdown.
   */
  async close(): Promise<void> {
    if (this.inflight > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.idleWaiters.push(resolve)),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
      ]);
      clearTimeout(timer);
    }
    await this.sql.end({ timeout: 0 });
  }
}

/** Opens the pool and migrates the schema; rejects with UNAVAILABLE when the database is down. */
export function openPostgresStores(url: string, opts?: PostgresStoresOptions): Promise<PostgresStores> {
  return PostgresStores.open(url, opts);
}
