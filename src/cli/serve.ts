// `rewarder serve [--dev] [--demo]`: the service. --dev defaults AUTH=off (development mode);
// --demo seals and computes the shipped SPEC §9 example through the running server, prints the
// summary, and keeps serving.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { type Amnesia, AmnesiaError, defaultAmnesiaDir, enterAmnesia } from '../amnesia.js';
import { ConfigError, loadConfig } from '../config.js';
import { buildRuntime } from '../runtime.js';
import { handleSignals, listen } from '../server.js';
import { CliError, args } from './io.js';

export async function serveCmd(argv: string[]): Promise<number> {
  const { values } = args(argv, { dev: { type: 'boolean' }, demo: { type: 'boolean' } }, 0);
  const given = values.dev ? { AUTH: 'off', ...process.env } : process.env;
  // The default amnesia directory is fixed here, once, so a SIGHUP re-read sees the same value.
  const env = given.AMNESIA_DIR ? given : { ...given, AMNESIA_DIR: defaultAmnesiaDir() };
  let config;
  try {
    config = loadConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
  let amnesia: Amnesia | undefined;
  if (config.PROFILE === 'micronode' && config.AMNESIA_DIR !== undefined) {
    try {
      amnesia = enterAmnesia(config.AMNESIA_DIR);
    } catch (e) {
      if (e instanceof AmnesiaError) throw new CliError(`cannot start: ${e.message}`);
      throw e;
    }
  }
  let rt;
  let stores;
  try {
    // The PostgreSQL client is loaded only when used: ~40 ms of a micronode's cold start.
    stores =
      config.DATABASE_URL === undefined
        ? undefined
        : await (await import('../stores/postgres.js')).openPostgresStores(config.DATABASE_URL, {
            schema: config.DATABASE_SCHEMA,
            legacyOwner: config.TENANCY_LEGACY_OWNER,
            ...(config.DATABASE_MIGRATION_URL === undefined ? {} : { migrationUrl: config.DATABASE_MIGRATION_URL }),
          });
    rt = buildRuntime(config, stores === undefined ? {} : { stores });
  } catch (e) {
    throw new CliError(`cannot start: ${(e as Error).message.split('\n')[0]}`);
  }
  if (amnesia !== undefined) {
    rt.logger.info({ amnesia_dir: amnesia.dir }, 'micronode amnesia: every file this process writes is under this tmpfs directory, removed on exit');
    const audit = config.AUDIT_MODE === 'local' && config.AUDIT_DIR !== undefined ? relative(amnesia.dir, config.AUDIT_DIR) : '';
    if (audit.startsWith('..')) rt.logger.warn({ audit_dir: config.AUDIT_DIR }, 'AUDIT_DIR is outside AMNESIA_DIR: the audit log outlives this process');
  }
  if (stores !== undefined && stores.unvalidatedConstraints.length > 0) {
    rt.logger.warn(
      { constraints: stores.unvalidatedConstraints },
      'PostgreSQL: bindings name documents the database does not hold, so these foreign keys check new bindings only (RUNBOOK, "Unvalidated foreign keys")',
    );
  }
  if (config.AUTH === 'off') rt.logger.warn('AUTH=off: development mode, every request is accepted without a token');
  if (rt.stores.kind === 'memory') {
    rt.logger.warn(
      config.LEDGER_URL === undefined
        ? 'memory stores: sealed documents and runs are lost on exit (micronode amnesia)'
        : 'memory stores: runs and HELD LEDGER INTENTS are lost if this process dies (micronode amnesia); use DATABASE_URL for durable settlement',
    );
  }
  await rt.pool.start();
  try {
    await rt.signingReady();
  } catch (e) {
    await rt.close();
    throw new CliError(`cannot start: ${(e as Error).message.split('\n')[0]}`);
  }
  rt.settlement?.start();
  let l;
  try {
    l = await listen(rt, config);
  } catch (e) {
    await rt.close();
    throw new CliError((e as Error).message);
  }
  handleSignals(rt, l, env);
  rt.logger.info({ url: l.url, profile: config.PROFILE, workers: config.COMPUTE_WORKERS }, 'listening');
  if (values.demo) await demo(l.url, config.AUTH === 'off');
  return new Promise<number>(() => {}); // serve until a signal ends the process
}

async function demo(url: string, open: boolean): Promise<void> {
  if (!open) {
    process.stdout.write('demo skipped: it needs AUTH=off (run with --dev)\n');
    return;
  }
  // Through the typed client (svc-rewarder/client), so every demo run exercises the document.
  const { createRewarderClient, sealInputs, sealPolicy } = await import('../client/index.js');
  const rw = createRewarderClient(url);
  const dir = new URL('../../../vectors/example/', import.meta.url);
  const must = <T>(what: string, r: { data?: T; error?: unknown; response: Response }): T => {
    if (r.data === undefined) throw new Error(`demo: ${what} answered ${r.response.status}: ${JSON.stringify(r.error)}`);
    return r.data;
  };
  const inputs = must('PUT /inputs', await sealInputs(rw, readFileSync(new URL('inputs.json', dir))));
  const policy = must('PUT /policies', await sealPolicy(rw, readFileSync(new URL('policy.json', dir))));
  const epoch = { params: { path: { epoch_id: '2026-01-01' } } };
  const computed = await rw.POST('/epochs/{epoch_id}/compute', {
    ...epoch,
    body: { inputs_cid: inputs.inputs_cid, policy_id: policy.policy_id, policy_hash: policy.policy_hash },
  });
  const run = must('POST /epochs/2026-01-01/compute', computed);
  const res = computed.response;
  const manifest = must('GET /epochs/2026-01-01', await rw.GET('/epochs/{epoch_id}', { ...epoch, parseAs: 'text' }));
  const bob = must('GET /epochs/2026-01-01/payouts/did:ron:bob', await rw.GET('/epochs/{epoch_id}/payouts/{actor}', { params: { path: { epoch_id: '2026-01-01', actor: 'did:ron:bob' } } }));
  process.stdout.write(
    [
      `demo against ${url}`,
      `  PUT /inputs          ${inputs.inputs_cid}`,
      `  PUT /policies        ${policy.policy_hash} (${policy.policy_id})`,
      `  POST /epochs/2026-01-01/compute  ${res.status}: ${run.counts.payees} payees, payout ${run.totals.payout_minor} of ${run.totals.pool_minor}`,
      `  commitment           ${run.commitment}`,
      `  GET /epochs/2026-01-01           ${manifest.length} bytes (the SPEC §9 manifest)`,
      `  GET .../payouts/did:ron:bob      amount ${bob.amount_minor}, proof of ${bob.audit_path.length} hashes`,
      'serving; Ctrl-C to stop',
      '',
    ].join('\n'),
  );
}
