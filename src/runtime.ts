// The composition root: builds every part of the service from a Config. The server (and tests
// that want the whole service in-process) call this; nothing below it reads the environment.

import { randomBytes, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { type Config, RELOADABLE } from './config.js';
import { CALCULUS } from './core/calculus.js';
import { merkleBackend } from './core/merkle.js';
import { signingBackend } from './attest/attestation.js';
import { type PublicKeySet, generateKeySet, publicHalf } from './attest/keys.js';
import { type KeySource, Signer } from './attest/signer.js';
import { type AppSettings, createApp } from './http/app.js';
import { openAuditSink } from './http/audit.js';
import { TokenVerifier, parseTokensFile } from './http/auth.js';
import { ANONYMOUS } from './http/tenancy.js';
import { TenantRateLimiter } from './http/rate-limit.js';
import { BodyIntake } from './http/intake.js';
import { ComputeBodies } from './http/compute-body.js';
import { ReplayShortcut } from './http/replay-shortcut.js';
import { InputsCache } from './inputs-cache.js';
import { StoreWatch } from './store-watch.js';
import { ManifestSpill } from './stores/spill.js';
import { InputsSpool } from './stores/inputs-file.js';
import { ProofIndexes } from './proof-indexes.js';
import { LedgerClient } from './ledger/client.js';
import { EgressHealth } from './ledger/health.js';
import { Settlement } from './ledger/settlement.js';
import { createMetrics, statusClass } from './metrics.js';
import { type ProgramSettings, parseProgramsFile } from './programs.js';
import { ComputePool } from './pool.js';
import { EpochService } from './service/epochs.js';
import { PreviewBases } from './preview-bases.js';
import { Explanations } from './service/explanations.js';
import { MemoryStores } from './stores/memory.js';
import type { Stores } from './stores/types.js';

export interface RuntimeOptions {
  /** Compiled worker module (tests inject faults through it). */
  workerFile?: string;
  logger?: Logger;
  stores?: Stores;
}

export const VERSION = '0.1.0';

export function settingsOf(c: Config): AppSettings {
  return {
    maxInflight: c.MAX_INFLIGHT,
    reqBodyMaxBytes: c.REQ_BODY_MAX_BYTES,
    inputsMaxBytes: c.INPUTS_MAX_BYTES,
    inputsArrowMaxBytes: c.INPUTS_ARROW_MAX_BYTES,
    inputsSpoolMinBytes: c.INPUTS_SPOOL_MIN_BYTES,
    decompRatioMax: c.DECOMP_RATIO_MAX,
    defaultDeadlineMs: c.DEFAULT_DEADLINE_MS,
    maxDeadlineMs: c.MAX_DEADLINE_MS,
    intake: {
      maxBodies: c.BODY_INTAKE_MAX,
      maxBodiesPerClient: c.BODY_INTAKE_PER_CLIENT_MAX,
      budgetBytes: c.BODY_BYTES_BUDGET,
      minRateBytesPerSec: c.BODY_MIN_RATE_BYTES_S,
      graceMs: c.BODY_RATE_GRACE_MS,
    },
    docLimits: {
      inputs: { maxBytes: c.INPUTS_MAX_BYTES, maxActors: c.MAX_ACTORS, maxEvents: c.MAX_EVENTS, maxArrowBytes: c.INPUTS_ARROW_MAX_BYTES },
      policyMaxBytes: c.REQ_BODY_MAX_BYTES,
    },
    tenantStoreMaxBytes: c.TENANT_STORE_MAX_BYTES ?? null,
    shedHoldMs: c.SHED_HOLD_MS,
  };
}

export function buildRuntime(config: Config, opts: RuntimeOptions = {}) {
  const logger = opts.logger ?? pino({ level: config.LOG_LEVEL, base: { service: 'svc-rewarder' } });
  const state = { inflight: 0, leaving: false, shuttingDown: false };
  let settings = settingsOf(config);
  const pool = new ComputePool({
    threads: config.COMPUTE_WORKERS,
    queueMax: config.WORK_QUEUE_MAX,
    handover: config.COMPUTE_HANDOVER,
    anticipateMs: config.FAIR_ANTICIPATE_MS,
    ...(config.TENANT_QUEUE_MAX !== undefined ? { tenantQueueMax: config.TENANT_QUEUE_MAX } : {}),
    ...(opts.workerFile !== undefined ? { filename: opts.workerFile } : {}),
  });
  // A micronode spills evicted manifests to its amnesia tmpfs before they would need recomputing.
  const spill =
    config.PROFILE === 'micronode' && config.AMNESIA_DIR !== undefined && config.SPILL_MAX_BYTES > 0
      ? new ManifestSpill(join(config.AMNESIA_DIR, 'spill'), config.SPILL_MAX_BYTES)
      : null;
  const stores = opts.stores ?? new MemoryStores(config.MEMORY_STORE_MAX_BYTES, Date.now, spill);
  // A micronode's large Arrow uploads are received into files under its amnesia tmpfs, which the
  // memory store then keeps (a PostgreSQL store keeps every document in the database).
  const inputsSpool =
    config.PROFILE === 'micronode' && config.AMNESIA_DIR !== undefined && stores instanceof MemoryStores
      ? new InputsSpool(join(config.AMNESIA_DIR, 'inputs'))
      : null;
  // The cache, settlement and metrics refer to each other (counters, gauges); the closures run
  // only after all three exist.
  const cache: InputsCache = new InputsCache(config.INPUTS_CACHE_MAX_BYTES, (hit) => (hit ? metrics.cacheHits : metrics.cacheMisses).inc());
  const intake = new BodyIntake(() => settings.intake);
  const storeWatch = new StoreWatch(stores, config.READINESS_PING_MS);
  const proofs = new ProofIndexes(config.PROOF_INDEX_CACHE_MAX_BYTES);
  const explanations = new Explanations({ stores, pool, cache, limits: () => settings.docLimits, logger }, config.EXPLAIN_CACHE_MAX_BYTES);
  const previewBases = new PreviewBases(config.PREVIEW_CACHE_MAX_BYTES);
  storeWatch.start();
  const metrics = createMetrics({
    intake: () => intake.fill,
    proofIndexBytes: () => proofs.bytes,
    previewBasisBytes: () => previewBases.bytes,
    storeFill: () => (stores instanceof MemoryStores ? stores.fill() : null),
    spilledBytes: () => (stores instanceof MemoryStores ? stores.spilledBytes : 0),
    spooledBytes: () => inputsSpool?.bytes ?? 0,
    queueDepth: () => pool.saturation().queueDepth,
    inflight: () => state.inflight,
    cacheBytes: () => cache.bytes,
    heldIntents: () => stores.countParts(['held']),
    waitingParts: async () => ({ onHold: await stores.countParts(['on_hold']), awaitingBasis: (await stores.awaitingBasis()).length }),
    ledgerDegraded: () => settlement?.degraded ?? false,
    queueMax: () => pool.saturation().queueMax,
    tenants: () => (verifier === null ? [ANONYMOUS] : verifier.tenants()),
    tenantUsage: () => stores.tenantUsage(),
  });
  // prom-client's defaults export these gauges with a `_total` suffix, which `promtool check
  // metrics` rejects (only counters may end in _total); the per-type series without the suffix stay.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    metrics.registry.removeSingleMetric(name);
  }
  if (stores instanceof MemoryStores) {
    stores.onEvict = (kind) => metrics.storeEvictions.inc({ kind });
  }
  pool.onFailure = (kind) => metrics.workerFailures.inc({ kind });
  pool.onReject = (reason) => metrics.rejected.inc({ reason });
  const settlement = config.LEDGER_URL === undefined ? null : buildSettlement(config, stores, metrics, logger);
  const signing = signingSource(config, logger);
  const signer = signing === null ? null : new Signer(signing.source);
  // Public halves only, filled in place by signingReady() (ephemeral keys: known at once).
  const keys: PublicKeySet | null = signing === null ? null : signing.view;
  const signingKeyIds: string[] = keys === null ? [] : keys.signing.map((k) => k.keyId);
  const verifier = config.AUTH === 'off' ? null : new TokenVerifier(readTokens(config), randomBytes(32));
  let programs = readPrograms(config);
  const rateLimiter = new TenantRateLimiter(config.TENANT_RPS_MAX);
  const audit = openAuditSink(config.AUDIT_MODE, config.AUDIT_DIR, (e) => logger.error({ err: e }, 'audit write failed'));
  const epochs = new EpochService({
    stores,
    pool,
    cache,
    metrics,
    limits: () => settings.docLimits,
    queueWaitMaxMs: () => config.QUEUE_WAIT_MAX_MS,
    settlement,
    signer,
    logger,
    budget: (program) => programs.get(program)?.maxPoolMinor ?? null,
    holdMs: (program) => programs.get(program)?.holdMs ?? 0,
  });
  if (settlement !== null) settlement.beforeDrain = () => epochs.corrections.resolveAll();
  const version = {
    service: 'svc-rewarder',
    version: VERSION,
    build: config.BUILD_COMMIT,
    calculus: CALCULUS,
    profile: config.PROFILE,
    auth: config.AUTH,
    stores: stores.kind,
    signing: keys === null ? 'off' : { key_ids: signingKeyIds },
    compute_workers: config.COMPUTE_WORKERS,
    // Which implementation computes payouts_root and signs ML-DSA: the C addon, or the (slower)
    // TypeScript fallback when it was not built.
    native: { merkle: merkleBackend(), ml_dsa_signing: signingBackend() },
    limits: {
      inputs_max_bytes: config.INPUTS_MAX_BYTES,
      inputs_arrow_max_bytes: config.INPUTS_ARROW_MAX_BYTES,
      req_body_max_bytes: config.REQ_BODY_MAX_BYTES,
      decomp_ratio_max: config.DECOMP_RATIO_MAX,
      max_actors: config.MAX_ACTORS,
      max_events: config.MAX_EVENTS,
      max_kinds: 64,
      work_queue_max: config.WORK_QUEUE_MAX,
      max_inflight: config.MAX_INFLIGHT,
      tenant_rps_max: config.TENANT_RPS_MAX,
      default_deadline_ms: config.DEFAULT_DEADLINE_MS,
      max_deadline_ms: config.MAX_DEADLINE_MS,
      tenant_store_max_bytes: config.TENANT_STORE_MAX_BYTES ?? null,
    },
  };
  // One memo of validated compute bodies for the app and the replay shortcut in front of it.
  const computeBodies = new ComputeBodies();
  const app = createApp({
    computeBodies,
    settings: () => settings,
    stores,
    pool,
    cache,
    epochs,
    metrics,
    logger,
    verifier,
    rateLimiter,
    audit,
    version,
    state,
    intake,
    storeHealthy: () => storeWatch.current(),
    storeFill: () => (stores instanceof MemoryStores ? stores.fill() : null),
    spool: inputsSpool,
    proofs,
    explanations,
    previewBases,
    ledgerDegraded: () => settlement?.degraded ?? false,
    keys,
  });

  const replays = config.REPLAY_SHORTCUT
    ? new ReplayShortcut({ settings: () => settings, epochs, metrics, verifier, rateLimiter, audit, computeBodies, state })
    : null;

  return {
    app,
    /** Answers replays of settled bindings before the app (server.ts wraps its listener); null when REPLAY_SHORTCUT=false. */
    replays,
    pool,
    stores,
    metrics,
    logger,
    state,
    config,
    /** Applies the reloadable values of `next`, all at once; the rest needs a restart. */
    reload(next: Config): string[] {
      // Files first: an invalid one throws here, before anything has changed.
      const tokens = verifier === null ? null : readTokens(next);
      const nextPrograms = readPrograms(next);
      if (tokens !== null) verifier?.replace(tokens);
      programs = nextPrograms;
      settings = { ...settings, maxInflight: next.MAX_INFLIGHT, tenantStoreMaxBytes: next.TENANT_STORE_MAX_BYTES ?? null };
      pool.setQueueMax(next.WORK_QUEUE_MAX, config.TENANT_QUEUE_MAX);
      rateLimiter.setRate(next.TENANT_RPS_MAX);
      logger.level = next.LOG_LEVEL;
      version.limits.max_inflight = next.MAX_INFLIGHT;
      version.limits.work_queue_max = next.WORK_QUEUE_MAX;
      version.limits.tenant_rps_max = next.TENANT_RPS_MAX;
      version.limits.tenant_store_max_bytes = next.TENANT_STORE_MAX_BYTES ?? null;
      const fixed = Object.keys(next).filter(
        (k) => !(RELOADABLE as readonly string[]).includes(k) && next[k as keyof Config] !== config[k as keyof Config],
      );
      return fixed;
    },
    settlement,
    /**
     * Has the signing thread load and check its keys (SIGNING_KEY_DIR); resolves once their public
     * halves are known (GET /keys, /version), rejects with the one-line reason a start must stop on.
     */
    async signingReady(): Promise<void> {
      if (signer === null || keys === null || keys.signing.length > 0) return;
      const view = await signer.describe();
      keys.signing.push(...view.signing);
      keys.published.push(...view.published);
      signingKeyIds.push(...view.signing.map((k) => k.keyId));
    },
    async close(): Promise<void> {
      intake.close();
      storeWatch.close();
      await settlement?.stop();
      await pool.close();
      // Nothing here sends a part any more: hand back what this replica leased (its drainer's
      // batch, parts of runs whose requests were cut), so another replica drains them now rather
      // than after LEDGER_LEASE_MS.
      if (settlement) await stores.releaseLeases(settlement.owner).catch(() => 0);
      await signer?.close();
      await stores.close();
      await audit.close();
    },
  };
}

export type Runtime = ReturnType<typeof buildRuntime>;

function readTokens(config: Config) {
  return parseTokensFile(readFileSync(config.TOKENS_FILE as string, 'utf8'));
}

function readPrograms(config: Config): Map<string, ProgramSettings> {
  if (config.PROGRAMS_FILE === undefined) return new Map();
  let text: string;
  try {
    text = readFileSync(config.PROGRAMS_FILE, 'utf8');
  } catch (e) {
    throw new Error(`programs file ${config.PROGRAMS_FILE}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  return parseProgramsFile(text);
}

/** The ledger side: one client, one health tracker, one settlement (drainer) per replica. */
function buildSettlement(config: Config, stores: Stores, metrics: ReturnType<typeof createMetrics>, logger: Logger): Settlement {
  const health = new EgressHealth({
    p95BudgetMs: config.LEDGER_P95_BUDGET_MS,
    p99BudgetMs: config.LEDGER_P99_BUDGET_MS,
    recoveryWindowMs: config.LEDGER_RECOVERY_WINDOW_MS,
    onChange: (degraded, why) => {
      if (degraded) {
        // Logged once per entry; from now on new runs are published with their intents held.
        logger.warn({ event: 'LedgerEgressDegraded', why }, 'ledger egress degraded: quarantine-only mode');
        settlement.enterQuarantine().catch((e: unknown) => logger.error({ err: e }, 'holding pending intents failed'));
      } else {
        logger.info({ event: 'LedgerEgressRecovered', why }, 'ledger egress recovered: draining held intents');
      }
    },
  });
  const client = new LedgerClient({
    url: config.LEDGER_URL as string,
    token: config.LEDGER_TOKEN,
    maxRetries: config.LEDGER_MAX_RETRIES,
    attemptMs: config.LEDGER_DEADLINE_MS,
    observe: (ms, answered) => health.observe(answered ? ms : Number.POSITIVE_INFINITY),
    // Retried like a 5xx; the alert is what tells an operator the ledger (or its proxy, URL or
    // token) is wrong, since the parts only wait, held, until a real answer comes.
    onUnexpected: (status, reason) => {
      metrics.ledgerUnexpected.inc({ status: statusClass(status) });
      logger.error({ alert: 'LedgerUnexpectedAnswer', status, reason }, 'ledger answered outside SPEC §7: retrying, nothing counted as acknowledged');
    },
  });
  const settlement: Settlement = new Settlement({
    stores,
    client,
    health,
    metrics,
    logger,
    owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    leaseMs: config.LEDGER_LEASE_MS,
    probeIntervalMs: config.LEDGER_PROBE_INTERVAL_MS,
  });
  return settlement;
}

/**
 * Where the signing thread takes its keys: SIGNING_KEY_DIR when set (read by that thread only; a
 * bad directory stops the start through signingReady); with REQUIRE_PQ_ON and no directory
 * (config allows it only with AUTH=off) an ephemeral set, loudly, since nothing it signs can be
 * verified after a restart.
 */
function signingSource(config: Config, logger: Logger): { source: KeySource; view: PublicKeySet } | null {
  if (config.SIGNING_KEY_DIR !== undefined) return { source: { dir: config.SIGNING_KEY_DIR }, view: { signing: [], published: [] } };
  if (!config.REQUIRE_PQ_ON) return null;
  const set = generateKeySet();
  logger.warn(
    { key_ids: set.signing.map((k) => k.keyId) },
    'REQUIRE_PQ_ON with AUTH=off and no SIGNING_KEY_DIR: signing with EPHEMERAL keys that die with this process (development only)',
  );
  const pub = set.signing.map(publicHalf);
  return { source: { ephemeral: set.signing }, view: { signing: pub, published: [...pub] } };
}
