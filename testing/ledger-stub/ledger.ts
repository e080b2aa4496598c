// The stub ledger's state (records, counters, faults, PRNG) and its one real endpoint,
// POST /v1/intents (SPEC §7). Order per request: draw the fate at arrival, read the body, apply the
// fault verdict (delay, 503, hang, injected error), then authenticate, validate and dedupe; a
// fault therefore never records anything, except reset_after_commit, which records first on purpose.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { applyPatch, createRng, decide, drawFate, noFaults, parseFaultsPatch, type CannedAnswer, type Faults, type Rng, type Verdict } from './faults.js';
import { BodyPool, BodyTooLarge, header, pause, readBody, sendJson, sendTooLarge } from './http.js';
import { type Balance, Balances, readKind } from './balances.js';
import { readIntent } from './intent.js';
import { PartStore, zeroCounters, type Counters, type PartFilter, type PartRecord } from './store.js';

/** A full part (4096 credits, actor ids up to 256 bytes) is about 1.3 MB: ample room, still bounded. */
const MAX_INTENT_BYTES = 16 * 1024 * 1024;
const STATUS: Record<'accepted' | 'dup' | 'conflict', number> = { accepted: 201, dup: 200, conflict: 409 };

export interface FaultsView extends Faults {
  /** Where the outage windows' clock stands now. */
  outage_elapsed_ms: number;
}

export interface Stats extends Counters {
  seed: number;
  uptime_ms: number;
  parts: number;
}

export interface LedgerOptions {
  seed: number;
  token?: string | undefined;
  faults?: Faults | undefined;
}

export class Ledger {
  readonly #seed: number;
  readonly #tokenDigest: Buffer | null;
  readonly #startedAt = performance.now();
  readonly #store = new PartStore();
  readonly #bodies = new BodyPool();
  readonly #balances = new Balances();
  #counters = zeroCounters();
  #rng: Rng;
  #faults: Faults;
  #outageOrigin = performance.now();

  constructor(opts: LedgerOptions) {
    this.#seed = opts.seed;
    this.#rng = createRng(opts.seed);
    this.#faults = opts.faults ?? noFaults();
    // Compare fixed-length digests: timingSafeEqual throws on unequal lengths.
    this.#tokenDigest = opts.token === undefined ? null : sha256(opts.token);
  }

  faults(): FaultsView {
    return { ...applyPatch(this.#faults, {}), outage_elapsed_ms: Math.floor(performance.now() - this.#outageOrigin) };
  }

  /** Validates and merges `patch`; setting `outage_windows` restarts their clock. Throws on invalid input. */
  setFaults(patch: unknown): FaultsView {
    const valid = parseFaultsPatch(patch);
    this.#faults = applyPatch(this.#faults, valid);
    if (valid.outage_windows !== undefined) this.#outageOrigin = performance.now();
    return this.faults();
  }

  clearFaults(): FaultsView {
    this.#faults = noFaults();
    return this.faults();
  }

  stats(): Stats {
    return {
      seed: this.#seed,
      uptime_ms: Math.floor(performance.now() - this.#startedAt),
      parts: this.#store.size,
      ...this.#counters,
    };
  }

  parts(filter?: PartFilter): PartRecord[] {
    return this.#store.list(filter);
  }

  /** Per-actor net balances over every accepted part (credits, and correction entries ±). */
  balances(actor?: string): Balance[] {
    return this.#balances.list(actor);
  }

  /** Forgets records and counters and restarts the PRNG, so a reset run replays like a fresh process. */
  reset(): void {
    this.#store.clear();
    this.#balances.clear();
    this.#counters = zeroCounters();
    this.#rng = createRng(this.#seed);
  }

  async handleIntent(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const counters = this.#counters;
    counters.requests_total += 1;
    // Decided before the first await, so fates follow arrival order even with concurrent requests.
    const verdict = decide(this.#faults, drawFate(this.#rng), performance.now() - this.#outageOrigin);

    let body: Buffer;
    try {
      body = await readBody(req, MAX_INTENT_BYTES, this.#bodies);
    } catch (err) {
      if (!(err instanceof BodyTooLarge)) return; // the client went away mid-body
      counters.bad_request += 1;
      sendTooLarge(res);
      return;
    }
    try {
      await this.#answerIntent(req, res, counters, verdict, body);
    } finally {
      this.#bodies.give(body);
    }
  }

  /** The rest of handleIntent once the body is read; `counters` are those of the request's arrival. */
  async #answerIntent(req: IncomingMessage, res: ServerResponse, counters: Counters, verdict: Verdict, body: Buffer): Promise<void> {
    if (verdict.action === 'hang') {
      // No timer, no answer: the socket lives until the client gives up or the stub closes.
      counters.hung += 1;
      return;
    }
    if (!(await pause(verdict.delayMs, res))) return;

    if (verdict.action === 'unavailable') {
      counters.unavailable += 1;
      sendJson(res, 503, { result: 'unavailable' });
      return;
    }
    if (verdict.action === 'error') {
      counters.errors_injected += 1;
      sendJson(res, verdict.status, { result: 'error', reason: 'injected' });
      return;
    }
    if (verdict.action === 'canned') {
      counters.canned += 1;
      sendCanned(res, verdict.answer);
      return;
    }

    if (!this.#authorized(header(req, 'authorization'))) {
      counters.unauthorized += 1;
      sendJson(res, 401, { result: 'error', reason: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
      return;
    }
    const type = header(req, 'content-type') ?? '';
    if (!/^application\/json\s*(;|$)/i.test(type)) {
      counters.bad_request += 1;
      sendJson(res, 415, { result: 'error', reason: 'content_type' });
      return;
    }
    const reading = readIntent(body, header(req, 'idempotency-key'));
    if (!reading.ok) {
      counters.bad_request += 1;
      sendJson(res, 400, { result: 'error', reason: reading.reason });
      return;
    }
    const kind = readKind(body);
    if (kind.kind === 'error') {
      counters.bad_request += 1;
      sendJson(res, 400, { result: 'error', reason: kind.reason });
      return;
    }

    const outcome = this.#store.commit(
      reading.intent,
      {
        kind: kind.kind,
        entries: kind.kind === 'correction' ? kind.entries : 0,
        x_deadline: header(req, 'x-deadline') ?? null,
        x_corr_id: header(req, 'x-corr-id') ?? null,
      },
      new Date(),
    );
    counters[outcome] += 1;
    if (outcome === 'accepted') this.#balances.record(body);
    if (outcome === 'accepted' && verdict.resetAfterCommit) {
      // The ambiguous acknowledgement: committed here, yet the client only sees a TCP reset.
      counters.reset_after_commit += 1;
      req.socket.resetAndDestroy();
      return;
    }
    sendJson(res, STATUS[outcome], { result: outcome });
  }

  #authorized(authorization: string | undefined): boolean {
    if (this.#tokenDigest === null) return true;
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? '');
    return match?.[1] !== undefined && timingSafeEqual(sha256(match[1]), this.#tokenDigest);
  }
}

/** The `canned_answer` fault: answers outside SPEC §7, or a JSON 422 refusal; nothing is recorded. */
function sendCanned(res: ServerResponse, answer: Exclude<CannedAnswer, 'none'>): void {
  switch (answer) {
    case 'html-200': {
      const page = '<!doctype html><html><body><h1>Welcome</h1><p>Please sign in.</p></body></html>';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': String(Buffer.byteLength(page)) });
      res.end(page);
      return;
    }
    case 'empty-202':
      res.writeHead(202, { 'content-length': '0' }).end();
      return;
    case 'empty-204':
      res.writeHead(204).end();
      return;
    case 'redirect-302':
      res.writeHead(302, { location: '/login', 'content-length': '0' }).end();
      return;
    case 'json-401':
      sendJson(res, 401, { result: 'error', reason: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
      return;
    case 'json-422':
      sendJson(res, 422, { result: 'error', reason: 'refused' });
      return;
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
