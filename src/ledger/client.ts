// The one outbound client for the ledger (SPEC §7), on p-retry. It retries what is retryable
// (429, 5xx, timeouts, resets) with the same part_id and the same bytes, stops on what is not
// (409 conflict: never retried, alerts; other 4xx: permanent), and bounds every attempt by a
// timeout from the deadline. A timeout means "unknown", never "failed": the caller keeps the part.
//
// An answer counts only in SPEC §7's own words: an acknowledgement is 201 `{"result":"accepted"}`
// or 200 `{"result":"dup"}`, a conflict is 409 `{"result":"conflict"}`, a permanent refusal is a
// 4xx whose body is the ledger's JSON. Anything else (an HTML page with 200, 202, 204, 3xx, 401,
// 403, 407, a 4xx page from a proxy) is *unexpected*: a misconfigured or hijacked ledger must
// neither look like success nor lose parts forever, so it is retried like a 5xx and reported to
// `onUnexpected` (an alert metric), and the part stays open until a real answer comes.
//
// The transport is node:http(s) on a keep-alive agent, not fetch: a run at M posts ~500 KB in 3
// parts while its client waits, and fetch wraps every body in a web stream (a copy of the bytes)
// and every attempt in Request/Response/AbortSignal objects: ~1.8 ms of main-thread CPU per 250 KB
// part measured here against ~0.4 ms for `request.end(body)`, which hands the exact bytes to the
// socket. On a small box that CPU is taken from the compute worker (PERFORMANCE.md, Settlement).

import { Agent as HttpAgent, type IncomingMessage, type OutgoingHttpHeaders, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import pRetry, { AbortError } from 'p-retry';
import type { OutboxPart } from '../stores/types.js';

export type SendResult =
  | { result: 'accepted' | 'dup'; attempts: number; latencyMs: number }
  | { result: 'conflict' | 'failed'; attempts: number; error: string }
  | { result: 'unknown'; attempts: number; error: string }
  /** The request's own deadline ran out first: says nothing about the ledger's health. */
  | { result: 'deadline'; attempts: number; error: string };

export interface LedgerClientOptions {
  url: string;
  token?: string | undefined;
  maxRetries: number;
  /** Per-attempt budget; also caps the X-Deadline sent. */
  attemptMs: number;
  /** Each attempt's latency and whether it got a healthy answer (not 429/5xx), for the health tracker. */
  observe?: (latencyMs: number, answered: boolean) => void;
  minBackoffMs?: number;
  /** An answer that is not a SPEC §7 answer (status and a short reason, never the body): alert. */
  onUnexpected?: (status: number, reason: string) => void;
}

/** An exchange's answer: its status, media type and the first bytes of its body. */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

/** A §7 answer is a tiny JSON object; more than this is not one (and is not kept in memory). */
const MAX_ANSWER_BYTES = 4096;

/** Statuses that say the rewarder's own settings (URL, token, proxy) are wrong, not the part. */
const SETTINGS_STATUSES: ReadonlySet<number> = new Set([401, 403, 407]);

class Retryable extends Error {}
class DeadlineCut extends Error {}
/** No complete answer within the attempt's time. */
class AttemptTimeout extends Error {}

/**
 * Idle connections are closed after 4 s (undici's default, which fetch used), or earlier when the
 * ledger announces a shorter `Keep-Alive: timeout` (Node applies the hint only under an agent
 * timeout): reusing a connection the server is closing would cost a reset and a retry. Idle
 * connections are unref'd by the agent, so they never hold the process open at shutdown.
 */
const IDLE_SOCKET_MS = 4_000;

/**
 * An attempt is not started with less time than this before its end: it could not get an answer,
 * only leave the ledger a request we no longer wait for. This also covers a backoff that p-retry
 * ends at the deadline by its own clock (performance.now) a millisecond before Date.now() says so.
 */
const MIN_ATTEMPT_MS = 10;

export class LedgerClient {
  private readonly endpoint: URL;
  private readonly base: URL;
  private readonly request: typeof httpRequest;
  private readonly agent: HttpAgent;

  constructor(private readonly opts: LedgerClientOptions) {
    this.base = new URL(opts.url);
    this.endpoint = new URL('v1/intents', opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    const https = this.base.protocol === 'https:';
    this.request = https ? httpsRequest : httpRequest;
    this.agent = new (https ? HttpsAgent : HttpAgent)({ keepAlive: true, timeout: IDLE_SOCKET_MS });
  }

  /**
   * Sends one part. `deadlineAt` (ms since the epoch) is the request's own deadline when a client
   * waits for this send; it is forwarded unchanged, only ever lowered to our own attempt budget.
   */
  async send(part: OutboxPart, corrId: string, deadlineAt?: number): Promise<SendResult> {
    let attempts = 0;
    const started = performance.now();
    try {
      const outcome = await pRetry(
        async () => {
          attempts++;
          const now = Date.now();
          const cap = now + this.opts.attemptMs;
          const until = deadlineAt === undefined ? cap : Math.min(deadlineAt, cap);
          if (until - now < MIN_ATTEMPT_MS) throw new AbortError(new DeadlineCut('the request deadline passed'));
          return this.attempt(part, corrId, until, until < cap);
        },
        {
          retries: this.opts.maxRetries,
          factor: 2,
          minTimeout: this.opts.minBackoffMs ?? 50,
          maxTimeout: 1000,
          randomize: true,
          // A backoff never sleeps past the request's deadline (the next attempt then sees it).
          ...(deadlineAt === undefined ? {} : { maxRetryTime: Math.max(0, deadlineAt - Date.now()) }),
        },
      );
      if (outcome.result === 'accepted' || outcome.result === 'dup') {
        return { result: outcome.result, attempts, latencyMs: performance.now() - started };
      }
      return { result: outcome.result, attempts, error: 'error' in outcome ? outcome.error : '' };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof DeadlineCut) return { result: 'deadline', attempts, error: message };
      // Retries were left but the request's time ran out (p-retry's maxRetryTime): not the ledger's verdict.
      if (deadlineAt !== undefined && attempts <= this.opts.maxRetries && Date.now() >= deadlineAt) {
        return { result: 'deadline', attempts, error: 'the request deadline passed between attempts' };
      }
      return { result: 'unknown', attempts, error: message };
    }
  }

  /** Latency of any HTTP answer from the ledger's base URL (Infinity without one): a probe. */
  async probe(): Promise<number> {
    const t0 = performance.now();
    try {
      const { status } = await this.exchange(this.base, 'GET', {}, null, this.opts.attemptMs);
      return status >= 500 ? Number.POSITIVE_INFINITY : performance.now() - t0;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  private async attempt(
    part: OutboxPart,
    corrId: string,
    until: number,
    /** The caller's deadline, not our own budget, bounds this attempt. */
    deadlineBound: boolean,
  ): Promise<{ result: 'accepted' | 'dup' } | { result: 'conflict' | 'failed'; error: string }> {
    const t0 = performance.now();
    const headers: OutgoingHttpHeaders = {
      'Content-Type': 'application/json',
      'Content-Length': part.body.length,
      'Idempotency-Key': part.partId,
      'X-Deadline': new Date(until).toISOString(),
      'X-Corr-ID': corrId,
    };
    if (this.opts.token !== undefined) headers.Authorization = `Bearer ${this.opts.token}`;
    let answer: Answer;
    try {
      answer = await this.exchange(this.endpoint, 'POST', headers, part.body, Math.max(1, until - Date.now()));
    } catch (e) {
      const timedOut = e instanceof AttemptTimeout;
      if (timedOut && deadlineBound) throw new AbortError(new DeadlineCut('the request deadline passed during the attempt'));
      this.opts.observe?.(performance.now() - t0, false);
      throw new Retryable(`ledger ${timedOut ? 'timeout' : 'connection error'}`);
    }
    const verdict = judge(answer);
    // A 429, a 5xx or an unexpected answer is an answer, but not a healthy one: a ledger that
    // quickly says "unavailable" (or serves a login page) must not look fast to the health
    // tracker (it would leave quarantine-only mode while down).
    this.opts.observe?.(performance.now() - t0, verdict.kind === 'final');
    if (verdict.kind === 'final') return verdict.outcome;
    if (verdict.kind === 'unexpected') {
      this.opts.onUnexpected?.(answer.status, verdict.reason);
      throw new Retryable(`ledger answered ${answer.status} unexpectedly (${verdict.reason})`);
    }
    throw new Retryable(`ledger answered ${answer.status}`);
  }

  /**
   * One HTTP exchange: resolves with the status once the whole answer has been read, rejects with
   * AttemptTimeout when that takes longer than `timeoutMs` (the connection is then destroyed, so
   * a late answer cannot be mistaken for the next one), or with the connection's error.
   */
  private exchange(url: URL, method: string, headers: OutgoingHttpHeaders, body: Uint8Array | null, timeoutMs: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = this.request(url, { method, headers, agent: this.agent });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        req.destroy();
      }, timeoutMs);
      // Whichever error the destroyed connection reports (a hang-up, an aborted answer), it was ours.
      const fail = (e: Error) => {
        clearTimeout(timer);
        reject(timedOut ? new AttemptTimeout('ledger attempt timed out') : e);
      };
      req.once('error', fail);
      req.once('response', (res: IncomingMessage) => {
        // Read the whole answer inside the timeout: a reset mid-body is as ambiguous as no answer.
        // Only the first MAX_ANSWER_BYTES are kept: enough for any §7 answer, bounded for a page.
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          if (kept >= MAX_ANSWER_BYTES) return;
          const take = chunk.subarray(0, MAX_ANSWER_BYTES - kept);
          chunks.push(take);
          kept += take.length;
        });
        res.once('error', fail);
        res.once('end', () => {
          clearTimeout(timer);
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        res.once('close', () => {
          if (!res.complete) fail(new Error('ledger connection closed mid-answer'));
        });
      });
      req.end(body ?? undefined);
    });
  }
}

type Verdict =
  | { kind: 'final'; outcome: { result: 'accepted' | 'dup' } | { result: 'conflict' | 'failed'; error: string } }
  | { kind: 'retry' }
  | { kind: 'unexpected'; reason: string };

/** What one ledger answer means (SPEC §7); anything not in its words is `unexpected`. */
export function judge(answer: Answer): Verdict {
  const { status } = answer;
  if (status === 429 || status >= 500) return { kind: 'retry' };
  if (SETTINGS_STATUSES.has(status)) return { kind: 'unexpected', reason: 'ledger credentials or proxy refused' };
  const said = resultOf(answer);
  if (status === 201 || status === 200) {
    const want = status === 201 ? 'accepted' : 'dup';
    if (said === want) return { kind: 'final', outcome: { result: want } };
    return { kind: 'unexpected', reason: said === null ? 'not a SPEC 7 acknowledgement body' : `status ${status} with result ${safeWord(said)}` };
  }
  if (status === 409) {
    if (said === 'conflict') return { kind: 'final', outcome: { result: 'conflict', error: 'ledger reports a conflicting body for this part_id' } };
    return { kind: 'unexpected', reason: 'a 409 without the SPEC 7 conflict body' };
  }
  // Another 4xx is the ledger's permanent refusal only when the ledger itself says so (JSON with a
  // `result`); an HTML 404 from a proxy or a wrong LEDGER_URL path is a settings problem.
  if (status >= 400 && status < 500 && said !== null) {
    return { kind: 'final', outcome: { result: 'failed', error: `ledger refused the part with ${status}` } };
  }
  return { kind: 'unexpected', reason: status >= 400 ? 'a 4xx that is not the ledger\'s JSON' : `status ${status} is not a SPEC 7 answer` };
}

/** The `result` member of a JSON object answer, or null when the answer is not one. */
function resultOf(answer: Answer): string | null {
  // application/json or a structured +json type (application/problem+json for a refusal).
  if (!/^application\/([a-z0-9.-]+\+)?json\s*(;|$)/i.test(answer.contentType)) return null;
  try {
    const v: unknown = JSON.parse(answer.body);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
    const r = (v as Record<string, unknown>)['result'];
    return typeof r === 'string' ? r : null;
  } catch {
    return null;
  }
}

/** A ledger-chosen word for a log line: short and plain, never raw bytes. */
function safeWord(w: string): string {
  return /^[a-z_]{1,20}$/.test(w) ? w : '(other)';
}
