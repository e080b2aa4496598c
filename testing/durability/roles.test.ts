// Issue 15 on a running macronode: the service started with a runtime role (DATABASE_URL) apart
// from the migration role (DATABASE_MIGRATION_URL) migrates the schema as the migration role,
// serves seal and compute as the runtime role, and leaves that role unable to rewrite what it
// bound. A replica given only the runtime role starts on the migrated schema; a split that would
// not bind the runtime role refuses to start. `rewarder migrate` does the migration role's part as a
// deployment step, so no serving process holds its credentials. Real login roles, dropped afterwards.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, EXAMPLE, type SpawnedServer, bearer, get, post, put, runServeToExit, spawnServer, tempDir, writeTokensFile } from '../harness.js';
import { createLoginRole } from '../pg-roles.js';
import { DATABASE_URL, freshSchema } from './cluster.js';

const SCOPES = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect'];
const execFileP = promisify(execFile);

/**
 * A fresh schema, a migration role that may create it and a runtime role, a temp dir and a token;
 * the servers the test pushes are stopped first, then the roles dropped (once nothing connects as them).
 */
async function splitRoles(t: TestContext) {
  const schema = freshSchema(t);
  const migrator = await createLoginRole(DATABASE_URL, 'migrator', { canCreate: true });
  const runtime = await createLoginRole(DATABASE_URL, 'runtime');
  const servers: SpawnedServer[] = [];
  t.after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await runtime.drop();
    await migrator.drop();
  });
  const tmp = tempDir();
  t.after(tmp.remove);
  return { schema, migrator, runtime, servers, tmp, token: randomBytes(24).toString('base64url') };
}

test('a macronode with a separate migration role serves as a runtime role that cannot rewrite its bindings', { timeout: 120_000 }, async (t) => {
  const { schema, migrator, runtime, servers, tmp, token } = await splitRoles(t);
  const env = {
    PROFILE: 'macronode',
    DATABASE_URL: runtime.url,
    DATABASE_MIGRATION_URL: migrator.url,
    DATABASE_SCHEMA: schema.name,
    AUTH: 'on',
    TOKENS_FILE: writeTokensFile(tmp.dir, [{ tenant: 'acme', scopes: SCOPES, token }]),
    CONCURRENCY_COMPUTE_WORKERS: '1',
  };
  const H = bearer(token);

  const a = await spawnServer(env);
  servers.push(a);
  assert.equal((await put(a.url, '/inputs', readFileSync(EXAMPLE.inputs), H)).status, 201);
  assert.equal((await put(a.url, '/policies', readFileSync(EXAMPLE.policy), H)).status, 201);
  const triple = { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash };
  const run = await post(a.url, '/epochs/2026-01-01/compute', triple, H, 60_000);
  assert.equal(run.status, 200, run.text);
  assert.ok((await get(a.url, '/epochs/2026-01-01', H)).body.equals(readFileSync(EXAMPLE.manifest)));

  // The migration role owns every table; the runtime role holds only its DML.
  const owners = await schema.sql<{ owner: string }[]>`SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = ${schema.name}`;
  assert.deepEqual(owners.map((o) => o.owner), [migrator.name]);
  const epochs = runtime.sql(`${schema.name}.epochs`);
  for (const [what, query] of [
    ['UPDATE', runtime.sql`UPDATE ${epochs} SET commitment = 'b3:forged'`],
    ['DELETE', runtime.sql`DELETE FROM ${epochs}`],
    ['ALTER', runtime.sql`ALTER TABLE ${epochs} DISABLE TRIGGER ALL`],
  ] as const) {
    await assert.rejects(query, (e: { code?: string }) => e.code === '42501', what);
  }
  const [bound] = await schema.sql<{ commitment: string; tenant: string }[]>`SELECT commitment, tenant FROM ${schema.sql(`${schema.name}.epochs`)}`;
  assert.deepEqual(bound, { commitment: EXAMPLE.commitment, tenant: 'acme' });

  // A replica with only the runtime role opens the migrated schema and serves what was bound.
  const b = await spawnServer({ ...env, DATABASE_MIGRATION_URL: undefined });
  servers.push(b);
  assert.ok((await get(b.url, '/epochs/2026-01-01', H)).body.equals(readFileSync(EXAMPLE.manifest)));

  // One role on both URLs is no split: refused at start, naming the fix.
  const same = await runServeToExit({ ...env, DATABASE_URL: migrator.url });
  assert.notEqual(same.code, 0);
  assert.match(same.stderr, /cannot start: DATABASE_URL and DATABASE_MIGRATION_URL both connect as role/);
});

test('rewarder migrate as a deployment step: replicas then run with only the runtime role', { timeout: 120_000 }, async (t) => {
  const { schema, migrator, runtime, servers, tmp, token } = await splitRoles(t);
  const db = { DATABASE_URL: runtime.url, DATABASE_SCHEMA: schema.name };
  const migrate = (env: Record<string, string>) =>
    execFileP(process.execPath, [BIN, 'migrate'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, timeout: 30_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code?: number; stdout: string; stderr: string }) => ({ code: e.code ?? -1, stdout: e.stdout, stderr: e.stderr }),
    );

  // Without the migration role the runtime role cannot create the schema, and says what to set.
  const alone = await migrate(db);
  assert.equal(alone.code, 1);
  assert.match(alone.stderr, new RegExp(`^rewarder: cannot migrate: role "${runtime.name}" may not migrate schema "${schema.name}" .*set DATABASE_MIGRATION_URL`));

  const done = await migrate({ ...db, DATABASE_MIGRATION_URL: migrator.url });
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, `schema "${schema.name}" is at version 4 (as DATABASE_MIGRATION_URL's role; DATABASE_URL's role holds only its DML)\n`);

  const a = await spawnServer({
    PROFILE: 'macronode',
    ...db,
    AUTH: 'on',
    TOKENS_FILE: writeTokensFile(tmp.dir, [{ tenant: 'acme', scopes: SCOPES, token }]),
    CONCURRENCY_COMPUTE_WORKERS: '1',
  });
  servers.push(a);
  const H = bearer(token);
  assert.equal((await put(a.url, '/inputs', readFileSync(EXAMPLE.inputs), H)).status, 201);
  assert.equal((await put(a.url, '/policies', readFileSync(EXAMPLE.policy), H)).status, 201);
  const run = await post(a.url, '/epochs/2026-01-01/compute', { inputs_cid: EXAMPLE.inputsCid, policy_id: EXAMPLE.policyId, policy_hash: EXAMPLE.policyHash }, H, 60_000);
  assert.equal(run.status, 200, run.text);
  await assert.rejects(runtime.sql`DELETE FROM ${runtime.sql(`${schema.name}.epochs`)}`, (e: { code?: string }) => e.code === '42501');
});
