// Reads one intent body (SPEC §7) as the ledger sees it. Validation is deliberately minimal: the
// stub must accept whatever a correct rewarder sends and only refuse what would make its own
// bookkeeping meaningless (no part_id, a key that does not name the part, amounts it cannot sum).
// Dedupe works on a digest of the exact bytes, so the stub never re-serialises what it received.

import { createHash } from 'node:crypto';

export interface Intent {
  part_id: string;
  run_key: string | null;
  epoch_id: string | null;
  part: { index: number | null; count: number | null };
  credits: number;
  /** Sum of `amount_minor` over the credits, as a decimal string (BigInt: money is up to 2^128−1). */
  sum_minor: string;
  /** Hex SHA-256 of the exact body bytes. */
  body_sha256: string;
}

export type IntentReading = { ok: true; intent: Intent } | { ok: false; reason: string };

const MONEY = /^(0|[1-9][0-9]*)$/;
const MAX_MONEY = 2n ** 128n - 1n;

export function readIntent(body: Buffer, idempotencyKey: string | undefined): IntentReading {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not_json' };
  }
  if (!isObject(doc)) return { ok: false, reason: 'not_an_object' };
  const partId = doc['part_id'];
  if (typeof partId !== 'string' || partId === '') return { ok: false, reason: 'missing_part_id' };
  if (idempotencyKey !== partId) return { ok: false, reason: 'idempotency_key_mismatch' };

  const credits = doc['credits'] ?? [];
  if (!Array.isArray(credits)) return { ok: false, reason: 'bad_credits' };
  let sum = 0n;
  for (const credit of credits) {
    const amount = isObject(credit) ? credit['amount_minor'] : undefined;
    if (typeof amount !== 'string' || !MONEY.test(amount) || BigInt(amount) > MAX_MONEY) {
      return { ok: false, reason: 'bad_credits' };
    }
    sum += BigInt(amount);
  }

  const part = isObject(doc['part']) ? doc['part'] : {};
  return {
    ok: true,
    intent: {
      part_id: partId,
      run_key: stringOrNull(doc['run_key']),
      epoch_id: stringOrNull(doc['epoch_id']),
      part: { index: integerOrNull(part['index']), count: integerOrNull(part['count']) },
      credits: credits.length,
      sum_minor: sum.toString(),
      body_sha256: createHash('sha256').update(body).digest('hex'),
    },
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringOrNull(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function integerOrNull(v: unknown): number | null {
  return Number.isSafeInteger(v) ? (v as number) : null;
}
