// The configuration's refusals that protect an operator from an unsafe start.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, isLoopback, loadConfig, loadDatabaseConfig } from './config.js';

test('AUTH=off is refused off loopback or on a macronode, with one line naming the fix', () => {
  for (const env of [
    { AUTH: 'off', HOST: '0.0.0.0' },
    { AUTH: 'off', HOST: '::' },
    { AUTH: 'off', HOST: '10.0.0.5' },
    { AUTH: 'off', HOST: 'rewarder.internal' },
    { AUTH: 'off', PROFILE: 'macronode' },
    { AUTH: 'off', HOST: '127.0.0.1', PROFILE: 'macronode', DATABASE_URL: 'postgres://db/x' },
  ]) {
    assert.throws(
      () => loadConfig(env),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError);
        assert.match(e.message, /^invalid configuration: AUTH: AUTH=off \(development mode\) needs HOST on loopback .* and PROFILE=micronode.*set AUTH=on with TOKENS_FILE$/);
        assert.ok(!e.message.includes('\n'), 'one line');
        return true;
      },
      JSON.stringify(env),
    );
  }
});

test('AUTH=off is allowed for a micronode on loopback', () => {
  for (const HOST of [undefined, '127.0.0.1', '127.0.0.2', '::1', 'localhost']) {
    assert.equal(loadConfig({ AUTH: 'off', ...(HOST === undefined ? {} : { HOST }) }).AUTH, 'off');
  }
  // AUTH=on is unaffected by the host.
  assert.equal(loadConfig({ HOST: '0.0.0.0', PROFILE: 'macronode', TOKENS_FILE: '/run/secrets/tokens.json' }).HOST, '0.0.0.0');
});

test('isLoopback accepts only loopback literals and localhost', () => {
  assert.deepEqual(
    ['127.0.0.1', '127.255.0.9', '::1', '[::1]', 'localhost', '0.0.0.0', '127.0.0.256', '127.0.0.1.nip.io', '::', '::ffff:127.0.0.1', ''].map(isLoopback),
    [true, true, true, true, true, false, false, false, false, false, false],
  );
});

test('a body budget smaller than the largest body a route accepts is refused at start', () => {
  assert.throws(
    () => loadConfig({ AUTH: 'off', BODY_BYTES_BUDGET: String(32 * 1024 * 1024) }),
    (e: unknown) => e instanceof ConfigError && /^invalid configuration: BODY_BYTES_BUDGET: must be at least the largest body a route accepts \(67108864 bytes/.test(e.message),
  );
  assert.equal(loadConfig({ AUTH: 'off', BODY_BYTES_BUDGET: String(64 * 1024 * 1024) }).BODY_BYTES_BUDGET, 64 * 1024 * 1024);
});

test('DATABASE_MIGRATION_URL is read beside DATABASE_URL and refused without it', () => {
  const base = { PROFILE: 'macronode', TOKENS_FILE: '/run/secrets/tokens.json' };
  const split = loadConfig({ ...base, DATABASE_URL: 'postgres://rewarder@db/x', DATABASE_MIGRATION_URL: 'postgres://rewarder_migrator@db/x' });
  assert.equal(split.DATABASE_MIGRATION_URL, 'postgres://rewarder_migrator@db/x');
  assert.equal(loadConfig({ ...base, DATABASE_URL: 'postgres://rewarder@db/x' }).DATABASE_MIGRATION_URL, undefined);
  assert.throws(
    () => loadConfig({ ...base, DATABASE_MIGRATION_URL: 'postgres://rewarder_migrator@db/x' }),
    (e: unknown) => e instanceof ConfigError && e.message === 'invalid configuration: DATABASE_MIGRATION_URL: needs DATABASE_URL (the runtime role it migrates for)',
  );
  assert.throws(
    () => loadConfig({ ...base, DATABASE_URL: 'postgres://rewarder@db/x', DATABASE_MIGRATION_URL: 'mysql://db/x' }),
    (e: unknown) => e instanceof ConfigError && /^invalid configuration: DATABASE_MIGRATION_URL: expected a postgres:\/\/ URL/.test(e.message),
  );
  // `rewarder migrate` reads only these: no tokens file needed, the same refusals.
  const db = loadDatabaseConfig({ DATABASE_URL: 'postgres://rewarder@db/x', DATABASE_MIGRATION_URL: 'postgres://m@db/x', DATABASE_SCHEMA: 'pay' });
  assert.deepEqual([db.DATABASE_URL, db.DATABASE_MIGRATION_URL, db.DATABASE_SCHEMA, db.TENANCY_LEGACY_OWNER], ['postgres://rewarder@db/x', 'postgres://m@db/x', 'pay', 'legacy']);
  assert.throws(() => loadDatabaseConfig({ DATABASE_MIGRATION_URL: 'postgres://m@db/x' }), /^Error: invalid configuration: DATABASE_MIGRATION_URL: needs DATABASE_URL/);
});
