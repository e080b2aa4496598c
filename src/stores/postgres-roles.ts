// Two PostgreSQL roles (issue 15): a migration role that owns the schema and runs its DDL, and the
// runtime role the service's pool connects as, which gets only the DML the stores run. A runtime
// role taken over (or a bug) can then neither rewrite nor delete a binding, a manifest or a
// published part, nor change the schema; the append-only triggers add the same refusal for a
// single role. Nothing here runs unless `DATABASE_MIGRATION_URL` is set.

import type postgres from 'postgres';

/**
 * What the runtime role may do, table by table: SELECT and INSERT everywhere it writes, UPDATE only
 * on the columns the service moves (an upload filling in a legacy document's window and pool; a
 * part's settlement state, attempts and lease). No DELETE, TRUNCATE, REFERENCES or TRIGGER.
 */
export const RUNTIME_GRANTS: readonly { table: string; privileges: string; updatable?: readonly string[] }[] = [
  { table: 'schema_migrations', privileges: 'SELECT' },
  { table: 'doc_owners', privileges: 'SELECT, INSERT' },
  { table: 'inputs', privileges: 'SELECT, INSERT', updatable: ['start_ms', 'end_ms', 'pool_minor'] },
  { table: 'policies', privileges: 'SELECT, INSERT' },
  { table: 'epochs', privileges: 'SELECT, INSERT' },
  { table: 'epochs_v', privileges: 'SELECT' },
  { table: 'supersessions', privileges: 'SELECT, INSERT' },
  { table: 'corrections', privileges: 'SELECT, INSERT' },
  { table: 'outbox', privileges: 'SELECT, INSERT', updatable: ['state', 'attempts', 'last_error', 'lease_owner', 'lease_until', 'claimed'] },
];

/** Thrown when the two roles cannot be kept apart; the message says what to change. */
export class RoleSetupError extends Error {}

/** The role a pool's connections act as. */
export async function roleOf(sql: postgres.Sql): Promise<string> {
  const [r] = await sql<{ role: string }[]>`SELECT current_user AS role`;
  if (r === undefined) throw new Error('current_user returned no row');
  return r.role;
}

/**
 * Refuses a split that would not bind the runtime role: the same role on both URLs, a superuser
 * (privileges and ownership do not bind one), or a runtime role that is a member of the migration
 * role or of the owner of anything in the schema (it would act as the owner: ALTER, DISABLE
 * TRIGGER, DROP). Runs over the migration role's connection, before any migration.
 */
export async function checkSplit(mig: postgres.Sql, schema: string, runtime: string): Promise<void> {
  const [r] = await mig<{ me: string; superuser: boolean | null; member: boolean }[]>`
    SELECT current_user AS me,
      (SELECT rolsuper FROM pg_roles WHERE rolname = ${runtime}) AS superuser,
      pg_has_role(${runtime}, current_user, 'MEMBER') AS member`;
  if (r === undefined) throw new Error('role check returned no row');
  if (r.me === runtime) {
    throw new RoleSetupError(`DATABASE_URL and DATABASE_MIGRATION_URL both connect as role "${runtime}": use two roles, or leave DATABASE_MIGRATION_URL unset`);
  }
  if (r.superuser === true) throw new RoleSetupError(`the runtime role "${runtime}" (DATABASE_URL) is a superuser: privileges do not bind it; connect as an ordinary role`);
  if (r.member) throw new RoleSetupError(`the runtime role "${runtime}" (DATABASE_URL) is a member of the migration role "${r.me}": it would act as the schema's owner`);
  const owned = await mig<{ name: string }[]>`
    SELECT n.nspname AS name FROM pg_namespace n WHERE n.nspname = ${schema} AND pg_has_role(${runtime}, n.nspowner, 'MEMBER')
    UNION ALL
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND pg_has_role(${runtime}, c.relowner, 'MEMBER')
    UNION ALL
    SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ${schema} AND pg_has_role(${runtime}, p.proowner, 'MEMBER')`;
  if (owned.length > 0) {
    const names = owned.slice(0, 5).map((o) => o.name).join(', ');
    throw new RoleSetupError(
      `the runtime role "${runtime}" (DATABASE_URL) owns ${owned.length} object(s) of schema "${schema}" (${names}): ` +
        `hand them to the migration role "${r.me}" first (RUNBOOK, "Moving to a separate migration role")`,
    );
  }
}

/**
 * Resets the runtime role's privileges on the schema to exactly RUNTIME_GRANTS. Idempotent; runs
 * at every start over the migration connection, under the migration lock, so a privilege granted
 * by hand is taken back and a table added by a later migration gets its grant here.
 */
export async function grantRuntime(mig: postgres.Sql, schema: string, runtime: string): Promise<void> {
  const role = ident(runtime);
  const s = ident(schema);
  await mig.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(hashtext(${'svc-rewarder.migrate.' + schema}))`;
    // Revoking at table level also revokes every column privilege of the table.
    await tx.unsafe(`REVOKE ALL ON ALL TABLES IN SCHEMA ${s} FROM ${role}`);
    await tx.unsafe(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA ${s} FROM ${role}`);
    await tx.unsafe(`REVOKE ALL ON SCHEMA ${s} FROM ${role}`);
    await tx.unsafe(`GRANT USAGE ON SCHEMA ${s} TO ${role}`);
    for (const g of RUNTIME_GRANTS) {
      const table = `${s}.${ident(g.table)}`;
      await tx.unsafe(`GRANT ${g.privileges} ON ${table} TO ${role}`);
      if (g.updatable !== undefined) await tx.unsafe(`GRANT UPDATE (${g.updatable.map(ident).join(', ')}) ON ${table} TO ${role}`);
    }
  });
}

/** A quoted SQL identifier: role names come from the server and may hold any character. */
function ident(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
