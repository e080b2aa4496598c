// Bodies being received, bounded on their own, before any compute slot is taken. A request's
// in-flight slot (MAX_INFLIGHT) is taken only once its body has fully arrived (app.ts), so a client
// that trickles bodies can hold at most what this module gives it:
//   - a number of bodies in progress per client address and in total (429 / 503 beyond);
//   - a share of a byte budget for bodies being received: a declared Content-Length is reserved
//     before a byte is buffered (503 when it does not fit now), a chunked body reserves as it
//     arrives;
//   - time: after a short grace a body must keep arriving at a minimum rate (408 below it).
// A small body (≤ 64 KiB declared) takes a place only if it is still arriving after a moment
// (QUICK_MS): the usual compute request arrives with its headers or right after them, so a
// slow-body flood that fills every place never refuses it. One already complete when its handler
// runs takes no place at all.
//
// Pure policy over counters and one timer; no sockets (the reader aborts through the signal).

import { AppError } from '../errors.js';

export interface IntakeSettings {
  /** Bodies in progress at once, all clients together. */
  maxBodies: number;
  /** Bodies in progress at once from one client address. */
  maxBodiesPerClient: number;
  /** Bytes of bodies being received (wire and decoded), all clients together. */
  budgetBytes: number;
  /** A body slower than this after the grace is cut with 408 (bytes/s over its whole life). */
  minRateBytesPerSec: number;
  graceMs: number;
}

export type IntakeRefusal = 'bodies_per_client' | 'bodies_total' | 'body_budget' | 'body_too_slow';

/** One body being received: account bytes as they arrive, release when the request ends. */
export interface IntakeTicket {
  /** Aborted (reason: a 408 AppError) when the body falls below the minimum rate. */
  readonly signal: AbortSignal;
  /** Counts `n` more bytes held for this body; throws 503 body_budget if the budget is spent. */
  account(n: number): void;
  /** The whole body is here: it leaves the count of bodies in progress, its bytes stay held. */
  arrived(): void;
  /** The request is over: its bytes leave the budget. */
  release(): void;
}

const CLOSE = { Connection: 'close' };
const CHECK_EVERY_MS = 100;
/** A small body still arriving after this long takes a place (or is refused). */
const QUICK_MS = 100;
const QUICK_MAX_BYTES = 64 * 1024;

class Ticket implements IntakeTicket {
  readonly ctl = new AbortController();
  /** Bytes arrived (wire and decoded) and bytes held against the budget. */
  received = 0;
  reserved = 0;
  released = false;

  constructor(
    private readonly intake: BodyIntake,
    readonly address: string,
    readonly startedMs: number,
    /** True while it holds a place among the bodies in progress. */
    public counted: boolean,
    /** A small body not yet counted: it must arrive within QUICK_MS or take a place. */
    public pending: boolean,
  ) {}

  get signal(): AbortSignal {
    return this.ctl.signal;
  }

  account(n: number): void {
    const next = this.received + n;
    if (next > this.reserved) this.intake.grow(this, next - this.reserved);
    this.received = next;
  }

  arrived(): void {
    this.pending = false;
    if (this.counted) this.intake.uncount(this);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.intake.drop(this);
  }
}

export class BodyIntake {
  private readonly perClient = new Map<string, number>();
  private readonly live = new Set<Ticket>();
  private bodies = 0;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Called with the reason of each refusal (rejected_total). */
  onRefuse: (reason: IntakeRefusal) => void = () => {};

  constructor(
    private readonly settings: () => IntakeSettings,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Bodies in progress and bytes held against the budget (for /metrics). */
  get fill(): { bodies: number; bytes: number; budgetBytes: number } {
    return { bodies: this.bodies, bytes: this.bytes, budgetBytes: this.settings().budgetBytes };
  }

  /**
   * Admits one body from `address` (`declared`: its Content-Length, if any; `complete`: whether it
   * has fully arrived already). Throws the refusal; the caller must release() the ticket.
   */
  begin(address: string, declared: number | undefined, complete: boolean): IntakeTicket {
    const pending = !complete && declared !== undefined && declared <= QUICK_MAX_BYTES;
    const counted = !complete && !pending;
    if (counted) this.checkPlace(address, declared);
    const t = new Ticket(this, address, this.now(), false, pending);
    if (declared !== undefined) {
      t.reserved = declared;
      this.bytes += declared;
    }
    this.live.add(t);
    if (counted) this.count(t);
    if (pending) this.timer ??= setInterval(() => this.sweep(), CHECK_EVERY_MS).unref();
    return t;
  }

  /** Throws the refusal if one more body from `address` (declaring `declared`) may not be received now. */
  private checkPlace(address: string, declared: number | undefined, held = 0): void {
    const s = this.settings();
    const mine = this.perClient.get(address) ?? 0;
    if (mine >= s.maxBodiesPerClient) {
      throw this.refuse('bodies_per_client', 'RATE_LIMITED', 'too many bodies in progress from this client', 1, { limit: s.maxBodiesPerClient });
    }
    if (this.bodies >= s.maxBodies) {
      throw this.refuse('bodies_total', 'OVERLOADED', 'too many request bodies in progress', 1, { limit: s.maxBodies });
    }
    // `held`: bytes this body has already reserved (a pending body being promoted).
    if (declared !== undefined && this.bytes - held + declared > s.budgetBytes) {
      throw this.refuse('body_budget', 'OVERLOADED', 'the budget for request bodies being received is spent', this.retryAfterSec(), {
        budget_bytes: s.budgetBytes,
      });
    }
  }

  private count(t: Ticket): void {
    t.counted = true;
    t.pending = false;
    this.bodies++;
    this.perClient.set(t.address, (this.perClient.get(t.address) ?? 0) + 1);
    this.timer ??= setInterval(() => this.sweep(), CHECK_EVERY_MS).unref();
  }

  /** @internal more bytes for `t` than it had reserved. */
  grow(t: Ticket, n: number): void {
    const s = this.settings();
    if (t.counted && this.bytes + n > s.budgetBytes) {
      throw this.refuse('body_budget', 'OVERLOADED', 'the budget for request bodies being received is spent', this.retryAfterSec(), {
        budget_bytes: s.budgetBytes,
      });
    }
    t.reserved += n;
    this.bytes += n;
  }

  /** @internal */
  drop(t: Ticket): void {
    this.live.delete(t);
    this.bytes -= t.reserved;
    t.pending = false;
    this.uncount(t);
    this.stopTimerIfIdle();
  }

  /** @internal */
  uncount(t: Ticket): void {
    if (!t.counted) return;
    t.counted = false;
    this.bodies--;
    const mine = (this.perClient.get(t.address) ?? 1) - 1;
    if (mine <= 0) this.perClient.delete(t.address);
    else this.perClient.set(t.address, mine);
    this.stopTimerIfIdle();
  }

  private stopTimerIfIdle(): void {
    if (this.timer === undefined || this.bodies > 0) return;
    for (const t of this.live) if (t.pending) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Cuts every counted body that is past its grace and below the minimum rate. */
  sweep(): void {
    const s = this.settings();
    const now = this.now();
    for (const t of this.live) {
      if (t.ctl.signal.aborted) continue;
      const age = now - t.startedMs;
      if (t.pending && age >= QUICK_MS) {
        // A small body still arriving: it takes a place like any other, or is refused now.
        try {
          this.checkPlace(t.address, t.reserved, t.reserved);
          this.count(t);
        } catch (e) {
          t.pending = false;
          t.ctl.abort(e);
        }
        continue;
      }
      if (!t.counted) continue;
      if (age <= s.graceMs) continue;
      if ((t.received * 1000) / age >= s.minRateBytesPerSec) continue;
      this.onRefuse('body_too_slow');
      t.ctl.abort(
        new AppError(
          'REQUEST_TIMEOUT',
          'request body arrived too slowly',
          { reason: 'body_too_slow', min_rate_bytes_per_sec: s.minRateBytesPerSec, grace_ms: s.graceMs },
          CLOSE,
        ),
      );
    }
  }

  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Bodies free their bytes as they finish; a second is a fair first guess, a longer wait when full of big ones. */
  private retryAfterSec(): number {
    const s = this.settings();
    return Math.min(30, Math.max(1, Math.ceil((this.bytes / Math.max(1, s.budgetBytes)) * 5)));
  }

  private refuse(
    reason: IntakeRefusal,
    code: 'RATE_LIMITED' | 'OVERLOADED',
    message: string,
    retryAfterSec: number,
    extra: Record<string, unknown>,
  ): AppError {
    this.onRefuse(reason);
    return new AppError(code, message, { reason, ...extra, retry_after_sec: retryAfterSec }, { 'Retry-After': String(retryAfterSec), ...CLOSE });
  }
}
