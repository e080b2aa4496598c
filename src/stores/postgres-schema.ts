// The PostgreSQL stores' schema: its migrations, in order, and how they are applied, by the one
// role of DATABASE_URL or, with DATABASE_MIGRATION_URL, by a migration role apart from the runtime
// role (issue 15; the roles' checks and grants are in postgres-roles.ts).

import type postgres from 'postgres';
import { checkSplit, grantRuntime, roleOf } from './postgres-roles.js';

/**
 * Ordered, append-only; each entry runs once per schema, in one transaction with its version.
 * From version 3 on, `epochs` rows and the published columns of `outbox` rows refuse UPDATE,
 * DELETE and TRUNCATE by trigger: a later migration that must rewrite them disables the trigger
 * around its statement (`ALTER TABLE … DISABLE TRIGGER …`, then ENABLE), in the same transaction.
 * A table or column the runtime writes needs its grant in `RUNTIME_GRANTS` (postgres-roles.ts):
 * every start with a migration role resets the runtime role to exactly those, and the store
 * contract run under the split roles (postgres.test.ts) fails on a missing one.
 */
const MIGRATIONS: readonly { version: number; statements: (s: string, legacyOwner: string) => string[] }[] = [
  {
    version: 1,
    statements: (s) => [
      `CREATE TABLE IF NOT EXISTS ${s}.inputs (
        cid text PRIMARY KEY,
        bytes bytea NOT NULL,
        actors bigint NOT NULL,
        events bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE IF NOT EXISTS ${s}.policies (
        hash text PRIMARY KEY,
        id text NOT NULL,
        bytes bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE IF NOT EXISTS ${s}.epochs (
        epoch_id text PRIMARY KEY,
        inputs_cid text NOT NULL,
        policy_hash text NOT NULL,
        policy_id text NOT NULL,
        run_key text NOT NULL,
        commitment text NOT NULL,
        manifest bytea NOT NULL,
        attestation bytea,
        published_seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE IF NOT EXISTS ${s}.outbox (
        part_id text PRIMARY KEY,
        epoch_id text NOT NULL REFERENCES ${s}.epochs (epoch_id),
        epoch_seq bigint NOT NULL,
        run_key text NOT NULL,
        idx integer NOT NULL CHECK (idx >= 0),
        count integer NOT NULL CHECK (count > idx),
        body bytea NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'held', 'accepted', 'dup', 'conflict', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        last_error text,
        lease_owner text,
        lease_until bigint NOT NULL DEFAULT 0,
        UNIQUE (epoch_id, idx))`,
      `CREATE INDEX IF NOT EXISTS outbox_claim_idx ON ${s}.outbox (epoch_seq, idx) WHERE state IN ('pending', 'held')`,
      `CREATE INDEX IF NOT EXISTS outbox_state_idx ON ${s}.outbox (state)`,
      // Large values are compressed as they are stored, on the publish path: lz4 (PostgreSQL 14+,
      // when built with it) stores a 25-part run about 30 % faster than the default pglz.
      `DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
          EXECUTE 'ALTER TABLE ${s}.outbox ALTER COLUMN body SET COMPRESSION lz4';
          EXECUTE 'ALTER TABLE ${s}.epochs ALTER COLUMN manifest SET COMPRESSION lz4';
          EXECUTE 'ALTER TABLE ${s}.inputs ALTER COLUMN bytes SET COMPRESSION lz4';
        END IF;
      END $$`,
    ],
  },
  {
    // SPEC §10, in place: documents gain owners, bindings their program, window, tenant, corr id
    // and totals. What existed before belongs to the configured legacy owner. Windows already
    // overlapping in a program (paid twice before this rule) stay as they are: every binding that
    // overlaps an earlier one is marked `window_legacy` and left out of the exclusion constraint,
    // whose remaining rows are then pairwise disjoint; publish also checks new windows against the
    // marked rows (a fixed set, so that check cannot race).
    version: 2,
    statements: (s, owner) => [
      `CREATE EXTENSION IF NOT EXISTS btree_gist`,
      `CREATE TABLE ${s}.doc_owners (
        kind text NOT NULL CHECK (kind IN ('inputs', 'policy')),
        id text NOT NULL,
        tenant text NOT NULL,
        bytes bigint NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, id, tenant))`,
      `CREATE INDEX doc_owners_tenant_idx ON ${s}.doc_owners (tenant)`,
      `INSERT INTO ${s}.doc_owners (kind, id, tenant, bytes) SELECT 'inputs', cid, '${owner}', length(bytes) FROM ${s}.inputs`,
      `INSERT INTO ${s}.doc_owners (kind, id, tenant, bytes) SELECT 'policy', hash, '${owner}', length(bytes) FROM ${s}.policies`,
      `ALTER TABLE ${s}.inputs ADD COLUMN start_ms bigint, ADD COLUMN end_ms bigint, ADD COLUMN pool_minor text`,
      `ALTER TABLE ${s}.epochs ADD COLUMN program text, ADD COLUMN start_ms bigint, ADD COLUMN end_ms bigint,
        ADD COLUMN tenant text, ADD COLUMN corr_id text NOT NULL DEFAULT '', ADD COLUMN payees bigint,
        ADD COLUMN payout_minor text, ADD COLUMN window_legacy boolean NOT NULL DEFAULT false`,
      `UPDATE ${s}.epochs e SET
        program = CASE WHEN strpos(e.epoch_id, ':') > 0 THEN split_part(e.epoch_id, ':', 1) ELSE 'default' END,
        start_ms = (m.j -> 'window' ->> 'start_ms')::bigint,
        end_ms = (m.j -> 'window' ->> 'end_ms')::bigint,
        payees = (m.j -> 'counts' ->> 'payees')::bigint,
        payout_minor = m.j -> 'totals' ->> 'payout_minor',
        tenant = '${owner}'
        FROM (SELECT epoch_id, convert_from(manifest, 'UTF8')::jsonb AS j FROM ${s}.epochs) m
        WHERE m.epoch_id = e.epoch_id`,
      `UPDATE ${s}.epochs e SET window_legacy = true WHERE EXISTS (
        SELECT 1 FROM ${s}.epochs o WHERE o.program = e.program AND o.published_seq < e.published_seq
          AND o.start_ms < e.end_ms AND e.start_ms < o.end_ms)`,
      `ALTER TABLE ${s}.epochs ALTER COLUMN program SET NOT NULL, ALTER COLUMN start_ms SET NOT NULL,
        ALTER COLUMN end_ms SET NOT NULL, ALTER COLUMN tenant SET NOT NULL, ALTER COLUMN payees SET NOT NULL,
        ALTER COLUMN payout_minor SET NOT NULL`,
      `ALTER TABLE ${s}.epochs ADD CONSTRAINT epochs_window_once EXCLUDE USING gist
        (program WITH =, int8range(start_ms, end_ms) WITH &&) WHERE (NOT window_legacy)`,
      `CREATE INDEX epochs_program_idx ON ${s}.epochs (program, start_ms, epoch_id)`,
    ],
  },
  {
    // Issue 15: what was bound and published is append-only, and a binding names stored documents.
    // The triggers hold whoever connects (also one role doing everything, the micronode-to-fleet
    // path); the separate runtime role (`migrationUrl`) is further held by its privileges. A
    // binding's documents cannot be deleted (RESTRICT): PostgreSQL has no retention budget and
    // evicts nothing; the memory store's eviction is in the process, not here. Keys never change.
    // The keys are added NOT VALID, then validated unless bindings already name missing documents
    // (only a hand-edited database has them): those stay as they are, new bindings are checked,
    // and the service warns at every start (`unvalidatedConstraints`) until someone resolves them.
    version: 3,
    statements: (s) => [
      `CREATE FUNCTION ${s}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
        BEGIN
          RAISE EXCEPTION 'svc-rewarder: % on %.% refused: bindings, published parts and sealed documents never change', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation',
                  HINT = 'see RUNBOOK "PostgreSQL roles and append-only tables"';
        END $fn$`,
      `CREATE TRIGGER epochs_append_only BEFORE UPDATE OR DELETE ON ${s}.epochs FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`,
      `CREATE TRIGGER epochs_no_truncate BEFORE TRUNCATE ON ${s}.epochs FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change()`,
      // Settlement moves a part's state, attempts and lease; what it pays and to whom never changes.
      `CREATE TRIGGER outbox_append_only BEFORE UPDATE OF part_id, epoch_id, epoch_seq, run_key, idx, count, body OR DELETE
        ON ${s}.outbox FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`,
      `CREATE TRIGGER outbox_no_truncate BEFORE TRUNCATE ON ${s}.outbox FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change()`,
      // A sealed document is its bytes (content-addressed): only a pre-tenancy document's window
      // and pool are ever filled in. Unbound documents may still be deleted (the keys keep bound ones).
      `CREATE TRIGGER inputs_sealed BEFORE UPDATE OF cid, bytes, actors, events ON ${s}.inputs FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`,
      `CREATE TRIGGER policies_sealed BEFORE UPDATE OF hash, id, bytes ON ${s}.policies FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`,
      `ALTER TABLE ${s}.epochs ADD CONSTRAINT epochs_inputs_fk FOREIGN KEY (inputs_cid) REFERENCES ${s}.inputs (cid)
        ON UPDATE RESTRICT ON DELETE RESTRICT NOT VALID`,
      `ALTER TABLE ${s}.epochs ADD CONSTRAINT epochs_policy_fk FOREIGN KEY (policy_hash) REFERENCES ${s}.policies (hash)
        ON UPDATE RESTRICT ON DELETE RESTRICT NOT VALID`,
      `DO $$ BEGIN
        IF NOT EXISTS (SELECT 1 FROM ${s}.epochs e WHERE NOT EXISTS (SELECT 1 FROM ${s}.inputs i WHERE i.cid = e.inputs_cid)) THEN
          ALTER TABLE ${s}.epochs VALIDATE CONSTRAINT epochs_inputs_fk;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM ${s}.epochs e WHERE NOT EXISTS (SELECT 1 FROM ${s}.policies p WHERE p.hash = e.policy_hash)) THEN
          ALTER TABLE ${s}.epochs VALIDATE CONSTRAINT epochs_policy_fk;
        END IF;
      END $$`,
    ],
  },
  {
    // SPEC §13, holds and corrections, keeping bindings and published parts append-only (3):
    // - parts gain their epoch's hold and a `claimed` mark, set by the row update that leases a
    //   part and never cleared (a claimed part may have been sent, so it is never cancelled); rows
    //   from before count as claimed. `state` gains on_hold, awaiting_basis and cancelled;
    // - a binding records, when inserted, its hold, the epoch it supersedes and its chain (the
    //   first epoch of the supersession chain; null for an epoch that supersedes nothing);
    // - who superseded an epoch, and a superseding epoch's fixed basis (its correction document,
    //   or none when it settled plainly), are rows of their own, inserted once and never changed;
    // - the window rule lets the epochs of one chain share the window (a supersession re-pays it
    //   by design): overlapping windows in a program must belong to the same chain. Only the
    //   chain's latest epoch can be superseded (one successor per epoch, the supersessions key).
    version: 4,
    statements: (s) => [
      `ALTER TABLE ${s}.outbox DROP CONSTRAINT outbox_state_check`,
      `ALTER TABLE ${s}.outbox ADD CONSTRAINT outbox_state_check CHECK (state IN
        ('pending', 'held', 'on_hold', 'awaiting_basis', 'accepted', 'dup', 'conflict', 'failed', 'cancelled'))`,
      `ALTER TABLE ${s}.outbox ADD COLUMN hold_until bigint NOT NULL DEFAULT 0, ADD COLUMN claimed boolean NOT NULL DEFAULT true`,
      `ALTER TABLE ${s}.outbox ALTER COLUMN claimed SET DEFAULT false`,
      `DROP INDEX ${s}.outbox_claim_idx`,
      `CREATE INDEX outbox_claim_idx ON ${s}.outbox (epoch_seq, idx) WHERE state IN ('pending', 'held', 'on_hold')`,
      `ALTER TABLE ${s}.epochs ADD COLUMN hold_until bigint NOT NULL DEFAULT 0,
        ADD COLUMN supersedes text REFERENCES ${s}.epochs (epoch_id), ADD COLUMN chain text`,
      `CREATE INDEX epochs_superseding_idx ON ${s}.epochs (published_seq) WHERE supersedes IS NOT NULL`,
      `CREATE TABLE ${s}.supersessions (
        epoch_id text PRIMARY KEY REFERENCES ${s}.epochs (epoch_id),
        superseded_by text NOT NULL UNIQUE REFERENCES ${s}.epochs (epoch_id),
        created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TABLE ${s}.corrections (
        epoch_id text PRIMARY KEY REFERENCES ${s}.epochs (epoch_id),
        document bytea,
        attestation bytea,
        created_at timestamptz NOT NULL DEFAULT now())`,
      `CREATE TRIGGER supersessions_append_only BEFORE UPDATE OR DELETE ON ${s}.supersessions FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`,
      `CREATE TRIGGER supersessions_no_truncate BEFORE TRUNCATE ON ${s}.supersessions FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change()`,
      `CREATE TRIGGER corrections_append_only BEFORE UPDATE OR DELETE ON ${s}.corrections FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`,
      `CREATE TRIGGER corrections_no_truncate BEFORE TRUNCATE ON ${s}.corrections FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change()`,
      `ALTER TABLE ${s}.epochs DROP CONSTRAINT epochs_window_once`,
      `ALTER TABLE ${s}.epochs ADD CONSTRAINT epochs_window_once EXCLUDE USING gist
        (program WITH =, int8range(start_ms, end_ms) WITH &&, (coalesce(chain, epoch_id)) WITH <>) WHERE (NOT window_legacy)`,
      // A binding as the service reads it: with who superseded it and its fixed basis, if any.
      `CREATE VIEW ${s}.epochs_v AS
        SELECT e.*, x.superseded_by, (c.epoch_id IS NOT NULL) AS basis_fixed, c.document AS correction, c.attestation AS correction_attestation
        FROM ${s}.epochs e
        LEFT JOIN ${s}.supersessions x ON x.epoch_id = e.epoch_id
        LEFT JOIN ${s}.corrections c ON c.epoch_id = e.epoch_id`,
    ],
  },
];

/** The latest migration: what a schema must be at for this release to serve it. */
export const SCHEMA_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);

/** The schema's recorded version, 0 when it has none; needs no privilege beyond reading it. */
export async function schemaVersion(sql: postgres.Sql, schema: string): Promise<number> {
  const [present] = await sql<{ t: string | null }[]>`SELECT to_regclass(${`"${schema}".schema_migrations`})::text AS t`;
  if (present?.t === null || present === undefined) return 0;
  const [row] = await sql<{ v: number }[]>`SELECT coalesce(max(version), 0)::int AS v FROM ${sql(`${schema}.schema_migrations`)}`;
  return row?.v ?? 0;
}

export async function unvalidatedConstraints(sql: postgres.Sql, schema: string): Promise<string[]> {
  const rows = await sql<{ name: string }[]>`
    SELECT conname AS name FROM pg_constraint WHERE conrelid = to_regclass(${`"${schema}".epochs`}) AND NOT convalidated ORDER BY conname`;
  return rows.map((r) => r.name);
}

/**
 * Idempotent, and safe when several replicas start at once: the advisory lock (per schema)
 * serialises them, the first one migrates and the others find the version already recorded.
 * A schema already at `upTo` is left untouched without any DDL, so a role holding only the
 * runtime grants opens a schema someone else migrated.
 */
export async function migrateSchema(sql: postgres.Sql, schema: string, legacyOwner: string, upTo: number): Promise<void> {
  const s = `"${schema}"`;
  try {
    if ((await schemaVersion(sql, schema)) >= upTo) return;
    await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(hashtext(${'svc-rewarder.migrate.' + schema}))`;
      await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS ${s}`);
      await tx.unsafe(`CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
        version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      const [row] = await tx<{ v: number }[]>`SELECT coalesce(max(version), 0)::int AS v FROM ${tx(`${schema}.schema_migrations`)}`;
      // A newer replica may already have migrated further; its changes are additive by rule.
      const current = row?.v ?? 0;
      for (const m of MIGRATIONS) {
        if (m.version <= current || m.version > upTo) continue;
        for (const stmt of m.statements(s, legacyOwner)) await tx.unsafe(stmt);
        await tx`INSERT INTO ${tx(`${schema}.schema_migrations`)} (version) VALUES (${m.version})`;
      }
    });
  } catch (err) {
    // A role without the rights to migrate (42501): the same error, with what to do about it.
    if ((err as { code?: unknown } | null)?.code !== '42501') throw err;
    const role = await roleOf(sql).catch(() => '?');
    throw Object.assign(
      new Error(`role "${role}" may not migrate schema "${schema}" (${(err as Error).message}): set DATABASE_MIGRATION_URL to a role that owns it (RUNBOOK, "PostgreSQL roles and append-only tables")`),
      { cause: err },
    );
  }
}

/**
 * Migrates over a connection as the migration role (`mig`), then grants the runtime role (whoever
 * `runtime` connects as) exactly its DML.
 */
export async function migrateAs(mig: postgres.Sql, runtime: postgres.Sql, schema: string, legacyOwner: string, upTo: number): Promise<void> {
  const role = await roleOf(runtime);
  await checkSplit(mig, schema, role);
  await migrateSchema(mig, schema, legacyOwner, upTo);
  await grantRuntime(mig, schema, role);
}
