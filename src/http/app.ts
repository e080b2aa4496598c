// createApp(deps): the Hono app from injected dependencies. It reads no config and binds no port
// (see server.ts), so tests build it with real or fake parts. Routes are served at / and under
// /rewarder. Every error leaves through one onError that renders the SPEC §8 envelope.

import { randomUUID } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import { type DocLimits, actorCount } from '../compute/protocol.js';
import { type ProofIndex, proveFromIndex } from '../core/proof-index.js';
import { formatDocError } from '../core/result.js';
import { ARROW_MEDIA_TYPE, isArrowStream } from '../core/arrow/format.js';
import { Blake3Stream, isDigest } from '../core/hash.js';
import { ID_RE, actorIdProblem } from '../core/rules.js';
import { type PublicKeySet, keysDocument } from '../attest/keys.js';
import { resolveDeadline } from '../deadline.js';
import { summarise } from '../ledger/settlement.js';
import { AppError, envelope, internalError } from '../errors.js';
import type { InputsCache } from '../inputs-cache.js';
import type { Metrics, RejectReason } from '../metrics.js';
import type { ComputePool } from '../pool.js';
import { ProofIndexes } from '../proof-indexes.js';
import { Explanations } from '../service/explanations.js';
import { Previews } from '../service/previews.js';
import { PreviewBases } from '../preview-bases.js';
import type { EpochService } from '../service/epochs.js';
import type { EpochRecord, Stores } from '../stores/types.js';
import { parseCorrection } from '../service/corrections.js';
import type { AuditEvent, AuditSink } from './audit.js';
import type { Scope, TokenVerifier } from './auth.js';
import { type BodySpool, readBodyOrSpool } from './body.js';
import type { InputsFile, InputsSpool } from '../stores/inputs-file.js';
import { pulled, streamed } from './streamed.js';
import { answerHeaders, cachePrivately } from './headers.js';
import { BodyIntake, type IntakeSettings, type IntakeTicket } from './intake.js';
import { openApiDocument } from './openapi.js';
import { type TenantRateLimiter, rateLimitHeaders, rateLimited } from './rate-limit.js';
import { ComputeBodies, validateBody } from './compute-body.js';
import { RefusalLog } from './refusal-log.js';
import { schedulingTenantOf } from './scheduling-tenant.js';
import { digest, idText, previewRequest } from './schemas.js';
import {
  ANONYMOUS_ACCESS,
  type Access,
  PROGRAM_RE,
  accessOf,
  epochProgram,
  grants,
  noSuchEpoch,
  noSuchInputs,
  noSuchPolicy,
  noSuchProgram,
} from './tenancy.js';

/** Settings the app reads per request; the reloadable ones may change between requests. */
export interface AppSettings {
  maxInflight: number;
  reqBodyMaxBytes: number;
  inputsMaxBytes: number;
  /** The Arrow IPC form's own cap (absent: DEFAULT_ARROW_MAX_BYTES_HTTP). */
  inputsArrowMaxBytes?: number;
  /**
   * Arrow bodies of at least this many bytes are spooled to the amnesia tmpfs as they arrive
   * (INPUTS_SPOOL_MIN_BYTES; absent or 0: never). Only where the app was given a spool.
   */
  inputsSpoolMinBytes?: number;
  decompRatioMax: number;
  defaultDeadlineMs: number;
  maxDeadlineMs: number;
  docLimits: DocLimits;
  intake: IntakeSettings;
  /** Bytes a tenant may own in sealed documents (TENANT_STORE_MAX_BYTES); null: no quota. */
  tenantStoreMaxBytes: number | null;
  /** Pause before answering a compute refused for load (SHED_HOLD_MS; absent or 0: none). */
  shedHoldMs?: number;
}

export interface AppDeps {
  settings: () => AppSettings;
  stores: Stores;
  pool: ComputePool;
  cache: InputsCache;
  epochs: EpochService;
  metrics: Metrics;
  logger: Logger;
  /** null in development mode (AUTH=off). */
  verifier: TokenVerifier | null;
  rateLimiter: TenantRateLimiter;
  audit: AuditSink;
  version: Record<string, unknown>;
  /** Proof indexes of published manifests (built in the pool, kept under a byte budget). */
  proofs?: ProofIndexes;
  /** Explanations of published runs (SPEC §11), their per-run part kept under a byte budget. */
  explanations?: Explanations;
  /** Comparison bases of bound runs for previews, kept under a byte budget. */
  previewBases?: PreviewBases;
  /**
   * Micronode with an amnesia directory and the memory store: where large Arrow uploads are
   * spooled (AMNESIA_DIR/inputs); absent: every body is received into memory.
   */
  spool?: InputsSpool | null;
  /** The memory store's fill (null for PostgreSQL): /readyz degrades before it refuses. */
  storeFill?: () => { bytes: number; maxBytes: number; pinnedBytes: number } | null;
  /** Store health as last checked in the background (StoreWatch); absent: asked per call. */
  storeHealthy?: () => boolean | Promise<boolean>;
  /** True while ledger egress is degraded (quarantine-only mode). */
  ledgerDegraded: () => boolean;
  /** Public halves of the signing keys (null: signing off); the private ones never leave the signing thread. */
  keys?: PublicKeySet | null;
  /** Bodies being received (built from settings when absent; runtime shares it with /metrics). */
  intake?: BodyIntake;
  /** Validated compute bodies (built when absent; runtime shares it with the replay shortcut). */
  computeBodies?: ComputeBodies;
  /**
   * Shared with the server: in-flight count (for /metrics); `leaving` from SIGTERM on (readiness
   * turns 503 so balancers stop routing here, requests are still served); `shuttingDown` once the
   * listener closes (requests on open connections are refused).
   */
  state: { inflight: number; leaving: boolean; shuttingDown: boolean };
}

/** Served by @hono/node-server: `c.env` holds Node's request and response. */
type Env = {
  Bindings: HttpBindings;
  Variables: { corrId: string; route: string; tenant: string; access: Access; trail: Trail; arrival: Arrival; body: Uint8Array; bodyFile: InputsFile | undefined; bodyCid: string; receivedMs: number };
};

/** When a body route started receiving: deadlines count from here, body upload included. */
interface Arrival {
  wallMs: number;
  perfMs: number;
}

/** Compute refusals for load answered after SHED_HOLD_MS (at most their Retry-After). */
const HELD = new Set<string>(['queue_wait', 'queue_full', 'tenant_share']);

/** Refusals of load (not faults): summarised in the log, counted in rejected_total. */
const SHED = new Set<string>(['OVERLOADED', 'RATE_LIMITED', 'DEADLINE_EXCEEDED', 'REQUEST_TIMEOUT']);

/** A proof index build is shared by every request for that epoch, so no one client's deadline bounds it. */
const PROOF_INDEX_BUILD_MS = 120_000;
/** /readyz turns degraded when this share of the memory store is pinned (before store_full refusals). */
const STORE_PINNED_DEGRADED = 0.9;

/** What a seal, compute or read touched, for its audit line (filled in by the route as it learns it). */
type Trail = Pick<AuditEvent, 'epoch_id' | 'inputs_cid' | 'policy_hash' | 'program'>;

const CORR_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** GET /programs/{program}/epochs page sizes. */
const LIST_DEFAULT = 100;
const LIST_MAX = 1000;
const JSON_TYPE = 'application/json';
const CSV_TYPE = 'text/csv; charset=utf-8; header=present';
/** Default cap of an Arrow body when settings name none (config's INPUTS_ARROW_MAX_BYTES default). */
const DEFAULT_ARROW_MAX_BYTES_HTTP = 1024 * 1024 * 1024;

export function createApp(deps: AppDeps): Hono<Env> {
  const { metrics, stores, pool, epochs } = deps;
  const app = new Hono<Env>();

  app.use('*', async (c, next) => {
    const given = c.req.header('x-corr-id');
    const corrId = given !== undefined && CORR_RE.test(given) ? given : randomUUID();
    c.set('corrId', corrId);
    c.set('route', 'unmatched');
    // Set before the response exists so every answer (errors and 404s included) is built with it:
    // a header added to a finished response makes Hono rebuild it as a full web Response whose
    // body the Node adapter then has to stream back out.
    c.header('X-Corr-ID', corrId);
    const t0 = performance.now();
    await next();
    // A client that left mid-upload got no answer at all: not a 400 it was sent (nginx's 499).
    const gone = c.error instanceof AppError && c.error.details.reason === 'body_incomplete';
    metrics.httpDuration.observe(
      { route: c.get('route'), method: c.req.method, status: gone ? '499' : String(c.res.status) },
      (performance.now() - t0) / 1000,
    );
  });

  app.use('*', answerHeaders());

  const refusals = new RefusalLog(deps.logger);
  app.onError((err, c) => {
    const e = err instanceof AppError ? err : internalError();
    const access = c.get('access') as Access | undefined;
    if (access !== undefined && (e.code === 'WINDOW_OVERLAP' || e.code === 'POOL_OVER_BUDGET' || e.code === 'QUOTA_EXCEEDED')) {
      metrics.tenantRefusals.inc({ tenant: access.tenant, reason: e.details.reason });
    }
    const corrId = c.get('corrId') ?? randomUUID();
    // The memory store refuses writes once full of unsettled runs: a refusal like the others in
    // rejected_total, counted here only (the store itself does not count).
    if (e.details.reason === 'store_full') metrics.rejected.inc({ reason: 'store_full' });
    if (!(err instanceof AppError)) deps.logger.error({ err, corr_id: corrId, route: c.get('route') }, 'unhandled error');
    else if (SHED.has(e.code)) refusals.note(e.status, e.details.reason, corrId);
    else if (e.status >= 500) deps.logger.warn({ corr_id: corrId, code: e.code, reason: e.details.reason }, e.message);
    c.header('X-Corr-ID', corrId);
    const hold = Math.min(deps.settings().shedHoldMs ?? 0, Number(e.headers['Retry-After'] ?? 0) * 1000);
    if (hold > 0 && HELD.has(e.details.reason)) {
      return new Promise<Response>((resolve) => setTimeout(() => resolve(c.json(envelope(e, corrId), e.status, { ...e.headers })), hold));
    }
    return c.json(envelope(e, corrId), e.status, { ...e.headers });
  });

  app.notFound((c) => {
    const e = new AppError('NOT_FOUND', 'no such route', { reason: 'no_route' });
    return c.json(envelope(e, c.get('corrId')), 404);
  });

  const intake = deps.intake ?? new BodyIntake(() => deps.settings().intake);
  const inputsSpool = deps.spool ?? null;
  const proofs = deps.proofs ?? new ProofIndexes(64 * 1024 * 1024);
  const explanations = deps.explanations ?? new Explanations({ stores, pool, cache: deps.cache, limits: () => deps.settings().docLimits, logger: deps.logger });
  const previews = new Previews({ stores, pool, cache: deps.cache, epochs, bases: deps.previewBases ?? new PreviewBases(32 * 1024 * 1024), limits: () => deps.settings().docLimits, logger: deps.logger });
  intake.onRefuse = (reason) => metrics.rejected.inc({ reason });

  const reject = (reason: RejectReason, err: AppError): never => {
    metrics.rejected.inc({ reason });
    throw err;
  };

  /** Names the route for metrics and logs (templates, never raw paths). */
  const route =
    (template: string): MiddlewareHandler<Env> =>
    (c, next) => {
      c.set('route', template);
      return next();
    };

  const refuseIfDraining = (): void => {
    if (deps.state.shuttingDown) {
      reject('shutting_down', new AppError('UNAVAILABLE', 'the service is shutting down', { reason: 'shutting_down' }, { 'Retry-After': '5' }));
    }
  };

  /**
   * Receives the whole body before the request is admitted (the in-flight slot comes after, in
   * `admit`): a client sending slowly holds only its place in the intake, never a compute slot.
   */
  const receive =
    (maxBytes: (s: AppSettings, arrow: boolean) => number, opts: { arrow?: boolean; hash?: boolean } = {}): MiddlewareHandler<Env> =>
    async (c, next) => {
      // Deadlines count from here (after authentication, as they always did), body upload included.
      c.set('arrival', { wallMs: Date.now(), perfMs: performance.now() });
      refuseIfDraining();
      const arrow = mediaType(c, opts.arrow === true) === ARROW_MEDIA_TYPE;
      const incoming = c.env.incoming;
      const s = deps.settings();
      const cap = maxBytes(s, arrow);
      const declared = declaredLength(incoming.headers['content-length']);
      // Over the cap: refused (413) before a byte is buffered; readBody drains it so the client
      // reads the answer. Checked first so that a body that could never fit is not told to retry.
      if (declared !== undefined && declared > cap) await body(c, cap);
      const ticket = intake.begin(incoming.socket?.remoteAddress ?? 'unknown', declared, incoming.complete);
      let file: InputsFile | undefined;
      try {
        // A document's CID is computed as its body arrives (SPEC §1: the digest of its exact bytes),
        // piece by piece on this thread, overlapping the upload instead of following it.
        const hasher = opts.hash === true ? new Blake3Stream() : undefined;
        // A large Arrow body on a micronode goes to a file under the amnesia tmpfs as it arrives,
        // not into one heap buffer (the memory store then keeps that file).
        const minBytes = s.inputsSpoolMinBytes ?? 0;
        const spool = arrow && inputsSpool !== null && minBytes > 0 ? { minBytes, create: () => inputsSpool.create() } : undefined;
        const got = await body(c, cap, ticket, hasher, spool);
        if (got instanceof Uint8Array) c.set('body', got);
        else {
          c.set('body', EMPTY);
          c.set('bodyFile', (file = got));
        }
        if (hasher !== undefined) c.set('bodyCid', hasher.digest());
        c.set('receivedMs', performance.now() - c.get('arrival').perfMs);
        ticket.arrived();
        await next();
      } finally {
        ticket.release();
        // A spooled body the store did not keep (refused, invalid, already held, or the request
        // failed on the way) leaves no file behind.
        if (file !== undefined && !file.kept) file.remove();
      }
    };

  const admit: MiddlewareHandler<Env> = async (c, next) => {
    // A body that was being received when the drain began is served like any request in flight.
    if (c.get('body') === undefined) refuseIfDraining();
    if (deps.state.inflight >= deps.settings().maxInflight) {
      reject('inflight', new AppError('OVERLOADED', 'too many requests in flight', { reason: 'inflight' }, { 'Retry-After': '1' }));
    }
    deps.state.inflight++;
    try {
      await next();
    } finally {
      deps.state.inflight--;
    }
  };

  /** Audit lines are made only when written: a timestamp and a token's HMAC per request add up. */
  const audit = (c: Context<Env>, kind: AuditEvent['kind'], identify: () => { tenant?: string; fingerprint?: string }): void => {
    if (!deps.audit.enabled) return;
    const who = identify();
    deps.audit.write({ kind, tenant: who.tenant, token_fp: who.fingerprint, route: c.get('route'), corr_id: c.get('corrId'), at: new Date().toISOString() });
  };

  const guard =
    (scope: Scope): MiddlewareHandler<Env> =>
    async (c, next) => {
      let access = ANONYMOUS_ACCESS;
      const verifier = deps.verifier;
      if (verifier !== null) {
        const header = c.req.header('authorization');
        try {
          access = verifier.verify(header, scope);
        } catch (e) {
          if (e instanceof AppError) {
            metrics.authFailures.inc({ code: e.code });
            audit(c, e.code === 'FORBIDDEN' ? 'scope_denied' : 'auth_fail', () => verifier.identify(header));
          }
          throw e;
        }
        audit(c, 'auth_ok', () => verifier.identify(header));
      }
      const tenant = access.tenant;
      const r = deps.rateLimiter.take(tenant);
      if (!r.ok) {
        audit(c, 'rate_limited', () => ({ tenant }));
        reject('rate_limited', rateLimited(r));
      }
      for (const [k, v] of Object.entries(rateLimitHeaders(r))) c.header(k, v);
      c.set('tenant', tenant);
      c.set('access', access);
      await next();
    };

  /**
   * Audits a seal, compute or read once it is answered (errors included: probing shows too), with the
   * epoch id and CIDs the route recorded in the trail and the status.
   */
  const trail =
    (kind: 'seal' | 'compute' | 'read'): MiddlewareHandler<Env> =>
    async (c, next) => {
      const t: Trail = {};
      c.set('trail', t);
      await next();
      if (kind === 'compute') metrics.tenantComputes.inc({ tenant: accessOf(c).tenant, status: `${Math.floor(c.res.status / 100)}xx` });
      if (!deps.audit.enabled) return;
      deps.audit.write({ kind, tenant: accessOf(c).tenant, route: c.get('route'), corr_id: c.get('corrId'), at: new Date().toISOString(), ...t, status: c.res.status });
    };

  /** The body's media type: JSON, or (where the route takes it) an Arrow IPC stream; else 415. */
  const mediaType = (c: Context<Env>, acceptsArrow: boolean): string => {
    const type = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
    if (type === JSON_TYPE || (acceptsArrow && type === ARROW_MEDIA_TYPE)) return type;
    const valid = acceptsArrow ? `${JSON_TYPE} or ${ARROW_MEDIA_TYPE}` : JSON_TYPE;
    throw new AppError('UNSUPPORTED_MEDIA_TYPE', `the body must be ${valid}`, { reason: 'unsupported_media_type' });
  };

  const body = async (c: Context<Env>, maxBytes: number, ticket?: IntakeTicket, hasher?: Blake3Stream, spool?: BodySpool): Promise<Uint8Array | InputsFile> => {
    const s = deps.settings();
    try {
      // Only a client whose Expect reached us waits (server.ts takes over Node's automatic 100).
      const expect = c.env.incoming.headers.expect;
      const onContinue = expect !== undefined && expect.toLowerCase() === '100-continue' ? () => c.env.outgoing.writeContinue() : undefined;
      return await readBodyOrSpool(c.env.incoming, {
        maxBytes,
        decompRatioMax: s.decompRatioMax,
        maxDecodedBytes: maxBytes,
        ...(onContinue === undefined ? {} : { onContinue }),
        ...(ticket ? { intake: ticket } : {}),
        ...(hasher ? { onData: (piece: Uint8Array) => hasher.update(piece) } : {}),
      }, spool);
    } catch (e) {
      if (e instanceof AppError && e.status === 413) metrics.rejected.inc({ reason: 'body_too_large' });
      if (e instanceof AppError && e.status === 415) metrics.rejected.inc({ reason: 'unsupported_encoding' });
      throw e;
    }
  };

  const param = (c: Context<Env>, name: string, schema: typeof digest | typeof idText): string => {
    const v = c.req.param(name) ?? '';
    // The schemas' own patterns, tested directly: zod's safeParse cost ~1 µs per request.
    if (!(schema === digest ? isDigest(v) : ID_RE.test(v))) {
      throw new AppError('BAD_REQUEST', `invalid ${name}`, { reason: 'invalid_path', param: name });
    }
    return v;
  };

  /**
   * The bound epoch named by the path, if the caller's programs include it: the one access check
   * of every epoch read. Outside the caller's programs the answer is the missing-epoch 404, given
   * before the store is asked.
   */
  const epochOf = async (c: Context<Env>) => {
    const epochId = param(c, 'epoch', idText);
    const t = c.get('trail');
    t.epoch_id = epochId;
    epochProgram(accessOf(c), epochId);
    const rec = await stores.getEpoch(epochId);
    if (rec === null) throw noSuchEpoch();
    t.inputs_cid = rec.inputsCid;
    t.policy_hash = rec.policyHash;
    return rec;
  };

  /** The sealing tenant and its quota: the token's own, else TENANT_STORE_MAX_BYTES. */
  const sealer = (c: Context<Env>) => {
    const access = accessOf(c);
    return { tenant: access.tenant, quotaBytes: access.storeMaxBytes ?? deps.settings().tenantStoreMaxBytes };
  };

  const api = new Hono<Env>();
  const computeBodies = deps.computeBodies ?? new ComputeBodies();

  const inputsCap = (s: AppSettings, arrow: boolean): number => (arrow ? (s.inputsArrowMaxBytes ?? DEFAULT_ARROW_MAX_BYTES_HTTP) : s.inputsMaxBytes);
  api.put('/inputs', route('/inputs'), guard('rewarder.seal'), trail('seal'), receive(inputsCap, { arrow: true, hash: true }), admit, async (c) => {
    const body = c.get('body');
    const file = c.get('bodyFile');
    // The media type says which form the body is; the core would take either by its first bytes.
    const declaredArrow = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() === ARROW_MEDIA_TYPE;
    if (declaredArrow !== isArrowStream(file?.head ?? body)) {
      throw docError({ path: '$', reason: declaredArrow ? 'the body is not an Arrow IPC stream (it must begin with 0xFFFFFFFF)' : `an Arrow IPC stream must be sent as ${ARROW_MEDIA_TYPE}` });
    }
    // A body with its own whole ArrayBuffer (any multi-chunk or inflated body) goes to the worker
    // and comes back, moved both ways; one sharing its buffer (a single socket chunk) is copied.
    // A spooled body is read from its file by the worker: no copy of it crosses this thread.
    const giveBack = file === undefined && ownsBuffer(body);
    const limits = deps.settings().docLimits;
    const task =
      file !== undefined
        ? ({ op: 'seal', bytes: EMPTY, file: { path: file.path, size: file.size }, limits, expect: 'rewarder.inputs/v1', cid: c.get('bodyCid') } as const)
        : ({ op: 'seal', bytes: giveBack ? body : ownCopy(body), limits, expect: 'rewarder.inputs/v1', giveBack, cid: c.get('bodyCid') } as const);
    const t0 = performance.now();
    const r = await pool.seal(task, c.req.raw.signal, schedulingTenantOf(c.get('tenant')));
    const t1 = performance.now();
    if (!r.ok) throw docError(r.error);
    if (r.schema !== 'rewarder.inputs/v1') throw internalError();
    const bytes = file !== undefined ? EMPTY : giveBack ? r.bytes : body;
    if (bytes === undefined) throw internalError();
    c.get('trail').inputs_cid = r.cid;
    const { tally } = r.prepared;
    const actors = actorCount(r.prepared);
    const created = await stores.putInputs(
      { cid: r.cid, bytes, ...(file === undefined ? {} : { file }), actors, events: tally.events, window: tally.window, poolMinor: tally.poolMinor.toString() },
      sealer(c),
    );
    deps.cache.set(r.cid, r.prepared);
    // Where a seal's time went (receive: the body's upload, hashed and copied as it came; seal: the
    // pool task that validates and prepares it; store): what bench:xl reports per phase.
    c.header('Server-Timing', `receive;dur=${c.get('receivedMs').toFixed(1)}, seal;dur=${(t1 - t0).toFixed(1)}, store;dur=${(performance.now() - t1).toFixed(1)}`);
    return c.json({ inputs_cid: r.cid, bytes: file?.size ?? bytes.length, actors, events: tally.events }, created ? 201 : 200);
  });

  api.get('/inputs/:cid', route('/inputs/:cid'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const cid = param(c, 'cid', digest);
    c.get('trail').inputs_cid = cid;
    const doc = await stores.getInputs(cid, accessOf(c).tenant);
    if (doc === null) throw noSuchInputs();
    if (doc.file !== undefined) {
      // Evicted (its file removed) since the lookup: as if it had not been found.
      if (doc.file.isRemoved) throw noSuchInputs();
      return exactFile(c, doc.file, doc.cid);
    }
    return exact(c, doc.bytes, doc.cid, isArrowStream(doc.bytes) ? ARROW_MEDIA_TYPE : JSON_TYPE);
  });

  api.put('/policies', route('/policies'), guard('rewarder.seal'), trail('seal'), receive((s) => s.reqBodyMaxBytes), admit, async (c) => {
    const bytes = c.get('body');
    const r = await pool.seal({ op: 'seal', bytes: ownCopy(bytes), limits: deps.settings().docLimits, expect: 'rewarder.policy/v1' }, c.req.raw.signal, schedulingTenantOf(c.get('tenant')));
    if (!r.ok) throw docError(r.error);
    if (r.schema !== 'rewarder.policy/v1') throw internalError();
    c.get('trail').policy_hash = r.cid;
    const created = await stores.putPolicy({ hash: r.cid, id: r.policyId, bytes }, sealer(c));
    return c.json({ policy_id: r.policyId, policy_hash: r.cid }, created ? 201 : 200);
  });

  api.get('/policies/:hash', route('/policies/:hash'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const hash = param(c, 'hash', digest);
    c.get('trail').policy_hash = hash;
    const doc = await stores.getPolicy(hash, accessOf(c).tenant);
    if (doc === null) throw noSuchPolicy();
    return exact(c, doc.bytes, doc.hash);
  });

  /**
   * Refuses a compute whose task could not be admitted (503 queue_wait) before its body is read and
   * parsed: under a storm of re-sends that ignore Retry-After, the refusals' own cost took the CPU
   * the compute worker needed. A compute for an epoch this replica knows as published is a replay
   * (no task) and goes through.
   */
  const shedBeforeBody: MiddlewareHandler<Env> = async (c, next) => {
    const id = c.req.param('epoch');
    if (id === undefined || !epochs.knownPublished(id)) epochs.refuseLongWait(schedulingTenantOf(c.get('tenant')));
    await next();
  };

  api.post('/epochs/:epoch/compute', route('/epochs/:epoch/compute'), guard('rewarder.run'), trail('compute'), shedBeforeBody, receive((s) => s.reqBodyMaxBytes), admit, async (c) => {
    const s = deps.settings();
    // The deadline starts at arrival, before the body is read: a slow upload spends its budget.
    const header = c.req.header('x-deadline');
    const queryMs = c.req.query('deadline_ms');
    const { perfMs: t0, wallMs: now } = c.get('arrival');
    const epochId = param(c, 'epoch', idText);
    const t = c.get('trail');
    t.epoch_id = epochId;
    const access = accessOf(c);
    const program = epochProgram(access, epochId);
    const req = computeBodies.parse(c.get('body'));
    t.inputs_cid = req.inputs_cid;
    t.policy_hash = req.policy_hash;
    // SPEC §13: superseding an epoch also needs rewarder.correct (rewarder.run does not imply it).
    if (req.supersedes !== undefined && deps.verifier !== null) {
      try {
        deps.verifier.verify(c.req.header('authorization'), 'rewarder.correct');
      } catch (e) {
        if (e instanceof AppError) metrics.authFailures.inc({ code: e.code });
        throw e;
      }
    }
    // Named fields: a spread followed by another member takes V8's slow path (~0.8 µs, 1-2 % of
    // a replayed compute's server time).
    const deadline = resolveDeadline(
      { header, queryMs, bodyMs: req.deadline_ms },
      { defaultMs: s.defaultDeadlineMs, maxMs: s.maxDeadlineMs },
      now,
      t0,
    );
    if (deadline.remaining() <= 0) {
      metrics.rejected.inc({ reason: 'deadline_on_arrival' });
      metrics.deadlineEnforced.inc({ stage: 'arrival' });
      const late = deadline.exceeded('arrival');
      metrics.deadlineExceededBy.observe(Number(late.details.exceeded_by_ms) / 1000);
      throw late;
    }
    let out;
    try {
      // The adapter makes the request's AbortSignal on first access, and aborts it when the
      // client leaves; a replay never asks for it.
      out = await epochs.compute(epochId, req, deadline, () => c.req.raw.signal, c.get('corrId'), { tenant: schedulingTenantOf(access.tenant), program });
    } catch (e) {
      if (e instanceof AppError && e.code === 'DEADLINE_EXCEEDED' && e.details.reason !== 'deadline_estimate') {
        metrics.deadlineEnforced.inc({ stage: 'aborted' });
        metrics.deadlineExceededBy.observe(Number(e.details.exceeded_by_ms ?? 0) / 1000);
      }
      throw e;
    }
    c.header('Content-Type', JSON_TYPE);
    const timing = Object.entries(out.timing);
    if (timing.length > 0) c.header('Server-Timing', timing.map(([k, v]) => `${k};dur=${v.toFixed(1)}`).join(', '));
    if (out.replayed) c.header('Idempotent-Replayed', 'true');
    return c.body(out.body as Uint8Array<ArrayBuffer>, out.status);
  });

  // What a candidate policy (or inputs) would pay for a bound epoch, against what it pays: computed
  // like a dry run (nothing bound or sent), compared in the same pool task.
  api.post('/epochs/:epoch/preview', route('/epochs/:epoch/preview'), guard('rewarder.run'), trail('read'), receive((s) => s.reqBodyMaxBytes), admit, async (c) => {
    const s = deps.settings();
    const { perfMs: t0, wallMs: now } = c.get('arrival');
    // The bound epoch, if the caller's programs include it (else the missing-epoch 404).
    const rec = await epochOf(c);
    const req = validateBody(c.get('body'), previewRequest, 'the preview request is invalid');
    const deadline = resolveDeadline(
      { header: c.req.header('x-deadline'), queryMs: c.req.query('deadline_ms'), bodyMs: req.deadline_ms },
      { defaultMs: s.defaultDeadlineMs, maxMs: s.maxDeadlineMs },
      now,
      t0,
    );
    if (deadline.remaining() <= 0) throw deadline.exceeded('arrival');
    const access = accessOf(c);
    const out = await previews.preview(rec, req, deadline, c.req.raw.signal, { tenant: access.tenant, scheduling: schedulingTenantOf(access.tenant) });
    c.header('Content-Type', JSON_TYPE);
    c.header('Server-Timing', Object.entries(out.timing).map(([k, v]) => `${k};dur=${v.toFixed(1)}`).join(', '));
    return c.body(out.body as Uint8Array<ArrayBuffer>);
  });

  api.get('/epochs/:epoch', route('/epochs/:epoch'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const rec = await epochOf(c);
    if (rec.evicted === true && c.req.header('if-none-match') === `"${rec.commitment}"`) return exact(c, rec.manifest, rec.commitment);
    return exact(c, await epochs.manifestOf(rec, c.req.raw.signal, schedulingTenantOf(c.get('tenant'))), rec.commitment);
  });

  api.get('/epochs/:epoch/attestation', route('/epochs/:epoch/attestation'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const rec = await epochOf(c);
    if (rec.attestation === null) throw new AppError('NOT_FOUND', 'signing is off: no attestation', { reason: 'signing_off' });
    return exact(c, rec.attestation, rec.commitment);
  });

  // SPEC §13: a superseding epoch's correction document, once its basis is fixed (ETag: its commitment).
  const correctionOf = (rec: EpochRecord): { doc: Uint8Array; commitment: string } => {
    const doc = rec.correction ?? null;
    if (doc === null) {
      const reason = (rec.supersedes ?? null) === null ? 'not_superseding' : rec.basis === 'awaiting' ? 'basis_awaited' : 'settled_plainly';
      throw new AppError('NOT_FOUND', 'this epoch has no correction document', { reason });
    }
    return { doc, commitment: parseCorrection(doc).correction_commitment };
  };
  api.get('/epochs/:epoch/correction', route('/epochs/:epoch/correction'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const { doc, commitment } = correctionOf(await epochOf(c));
    return exact(c, doc, commitment);
  });
  api.get('/epochs/:epoch/correction/attestation', route('/epochs/:epoch/correction/attestation'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const rec = await epochOf(c);
    const { commitment } = correctionOf(rec);
    const signed = rec.correctionAttestation ?? null;
    if (signed === null) throw new AppError('NOT_FOUND', 'signing is off: no attestation', { reason: 'signing_off' });
    return exact(c, signed, commitment);
  });

  api.get('/epochs/:epoch/ledger', route('/epochs/:epoch/ledger'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const rec = await epochOf(c);
    const epochId = rec.epochId;
    const parts = await stores.partsOf(epochId);
    const awaiting = rec.basis === 'awaiting' && (rec.supersededBy ?? null) === null;
    return c.json({
      epoch_id: epochId,
      run_key: rec.runKey,
      state: awaiting ? 'awaiting_basis' : summarise(parts.map((p) => p.state)),
      hold_until: (rec.holdUntil ?? 0) > 0 ? new Date(rec.holdUntil as number).toISOString() : null,
      supersedes: rec.supersedes ?? null,
      superseded_by: rec.supersededBy ?? null,
      degraded: deps.ledgerDegraded(),
      parts: parts.map((p) => ({
        part_id: p.partId,
        index: p.index,
        count: p.count,
        state: p.state,
        attempts: p.attempts,
        last_error: p.lastError,
      })),
    });
  });

  api.get('/epochs/:epoch/payouts/:actor', route('/epochs/:epoch/payouts/:actor'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const epochId = param(c, 'epoch', idText);
    c.get('trail').epoch_id = epochId;
    // SPEC §10 before any cache or store: another program's epoch is the missing-epoch 404.
    epochProgram(accessOf(c), epochId);
    const index = proofs.ofEpoch(epochId) ?? (await indexOf(c));
    const proof = proveFromIndex(index, c.req.param('actor'));
    if (proof === null) throw new AppError('NOT_FOUND', 'that actor is not a payee of this epoch', { reason: 'not_a_payee' });
    return c.json(proof);
  });

  /** The proof index of a published epoch: built once per manifest in a worker (O(n)), then kept. */
  async function indexOf(c: Context<Env>): Promise<ProofIndex> {
    return indexOfRun(c, await epochOf(c));
  }

  /** The proof index of a bound run the caller may read (epochOf checked it). */
  function indexOfRun(c: Context<Env>, rec: EpochRecord): Promise<ProofIndex> {
    return proofs.get(rec.commitment, async () => {
      const manifest = await epochs.manifestOf(rec, AbortSignal.timeout(PROOF_INDEX_BUILD_MS), schedulingTenantOf(c.get('tenant')));
      const r = await pool.proofIndex({ op: 'proof-index', manifest: ownCopy(manifest) }, AbortSignal.timeout(PROOF_INDEX_BUILD_MS), schedulingTenantOf(c.get('tenant')));
      if (!r.ok) throw internalError();
      return r.index;
    });
  }

  // Why an actor got what it got (SPEC §11), paid or not: the same bytes as `rewarder explain`.
  api.get('/epochs/:epoch/explain/:actor', route('/epochs/:epoch/explain/:actor'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const rec = await epochOf(c);
    const actor = c.req.param('actor');
    if (!actor.isWellFormed() || actorIdProblem(actor, false) !== null) {
      throw new AppError('BAD_REQUEST', 'invalid actor', { reason: 'invalid_path', param: 'actor' });
    }
    const tenant = schedulingTenantOf(c.get('tenant'));
    const index = await indexOfRun(c, rec);
    const bytes = await explanations.explain(rec, actor, index, AbortSignal.timeout(PROOF_INDEX_BUILD_MS), tenant);
    c.header('Content-Type', JSON_TYPE);
    return c.body(bytes as Uint8Array<ArrayBuffer>);
  });

  // SPEC §12 exports, derived from the manifest in a pool worker (a million payees' claim tree is
  // seconds of keccak): epoch reads like the others, under the same scope and guard.
  const exportOf = async (c: Context<Env>, format: 'csv' | 'oz-tree'): Promise<Uint8Array[]> => {
    // The program check first (SPEC §10): another program's epoch is a 404 like a missing one.
    const rec = await epochOf(c);
    const manifest = await epochs.manifestOf(rec, c.req.raw.signal, schedulingTenantOf(c.get('tenant')));
    const r = await pool.exportManifest({ op: 'export', format, manifest: ownCopy(manifest) }, c.req.raw.signal, schedulingTenantOf(c.get('tenant')));
    if (r.ok) return r.pieces;
    if (r.reason === 'no_payees') throw new AppError('NOT_FOUND', 'an epoch without payees has no claim tree', { reason: 'no_payees' });
    throw internalError();
  };

  api.get('/epochs/:epoch/export.csv', route('/epochs/:epoch/export.csv'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    return streamed(c, await exportOf(c, 'csv'), CSV_TYPE);
  });

  api.get('/epochs/:epoch/claims', route('/epochs/:epoch/claims'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    return streamed(c, await exportOf(c, 'oz-tree'), JSON_TYPE);
  });

  api.get('/programs/:program/epochs', route('/programs/:program/epochs'), admit, guard('rewarder.inspect'), trail('read'), async (c) => {
    const program = c.req.param('program') ?? '';
    if (!PROGRAM_RE.test(program)) throw new AppError('BAD_REQUEST', 'invalid program', { reason: 'invalid_path', param: 'program' });
    c.get('trail').program = program;
    if (!grants(accessOf(c), program)) throw noSuchProgram();
    const after = c.req.query('after');
    if (after !== undefined && !ID_RE.test(after)) throw new AppError('BAD_REQUEST', 'invalid after', { reason: 'invalid_query', param: 'after' });
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? LIST_DEFAULT : /^[1-9][0-9]{0,3}$/.test(limitText) ? Number(limitText) : 0;
    if (limit < 1 || limit > LIST_MAX) throw new AppError('BAD_REQUEST', `limit must be an integer from 1 to ${LIST_MAX}`, { reason: 'invalid_query', param: 'limit' });
    const page = await stores.listEpochs(program, after ?? null, limit + 1);
    if (page === null) throw new AppError('BAD_REQUEST', 'after names no bound epoch of this program', { reason: 'invalid_cursor', param: 'after' });
    const shown = page.slice(0, limit);
    const epochsOut = await Promise.all(
      shown.map(async (e) => {
        const parts = await stores.partsOf(e.epochId);
        return {
          epoch_id: e.epochId,
          window: { start_ms: e.window.startMs, end_ms: e.window.endMs },
          inputs_cid: e.inputsCid,
          policy_hash: e.policyHash,
          commitment: e.commitment,
          payees: e.payees,
          payout_minor: e.payoutMinor,
          ledger: { state: e.basis === 'awaiting' && (e.supersededBy ?? null) === null ? 'awaiting_basis' : summarise(parts.map((p) => p.state)), parts: parts.length },
          bound: { tenant: e.tenant, corr_id: e.corrId === '' ? null : e.corrId, at: new Date(e.boundAt).toISOString() },
        };
      }),
    );
    return c.json({ epochs: epochsOut, next: page.length > limit ? (shown[shown.length - 1]?.epochId ?? null) : null });
  });

  // Operators re-drive parts the ledger refused permanently (state `failed`), once the cause is
  // fixed (RUNBOOK, "Ledger parts failed"): they go back to `pending` and the drainer sends them
  // again with the same body, so a part the ledger did take after all comes back as a `dup`.
  api.post('/admin/ledger/redrive', route('/admin/ledger/redrive'), admit, guard('rewarder.admin'), async (c) => {
    const given = c.req.query('epoch_id');
    if (given !== undefined && !ID_RE.test(given)) {
      throw new AppError('BAD_REQUEST', 'invalid epoch_id', { reason: 'invalid_query', param: 'epoch_id' });
    }
    // SPEC §10: one epoch only within the token's programs (else the missing-epoch 404); every
    // program's parts only with a token holding all of them.
    const access = accessOf(c);
    if (given !== undefined) epochProgram(access, given);
    else if (!grants(access, '*')) {
      throw new AppError('FORBIDDEN', 'a re-drive of every epoch needs a token holding every program ("*"); name one epoch_id', { reason: 'all_programs_required' });
    }
    const redriven = await stores.redriveFailed(given);
    metrics.ledgerRedriven.inc(redriven);
    deps.logger.warn({ event: 'LedgerRedrive', epoch_id: given ?? null, redriven, tenant: c.get('tenant'), corr_id: c.get('corrId') }, 'failed ledger parts re-driven by an operator');
    return c.json({ redriven, ...(given === undefined ? {} : { epoch_id: given }) });
  });

  // Operations: open, outside the in-flight cap so they answer under overload.
  api.get('/healthz', route('/healthz'), (c) => c.json({ ok: true }));

  api.get('/readyz', route('/readyz'), async (c) => {
    const causes: string[] = [];
    const sat = pool.saturation();
    if (deps.state.leaving || deps.state.shuttingDown) causes.push('shutting_down');
    if (!pool.isStarted) causes.push('pool_not_started');
    if (sat.queueDepth > 0.8 * sat.queueMax) causes.push('queue_above_80_percent');
    if (sat.breakerOpenForMs > 0) causes.push('compute_breaker_open');
    const up = deps.storeHealthy ? deps.storeHealthy() : stores.healthy().catch(() => false);
    if (!(typeof up === 'boolean' ? up : await up)) causes.push('store_down');
    // Evictable bytes make room by themselves; only what is pinned (unsettled runs) can fill it.
    const fill = deps.storeFill?.();
    if (fill && fill.pinnedBytes > STORE_PINNED_DEGRADED * fill.maxBytes) causes.push('store_nearly_full');
    if (causes.length === 0) return c.json({ degraded: false, causes });
    const retryAfter = Math.max(1, Math.ceil(sat.breakerOpenForMs / 1000));
    c.header('Retry-After', String(retryAfter));
    return c.json({ degraded: true, causes, retry_after: retryAfter }, 503);
  });

  api.get('/metrics', route('/metrics'), async (c) => {
    c.header('Content-Type', metrics.registry.contentType);
    return c.body(await metrics.registry.metrics());
  });

  api.get('/version', route('/version'), (c) => c.json(deps.version));
  // Built per request: the signing thread reports the keys after the app is built.
  api.get('/keys', route('/keys'), (c) => c.json(deps.keys ? keysDocument(deps.keys) : { keys: [] }));
  const openapi = openApiDocument();
  api.get('/openapi.json', route('/openapi.json'), (c) => c.json(openapi));

  app.route('/rewarder', api);
  app.route('/', api);
  return app;
}

/** Stored bytes exactly as sealed, with a strong ETag and conditional GET. */
function exact(c: Context<Env>, bytes: Uint8Array, tag: string, type = JSON_TYPE): Response {
  const etag = `"${tag}"`;
  c.header('ETag', etag);
  cachePrivately(c);
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  c.header('Content-Type', type);
  return c.body(bytes as Uint8Array<ArrayBuffer>);
}

/**
 * A document kept as a file (a spooled Arrow upload), answered as exact() answers its bytes:
 * streamed from the file with its length, strong ETag and conditional GET. The file is held open
 * from here until the stream ends, so an eviction meanwhile cannot cut the answer short.
 */
function exactFile(c: Context<Env>, file: InputsFile, tag: string): Response {
  const etag = `"${tag}"`;
  c.header('ETag', etag);
  cachePrivately(c);
  if (c.req.header('if-none-match') === etag) return c.body(null, 304);
  c.header('Content-Type', isArrowStream(file.head) ? ARROW_MEDIA_TYPE : JSON_TYPE);
  c.header('Content-Length', String(file.size));
  return c.body(pulled(file.stream()));
}

const EMPTY = new Uint8Array(0);

/**
 * A copy with its own ArrayBuffer, for transferring to a worker while the original is stored.
 * Not `bytes.slice()`: on a Node Buffer (what a multi-chunk body is) slice is a view, and
 * transferring its buffer would detach the stored document (and any pooled memory around it).
 */
function ownCopy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes);
}

/** True when `bytes` is the whole of a plain ArrayBuffer: transferring it moves nothing else. */
function ownsBuffer(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.byteLength > 0;
}

function declaredLength(header: string | undefined): number | undefined {
  if (header === undefined || !/^\d+$/.test(header.trim())) return undefined;
  const n = Number(header.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

function docError(e: { path: string; reason: string }): AppError {
  return new AppError('BAD_REQUEST', `invalid document: ${formatDocError(e)}`, { reason: 'invalid_document', path: e.path, problem: e.reason });
}
