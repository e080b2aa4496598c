// The one configuration module: environment plus an optional JSON file (`REWARDER_CONFIG`), parsed
// once with zod into a frozen object. Nothing else reads process.env. The file wins over the
// environment so an operator can change reloadable values with SIGHUP without a restart.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const MiB = 1024 * 1024;
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const bool = z.stringbool();

/** Profile-dependent defaults: micronode is a small box, macronode a fleet member. */
const PROFILE_DEFAULTS = {
  micronode: { WORK_QUEUE_MAX: 256, MAX_INFLIGHT: 128, INPUTS_CACHE_MAX_BYTES: 128 * MiB, BODY_INTAKE_MAX: 64, BODY_INTAKE_PER_CLIENT_MAX: 8, BODY_BYTES_BUDGET: 256 * MiB, PROOF_INDEX_CACHE_MAX_BYTES: 128 * MiB },
  macronode: { WORK_QUEUE_MAX: 4096, MAX_INFLIGHT: 512, INPUTS_CACHE_MAX_BYTES: 512 * MiB, BODY_INTAKE_MAX: 256, BODY_INTAKE_PER_CLIENT_MAX: 256, BODY_BYTES_BUDGET: 1024 * MiB, PROOF_INDEX_CACHE_MAX_BYTES: 512 * MiB },
} as const;

/**
 * PostgreSQL settings: part of the service's configuration, and all of `rewarder migrate`'s, which
 * needs no tokens, port or pool.
 */
const DATABASE_SHAPE = {
  /** PostgreSQL for durable stores (macronode); absent: memory stores. */
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
  DATABASE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/).default('rewarder'),
  /**
   * PostgreSQL as the migration role (owner of the schema), when the runtime role of DATABASE_URL
   * is another one: migrations run over it at start, and the runtime role is granted only the DML
   * the service runs (issue 15). Absent: DATABASE_URL's role migrates, as before.
   */
  DATABASE_MIGRATION_URL: z.string().regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL').optional(),
  /**
   * The tenant that owns the documents and bindings of a PostgreSQL database created before
   * tenancy (SPEC §10); applied once, by the migration that adds ownership.
   */
  TENANCY_LEGACY_OWNER: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a tenant name (1–64 of A-Z a-z 0-9 . _ -)').default('legacy'),
};

export const configSchema = z
  .object({
    PROFILE: z.enum(['micronode', 'macronode']).default('micronode'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: int(0, 65535).default(8080),
    AUTH: z.enum(['on', 'off']).default('on'),
    TOKENS_FILE: z.string().min(1).optional(),
    AUDIT_MODE: z.enum(['off', 'local']).default('off'),
    AUDIT_DIR: z.string().min(1).optional(),
    /**
     * Micronode: the one directory the process writes to (tmpfs/ramfs only, created 0700 at start,
     * removed on exit; src/amnesia.ts). Absent: `rewarder serve` picks /dev/shm/rewarder-<pid>-<random>.
     */
    AMNESIA_DIR: z.string().min(1).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    CONCURRENCY_COMPUTE_WORKERS: int(1, 256).optional(),
    REQUIRE_PQ_ON: bool.default(false),
    WORK_QUEUE_MAX: int(1).optional(),
    /** A compute whose expected queue wait (tasks ahead × the worker-timed mean task time ÷ threads) exceeds this is 503 queue_wait. */
    QUEUE_WAIT_MAX_MS: int(1).default(1_000),
    /**
     * Hand each compute worker its next task before the current one ends (src/pool.ts), so it never
     * waits for the event loop between tasks; off: one task per worker at a time.
     */
    COMPUTE_HANDOVER: bool.default(true),
    /**
     * Keep the compute worker up to this long for a tenant whose task just ended and who usually
     * sends its next within it, while other tenants wait (anticipatory scheduling, src/pool.ts):
     * without it such a tenant always finds another's task just started. 0: off.
     */
    FAIR_ANTICIPATE_MS: int(0, 100).default(5),
    /**
     * A compute refused for load (503 queue_wait/queue_full, 429 tenant_share) is answered after this
     * pause (at most its Retry-After): clients that re-send at once, ignoring Retry-After, then cost
     * a timer each instead of a refusal loop that takes the CPU the compute worker needs. 0: at once.
     */
    SHED_HOLD_MS: int(0, 10_000).default(1_000),
    /** Most compute tasks one tenant may have waiting (default: WORK_QUEUE_MAX); beyond: 429 tenant_share. */
    TENANT_QUEUE_MAX: int(1).optional(),
    MAX_INFLIGHT: int(1).optional(),
    TENANT_RPS_MAX: int(1).default(100),

    REQ_BODY_MAX_BYTES: int(1024).default(1 * MiB),
    /** Bodies being received at once (all clients; per client address), before any compute slot. */
    BODY_INTAKE_MAX: int(1).optional(),
    /** Macronode default = BODY_INTAKE_MAX: behind HAProxy every client has the proxy's address. */
    BODY_INTAKE_PER_CLIENT_MAX: int(1).optional(),
    /** Bytes of bodies being received at once; a declared length that does not fit is 503 before buffering. */
    BODY_BYTES_BUDGET: int(1024).optional(),
    /** After the grace, a body slower than this (bytes/s over its life) is cut with 408. */
    BODY_MIN_RATE_BYTES_S: int(0).default(8 * 1024),
    BODY_RATE_GRACE_MS: int(0).default(2_000),
    INPUTS_MAX_BYTES: int(1024).default(64 * MiB),
    // The Arrow IPC form's own cap (SPEC §2.1): binary columns, for epochs too large for JSON.
    INPUTS_ARROW_MAX_BYTES: int(1024).max(2 ** 31 - 1).default(1024 * MiB),
    DECOMP_RATIO_MAX: int(1).default(10),
    MAX_ACTORS: int(1).default(1_000_000),
    MAX_EVENTS: int(1).default(5_000_000),
    INPUTS_CACHE_MAX_BYTES: int(0).optional(),
    /** Proof indexes of published epochs kept in memory (bytes; least recently used out). */
    PROOF_INDEX_CACHE_MAX_BYTES: int(0).optional(),
    /** Explanation bases of published runs kept in memory (bytes, their prepared inputs included; LRU). */
    EXPLAIN_CACHE_MAX_BYTES: int(0).default(64 * MiB),
    /** Comparison bases of bound runs kept for previews (bytes, ~16 B per payee plus its id; LRU). */
    PREVIEW_CACHE_MAX_BYTES: int(0).default(32 * MiB),
    MEMORY_STORE_MAX_BYTES: int(MiB).default(1024 * MiB),
    /** Micronode: evicted manifests spilled to AMNESIA_DIR/spill first (bytes; 0 = no spill). */
    SPILL_MAX_BYTES: int(0).default(256 * MiB),
    /**
     * Micronode: Arrow uploads of at least this many bytes are written to AMNESIA_DIR/inputs as
     * they arrive and kept there as files, not in the heap (bytes; 0 = never).
     */
    INPUTS_SPOOL_MIN_BYTES: int(0).default(64 * MiB),

    DEFAULT_DEADLINE_MS: int(1).default(30_000),
    MAX_DEADLINE_MS: int(1).default(300_000),
    HEADERS_TIMEOUT_MS: int(100).default(10_000),
    REQUEST_TIMEOUT_MS: int(100).default(120_000),
    KEEPALIVE_TIMEOUT_MS: int(100).default(5_000),
    MAX_HEADER_SIZE: int(1024).default(16 * 1024),
    CONNECTIONS_CHECK_MS: int(50).default(250),
    /** Replays of settled bindings answered before the app (http/replay-shortcut.ts), same checks and bytes. */
    REPLAY_SHORTCUT: bool.default(true),
    SHUTDOWN_GRACE_MS: int(0).default(10_000),
    /**
     * A load balancer agent (HAProxy `agent-check`) on this TCP port answers `ready` or, once
     * SIGTERM arrives, `drain`; absent: no agent. See SHUTDOWN_LEAVE_MS.
     */
    LB_AGENT_PORT: int(1, 65_535).optional(),
    /**
     * On SIGTERM with an agent: how long the replica keeps serving while it reports `drain` and
     * `/readyz` 503, so the balancer stops sending new requests before the listener closes.
     */
    SHUTDOWN_LEAVE_MS: int(0).default(1_500),
    /** How often the store is pinged in the background for /readyz. */
    READINESS_PING_MS: int(50).default(1_000),

    LEDGER_URL: z.url().optional(),
    LEDGER_TOKEN: z.string().min(1).optional(),
    LEDGER_MAX_RETRIES: int(0, 10).default(2),
    LEDGER_DEADLINE_MS: int(10).default(1000),
    LEDGER_P95_BUDGET_MS: int(1).default(100),
    LEDGER_P99_BUDGET_MS: int(1).default(250),
    LEDGER_PROBE_INTERVAL_MS: int(10).default(1000),
    LEDGER_RECOVERY_WINDOW_MS: int(0).default(600_000),
    LEDGER_LEASE_MS: int(100).default(30_000),
    ...DATABASE_SHAPE,
    /** Bytes of sealed documents one tenant may own (a token's `store_max_bytes` overrides it); absent: no quota. */
    TENANT_STORE_MAX_BYTES: int(0).optional(),
    /** JSON `{"<program>": {"max_pool_minor": "<money>"}}`; reloaded with SIGHUP. Absent: no budgets. */
    PROGRAMS_FILE: z.string().min(1).optional(),
    /** Key sets written by `rewarder keygen`; the newest signs, all are published by GET /keys. */
    SIGNING_KEY_DIR: z.string().min(1).optional(),
    /** Set by the image build; reported in /version. */
    BUILD_COMMIT: z.string().min(1).default('dev'),
  })
  .transform((c) => {
    const d = PROFILE_DEFAULTS[c.PROFILE];
    const cores = availableParallelism();
    // SPEC: cores − 1, one fewer again when signing (its own thread) shares the box; never below one.
    const signing = c.REQUIRE_PQ_ON || c.SIGNING_KEY_DIR !== undefined;
    const workers = c.CONCURRENCY_COMPUTE_WORKERS ?? Math.max(1, cores - 1 - (signing ? 1 : 0));
    return {
      ...c,
      WORK_QUEUE_MAX: c.WORK_QUEUE_MAX ?? d.WORK_QUEUE_MAX,
      MAX_INFLIGHT: c.MAX_INFLIGHT ?? d.MAX_INFLIGHT,
      INPUTS_CACHE_MAX_BYTES: c.INPUTS_CACHE_MAX_BYTES ?? d.INPUTS_CACHE_MAX_BYTES,
      BODY_INTAKE_MAX: c.BODY_INTAKE_MAX ?? d.BODY_INTAKE_MAX,
      BODY_INTAKE_PER_CLIENT_MAX: c.BODY_INTAKE_PER_CLIENT_MAX ?? d.BODY_INTAKE_PER_CLIENT_MAX,
      PROOF_INDEX_CACHE_MAX_BYTES: c.PROOF_INDEX_CACHE_MAX_BYTES ?? d.PROOF_INDEX_CACHE_MAX_BYTES,
      BODY_BYTES_BUDGET: c.BODY_BYTES_BUDGET ?? d.BODY_BYTES_BUDGET,
      COMPUTE_WORKERS: workers,
      // A micronode's audit log lives and dies with the process, in its amnesia directory.
      AUDIT_DIR:
        c.AUDIT_DIR ??
        (c.PROFILE === 'micronode' && c.AUDIT_MODE === 'local' && c.AMNESIA_DIR !== undefined ? join(c.AMNESIA_DIR, 'audit') : undefined),
    };
  })
  .superRefine((c, ctx) => {
    // A body the route allows but the intake budget can never hold would be told to retry for ever.
    const largest = Math.max(c.INPUTS_MAX_BYTES, c.REQ_BODY_MAX_BYTES);
    if (c.BODY_BYTES_BUDGET < largest) {
      ctx.addIssue({ code: 'custom', path: ['BODY_BYTES_BUDGET'], message: `must be at least the largest body a route accepts (${largest} bytes: INPUTS_MAX_BYTES, REQ_BODY_MAX_BYTES)` });
    }
    // Development mode accepts every request without a token: only a micronode on loopback may
    // run it, never a fleet member or an address the network reaches (issue 15).
    if (c.AUTH === 'off' && !(c.PROFILE === 'micronode' && isLoopback(c.HOST))) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH'],
        message: `AUTH=off (development mode) needs HOST on loopback (127.0.0.1, ::1 or localhost) and PROFILE=micronode, got HOST=${c.HOST} PROFILE=${c.PROFILE}: anyone who reaches the port could seal and compute; set AUTH=on with TOKENS_FILE`,
      });
    }
    if (c.AUTH === 'on' && c.TOKENS_FILE === undefined) {
      ctx.addIssue({ code: 'custom', path: ['TOKENS_FILE'], message: 'required unless AUTH=off (development mode)' });
    }
    if (c.REQUIRE_PQ_ON && c.SIGNING_KEY_DIR === undefined && c.AUTH !== 'off') {
      ctx.addIssue({
        code: 'custom',
        path: ['SIGNING_KEY_DIR'],
        message: 'required when REQUIRE_PQ_ON=true (run rewarder keygen --out DIR); only AUTH=off may use ephemeral keys',
      });
    }
    checkDatabase(c, ctx);
    if (c.AUDIT_MODE === 'local' && c.AUDIT_DIR === undefined) {
      ctx.addIssue({ code: 'custom', path: ['AUDIT_DIR'], message: 'required when AUDIT_MODE=local (micronode: defaults to AMNESIA_DIR/audit)' });
    }
  });

export type Config = Readonly<z.output<typeof configSchema>>;

function checkDatabase(c: { DATABASE_URL?: string | undefined; DATABASE_MIGRATION_URL?: string | undefined }, ctx: z.RefinementCtx): void {
  if (c.DATABASE_MIGRATION_URL !== undefined && c.DATABASE_URL === undefined) {
    ctx.addIssue({ code: 'custom', path: ['DATABASE_MIGRATION_URL'], message: 'needs DATABASE_URL (the runtime role it migrates for)' });
  }
}

const databaseSchema = z.object(DATABASE_SHAPE).superRefine(checkDatabase);
export type DatabaseConfig = Readonly<z.output<typeof databaseSchema>>;

/** Loopback literals only: a name other than localhost could resolve anywhere. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1' || host === '[::1]') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** The values SIGHUP may change at run time; everything else needs a restart. */
export const RELOADABLE = ['TENANT_RPS_MAX', 'MAX_INFLIGHT', 'WORK_QUEUE_MAX', 'LOG_LEVEL', 'TENANT_STORE_MAX_BYTES'] as const;
export type Reloadable = Pick<Config, (typeof RELOADABLE)[number]>;

export class ConfigError extends Error {}

/** Parses env (+ the REWARDER_CONFIG file, if named); throws ConfigError with a one-line reason. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return parse(configSchema, gather(env));
}

/** Only the PostgreSQL settings, from the same sources, checked the same way (`rewarder migrate`). */
export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  return parse(databaseSchema, gather(env));
}

/** Every known setting from the REWARDER_CONFIG file (which wins) or the environment. */
function gather(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const file = env.REWARDER_CONFIG;
  let fromFile: Record<string, unknown> = {};
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new ConfigError(`REWARDER_CONFIG ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      fromFile = parsed as Record<string, unknown>;
    } catch {
      throw new ConfigError(`REWARDER_CONFIG ${file}: not a JSON object`);
    }
  }
  const known = new Set(Object.keys(configSchema.in.shape));
  const unknown = Object.keys(fromFile).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new ConfigError(`REWARDER_CONFIG ${file}: unknown setting ${unknown[0]}`);
  // Values from the file may be numbers or booleans; the schema coerces from strings.
  const merged: Record<string, string | undefined> = {};
  for (const k of known) {
    const v = fromFile[k] ?? env[k];
    merged[k] = v === undefined || v === '' ? undefined : String(v);
  }
  return merged;
}

function parse<S extends z.ZodType>(schema: S, merged: Record<string, string | undefined>): Readonly<z.output<S>> {
  const r = schema.safeParse(merged);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError(`invalid configuration: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
  }
  return Object.freeze(r.data);
}
