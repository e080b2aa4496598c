// Real PostgreSQL login roles for tests of the migration/runtime split (issue 15). Roles are global
// to the cluster: each gets a random name and a random password (so the tests work under
// password authentication as well as trust), and drop() removes it with every privilege it holds
// and anything it still owns in that database. Creating roles needs a role with CREATEROLE (the
// superuser `postgres` of the test database).

import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface LoginRole {
  name: string;
  /** The admin URL with this role's name and password. */
  url: string;
  /** A small pool connected as this role, for probing what it may do. */
  sql: postgres.Sql;
  /** Closes the pool, drops what the role owns and its privileges, then the role. Idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates a LOGIN role (no superuser, no CREATEROLE, no CREATEDB). `canCreate`: it may also create
 * schemas in the database, as a migration role must.
 */
export async function createLoginRole(adminUrl: string, label: string, opts: { canCreate?: boolean } = {}): Promise<LoginRole> {
  const name = `t_${label}_${randomBytes(5).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {}, fetch_types: false, connect_timeout: 5 });
  try {
    await admin.unsafe(`CREATE ROLE "${name}" LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB PASSWORD '${password}'`);
    if (opts.canCreate === true) {
      const [db] = await admin<{ db: string }[]>`SELECT current_database() AS db`;
      await admin.unsafe(`GRANT CREATE ON DATABASE "${db?.db ?? ''}" TO "${name}"`);
    }
  } finally {
    await admin.end({ timeout: 0 });
  }
  const u = new URL(adminUrl);
  u.username = name;
  u.password = password;
  const url = u.toString();
  const sql = postgres(url, { max: 1, onnotice: () => {}, fetch_types: false, connect_timeout: 5 });
  let dropped: Promise<void> | undefined;
  const drop = (): Promise<void> =>
    (dropped ??= (async () => {
      await sql.end({ timeout: 0 });
      const a = postgres(adminUrl, { max: 1, onnotice: () => {}, fetch_types: false, connect_timeout: 5 });
      try {
        // Its sessions (a service still starting, a pool not yet closed) would block DROP ROLE.
        await a`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = ${name} AND pid <> pg_backend_pid()`;
        await a.unsafe(`DROP OWNED BY "${name}" CASCADE`);
        await a.unsafe(`DROP ROLE IF EXISTS "${name}"`);
      } finally {
        await a.end({ timeout: 0 });
      }
    })());
  return { name, url, sql, drop };
}
