// The replay shortcut (issue 16): a compute request repeating a settled binding, answered in Node's
// request listener before the Hono app, with the stored bytes.
//
// A replay's answer is already stored; what it must still pass is every check a request passes:
// authentication and scope, the epoch's program against the token (SPEC §10), ownership of both
// documents, the tenant's rate limit, the drain and the in-flight cap, the duplicate Host refusal,
// and its audit lines and metrics. Through the app those cost ~3× the request itself (Hono's
// context and middleware chain, a web Headers object per answer, async hops in every layer). Here
// the same checks run synchronously, through the same functions the app uses (the verifier, the
// limiter, tenancy's epochProgram, EpochService.settledReplay, the app's memo of validated
// bodies), and the answer is written with one writeHead and one end.
//
// It answers only the plain success: anything else goes to the app untouched, which then decides
// (and refuses, audits and counts) exactly as without the shortcut. Falls through when:
//   - the request is not `POST /epochs/{id}/compute` (or under /rewarder) with no query, a JSON
//     media type, a Content-Length within the memo's size and the route's cap, and none of
//     Content-Encoding, Transfer-Encoding, Expect, X-Deadline, or a second Host;
//   - the body has not fully arrived with the headers (the app's intake then receives it);
//   - the body is not one the app has already validated (ComputeBodies.known), or asks for a
//     deadline_ms of 0 (a 504 on arrival);
//   - the token is missing, unknown or lacks the scope, or the epoch's program is invalid or not
//     granted to it; the service is shutting down or MAX_INFLIGHT requests are in flight;
//   - EpochService.settledReplay does not know the answer (not owned, not settled, other triple);
//   - the tenant's bucket is empty (a refused take spends nothing, so the app's own take refuses
//     it again and answers the 429).
// A body the shortcut has read is put back (`unshift`) before the app sees the request, so the
// app's reader, intake and caps see it as they would have.
//
// A request it answers takes no place in the body intake (a body complete on arrival never does,
// intake.ts) and no in-flight slot (it never waits for anything).

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ID_RE } from '../core/rules.js';
import type { Metrics } from '../metrics.js';
import type { EpochService } from '../service/epochs.js';
import type { AppSettings } from './app.js';
import type { AuditSink } from './audit.js';
import type { TokenVerifier } from './auth.js';
import type { ComputeBodies } from './compute-body.js';
import type { TenantRateLimiter } from './rate-limit.js';
import { ANONYMOUS_ACCESS, type Access, epochProgram } from './tenancy.js';

export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface ReplayShortcutDeps {
  settings: () => AppSettings;
  epochs: EpochService;
  metrics: Metrics;
  /** null in development mode (AUTH=off). */
  verifier: TokenVerifier | null;
  rateLimiter: TenantRateLimiter;
  audit: AuditSink;
  /** The app's memo of validated compute bodies (the same instance, so the app's validation counts here). */
  computeBodies: ComputeBodies;
  state: { inflight: number; shuttingDown: boolean };
}

const ROUTE = '/epochs/:epoch/compute';
const COMPUTE_PATH = /^(?:\/rewarder)?\/epochs\/([A-Za-z0-9._:-]{1,128})\/compute$/;
const CORR_RE = /^[A-Za-z0-9._:-]{1,128}$/;
/** Bodies longer than the memo keeps are never replays it can recognise. */
const BODY_MAX = 2048;
const JSON_TYPE = 'application/json';
/** Hosts @hono/node-server builds a URL from (its own fast pattern, with any port up to 65535). */
const VALID_HOST = /^[a-z0-9._-]+(?::([0-9]{1,5}))?$/;

export class ReplayShortcut {
  /** Requests answered here (for tests and benchmarks). */
  answered = 0;
  /** Candidates looked at a tick after their headers and handed on to the app (for tests). */
  handedOn = 0;

  constructor(private readonly deps: ReplayShortcutDeps) {}

  /** `app` with replays of settled bindings answered in front of it. */
  wrap(app: RequestListener): RequestListener {
    return (req, res) => {
      const declared = this.candidate(req);
      if (declared < 0) return app(req, res);
      // The body is parsed from the same socket read as the headers, right after this listener
      // returns: a tick later it is all buffered, or it is still arriving (then the app reads it).
      process.nextTick(this.settle, this, req, res, app, declared);
    };
  }

  private settle(this: void, self: ReplayShortcut, req: IncomingMessage, res: ServerResponse, app: RequestListener, declared: number): void {
    if (self.answer(req, res, declared)) return;
    self.handedOn++;
    app(req, res);
  }

  /** The declared body length if the request's line and headers allow a shortcut, else -1. */
  private candidate(req: IncomingMessage): number {
    if (req.method !== 'POST') return -1;
    const url = req.url;
    if (url === undefined || !url.endsWith('/compute')) return -1;
    const h = req.headers;
    if (h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined || h.expect !== undefined || h['x-deadline'] !== undefined) return -1;
    const type = h['content-type'];
    if (type === undefined || (type !== JSON_TYPE && type.split(';')[0]?.trim().toLowerCase() !== JSON_TYPE)) return -1;
    const length = h['content-length'];
    if (length === undefined || !/^[0-9]{1,4}$/.test(length)) return -1;
    const n = Number(length);
    if (n === 0 || n > BODY_MAX || n > this.deps.settings().reqBodyMaxBytes) return -1;
    // The adapter refuses a Host it cannot build a URL from; the app refuses a second Host, and
    // joins repeated Content-Type or Authorization lines (Node keeps the first) into a value it
    // refuses. The shortcut takes none of these.
    const host = h.host === undefined ? null : VALID_HOST.exec(h.host);
    if (host === null || Number(host[1] ?? 0) > 65_535 || repeatsAny(req.rawHeaders)) return -1;
    return n;
  }

  /** Answers the request if it is a replay the shortcut may answer; false (body put back) otherwise. */
  private answer(req: IncomingMessage, res: ServerResponse, declared: number): boolean {
    // All the declared bytes are buffered: the body is whole (Node's parser sets `complete` only
    // a little later, and never buffers past Content-Length).
    if (req.readableLength !== declared) return false;
    const epochId = COMPUTE_PATH.exec(req.url as string)?.[1];
    if (epochId === undefined) return false;
    const body = req.read() as Buffer | null;
    if (body === null) return false;
    if (this.serve(req, res, epochId, body)) return true;
    req.unshift(body);
    return false;
  }

  private serve(req: IncomingMessage, res: ServerResponse, epochId: string, body: Buffer): boolean {
    const t0 = performance.now();
    const { deps } = this;
    const computeReq = deps.computeBodies.known(body);
    if (computeReq === undefined || computeReq.deadline_ms === 0) return false;
    const header = req.headers.authorization;
    let access: Access = ANONYMOUS_ACCESS;
    if (deps.verifier !== null) {
      try {
        access = deps.verifier.verify(header, 'rewarder.run');
      } catch {
        return false; // the app refuses it, with its metrics and audit line
      }
    }
    if (!ID_RE.test(epochId)) return false;
    try {
      epochProgram(access, epochId); // SPEC §10's one rule: another program's epoch is the app's 404
    } catch {
      return false;
    }
    const state = deps.state;
    if (state.shuttingDown || state.inflight >= deps.settings().maxInflight) return false;
    const tenant = access.tenant;
    const out = deps.epochs.settledReplay(epochId, computeReq, tenant);
    if (out === undefined) return false;
    const r = deps.rateLimiter.take(tenant);
    if (!r.ok) return false;
    deps.metrics.runs.inc({ status: 'replayed' });
    // Answered here from now on. The same headers as the app's answer, in its order.
    const given = req.headers['x-corr-id'];
    const corrId = typeof given === 'string' && CORR_RE.test(given) ? given : randomUUID();
    res.writeHead(out.status, [
      'cache-control', 'no-store',
      'content-type', JSON_TYPE,
      'idempotent-replayed', 'true',
      'x-content-type-options', 'nosniff',
      'x-corr-id', corrId,
      'x-ratelimit-limit', String(r.limit),
      'x-ratelimit-remaining', String(r.remaining),
      'Content-Length', String(out.body.byteLength),
    ]);
    res.end(out.body);
    this.answered++;
    const status = String(out.status);
    deps.metrics.tenantComputes.inc({ tenant, status: `${status[0]}xx` });
    if (deps.audit.enabled) {
      const at = new Date().toISOString();
      if (deps.verifier !== null) {
        const who = deps.verifier.identify(header);
        deps.audit.write({ kind: 'auth_ok', tenant: who.tenant, token_fp: who.fingerprint, route: ROUTE, corr_id: corrId, at });
      }
      deps.audit.write({
        kind: 'compute',
        tenant,
        route: ROUTE,
        corr_id: corrId,
        at,
        epoch_id: epochId,
        inputs_cid: computeReq.inputs_cid,
        policy_hash: computeReq.policy_hash,
        status: out.status,
      });
    }
    deps.metrics.httpDuration.observe({ route: ROUTE, method: 'POST', status }, (performance.now() - t0) / 1000);
    return true;
  }
}

/** True if Host, Content-Type or Authorization comes more than once (rawHeaders: name, value, name, value…). */
function repeatsAny(raw: readonly string[]): boolean {
  let host = 0;
  let type = 0;
  let auth = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4) host += name.toLowerCase() === 'host' ? 1 : 0;
    else if (name.length === 12) type += name.toLowerCase() === 'content-type' ? 1 : 0;
    else if (name.length === 13) auth += name.toLowerCase() === 'authorization' ? 1 : 0;
  }
  return host > 1 || type > 1 || auth > 1;
}
