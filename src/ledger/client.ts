// The one outbound client for the ledger (SPEC §7), on p-retry. It retries what is retryable
// (429, 5xx, timeouts, resets) with the same part_id and the same bytes, stops on what is not
// (409 conflict: never retried, alerts; other 4xx: permanent), and bounds every attempt by a
// timeout from the deadline. A timeout means "unknown", never "failed": the caller keeps the part.

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
}

class Retryable extends Error {}
class DeadlineCut extends Error {}

export class LedgerClient {
  private readonly endpoint: string;

  constructor(private readonly opts: LedgerClientOptions) {
    this.endpoint = new URL('v1/intents', opts.url.endsWith('/') ? opts.url : `${opts.url}/`).toString();
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
          if (until <= now) throw new AbortError(new DeadlineCut('the request deadline passed'));
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
      const res = await fetch(this.opts.url, { signal: AbortSignal.timeout(this.opts.attemptMs) });
      await res.arrayBuffer();
      return res.status >= 500 ? Number.POSITIVE_INFINITY : performance.now() - t0;
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
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Idempotency-Key': part.partId,
      'X-Deadline': new Date(until).toISOString(),
      'X-Corr-ID': corrId,
    };
    if (this.opts.token !== undefined) headers.Authorization = `Bearer ${this.opts.token}`;
    let res: Response;
    try {
      res = await fetch(this.endpoint, {
        method: 'POST',
        headers,
        body: part.body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(Math.max(1, until - Date.now())),
      });
      // Read the whole answer inside the timeout: a reset mid-body is as ambiguous as no answer.
      await res.arrayBuffer();
    } catch (e) {
      const timedOut = e instanceof Error && e.name === 'TimeoutError';
      if (timedOut && deadlineBound) throw new AbortError(new DeadlineCut('the request deadline passed during the attempt'));
      this.opts.observe?.(performance.now() - t0, false);
      throw new Retryable(`ledger ${timedOut ? 'timeout' : 'connection error'}`);
    }
    // A 429 or 5xx is an answer, but not a healthy one: a ledger that quickly says "unavailable"
    // must not look fast to the health tracker (it would leave quarantine-only mode while down).
    this.opts.observe?.(performance.now() - t0, res.status !== 429 && res.status < 500);
    if (res.status === 201) return { result: 'accepted' };
    if (res.status === 200) return { result: 'dup' };
    if (res.status === 409) return { result: 'conflict', error: 'ledger reports a conflicting body for this part_id' };
    if (res.status === 429 || res.status >= 500) throw new Retryable(`ledger answered ${res.status}`);
    return { result: 'failed', error: `ledger refused the part with ${res.status}` };
  }
}
