// Per-actor net balances (SPEC §13): what the stub ledger holds for each actor after every part it
// accepted, plain §7 credits and correction entries alike, so tests can assert the end state of a
// chain of corrections ("every actor's net equals the latest epoch's amounts").
//
// Kept off the hot path: POST /v1/intents only copies an accepted body (the intent scanner never
// builds actor strings, PERFORMANCE.md, Settlement); the copies are parsed and folded in when
// balances are read (or when 64 MiB of them wait), once each. A correction body is parsed at arrival anyway, to refuse bad entries.

const MONEY = /^(0|[1-9][0-9]*)$/;
const MAX_MONEY = 2n ** 128n - 1n;
// A member name can only appear in the raw bytes unescaped, so a body without it is no correction.
const KIND = Buffer.from('"kind"');

export interface Move {
  actor: string;
  amount: bigint;
}

export type CorrectionReading = { kind: 'intent' } | { kind: 'correction'; entries: number } | { kind: 'error'; reason: string };

/** Whether `body` is a correction part (`kind: "correction"`) with valid entries; other kinds are refused. */
export function readKind(body: Buffer): CorrectionReading {
  if (body.indexOf(KIND) < 0) return { kind: 'intent' };
  // The intent scanner accepted the body, and it accepts exactly what JSON.parse does.
  const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (!Object.hasOwn(doc, 'kind')) return { kind: 'intent' };
  if (doc.kind !== 'correction') return { kind: 'error', reason: 'unknown_kind' };
  const moves = entryMoves(doc.entries);
  return moves === null ? { kind: 'error', reason: 'bad_entries' } : { kind: 'correction', entries: moves.length };
}

/** Correction entries as signed moves, or null unless every one is `{actor, op: credit|debit, amount_minor: money}`. */
function entryMoves(entries: unknown): Move[] | null {
  if (!Array.isArray(entries)) return null;
  const moves: Move[] = [];
  for (const e of entries as unknown[]) {
    if (typeof e !== 'object' || e === null) return null;
    const { actor, op, amount_minor: amount } = e as Record<string, unknown>;
    if (typeof actor !== 'string' || (op !== 'credit' && op !== 'debit') || typeof amount !== 'string' || !MONEY.test(amount)) return null;
    const value = BigInt(amount);
    if (value > MAX_MONEY) return null;
    moves.push({ actor, amount: op === 'credit' ? value : -value });
  }
  return moves;
}

/** The moves of an accepted body: its credits, or a correction's entries. */
function moves(body: Buffer): Move[] {
  const doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (doc.kind === 'correction') return entryMoves(doc.entries) ?? [];
  const credits = Array.isArray(doc.credits) ? (doc.credits as { actor?: unknown; amount_minor?: unknown }[]) : [];
  return credits.filter((c) => typeof c.actor === 'string').map((c) => ({ actor: c.actor as string, amount: BigInt(c.amount_minor as string) }));
}

export interface Balance {
  actor: string;
  /** Credits minus debits, a signed decimal string: a debit beyond the balance is the ledger's receivable. */
  net_minor: string;
}

/**
 * Unread bodies kept at most: past it, each accepted part folds the oldest one in, so a long soak or
 * benchmark that never reads balances keeps bounded memory and pays one parse per part, spread out.
 */
const MAX_PENDING_BYTES = 64 * 1024 * 1024;

export class Balances {
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #net = new Map<string, bigint>();

  constructor(private readonly maxPendingBytes = MAX_PENDING_BYTES) {}

  /** An accepted part's exact bytes (copied: the caller's buffer is reused). */
  record(body: Buffer): void {
    this.#pending.push(Buffer.from(body));
    this.#pendingBytes += body.length;
    if (this.#pendingBytes > this.maxPendingBytes) {
      const oldest = this.#pending.shift() as Buffer;
      this.#pendingBytes -= oldest.length;
      this.#fold(oldest);
    }
  }

  #fold(body: Buffer): void {
    for (const m of moves(body)) this.#net.set(m.actor, (this.#net.get(m.actor) ?? 0n) + m.amount);
  }

  /** Every actor with a part, sorted by actor (UTF-8 bytes); an actor whose net is 0 stays listed. */
  list(actor?: string): Balance[] {
    for (const body of this.#pending) this.#fold(body);
    this.#pending = [];
    this.#pendingBytes = 0;
    const actors = actor === undefined ? [...this.#net.keys()] : this.#net.has(actor) ? [actor] : [];
    return actors.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))).map((a) => ({ actor: a, net_minor: `${this.#net.get(a) ?? 0n}` }));
  }

  clear(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#net.clear();
  }
}
