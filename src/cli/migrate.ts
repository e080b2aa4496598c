// `rewarder migrate`: brings DATABASE_URL's schema to this release's version and exits, for a
// deployment step that runs before the replicas start. With DATABASE_MIGRATION_URL it migrates as
// that role and grants DATABASE_URL's role its DML (issue 15): the replicas then need only
// DATABASE_URL, and the migration role's credentials never live in a serving process.

import { ConfigError, loadDatabaseConfig } from '../config.js';
import { CliError, args } from './io.js';

export async function migrateCmd(argv: string[]): Promise<number> {
  args(argv, {}, 0);
  let config;
  try {
    config = loadDatabaseConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
  if (config.DATABASE_URL === undefined) throw new CliError('DATABASE_URL is required: the database, as the runtime role (DATABASE_MIGRATION_URL: as the migration role)');
  const { openPostgresStores } = await import('../stores/postgres.js');
  let stores;
  try {
    stores = await openPostgresStores(config.DATABASE_URL, {
      schema: config.DATABASE_SCHEMA,
      legacyOwner: config.TENANCY_LEGACY_OWNER,
      max: 1,
      ...(config.DATABASE_MIGRATION_URL === undefined ? {} : { migrationUrl: config.DATABASE_MIGRATION_URL }),
    });
  } catch (e) {
    throw new CliError(`cannot migrate: ${(e as Error).message.split('\n')[0]}`, 1);
  }
  try {
    const how = config.DATABASE_MIGRATION_URL === undefined ? "as DATABASE_URL's role" : "as DATABASE_MIGRATION_URL's role; DATABASE_URL's role holds only its DML";
    process.stdout.write(`schema "${config.DATABASE_SCHEMA}" is at version ${stores.schemaVersion} (${how})\n`);
    if (stores.unvalidatedConstraints.length > 0) {
      process.stderr.write(`rewarder: warning: unvalidated foreign keys ${stores.unvalidatedConstraints.join(', ')}: bindings name documents the database does not hold (RUNBOOK, "Unvalidated foreign keys")\n`);
    }
  } finally {
    await stores.close();
  }
  return 0;
}
