// PROGRAMS_FILE (SPEC §10, §13): per-program settings, the budget and the hold.
//
//   {"acme-poc": {"max_pool_minor": "1000000", "hold_ms": 86400000}, "default": {"max_pool_minor": "0"}}
//
// `hold_ms` (default 0): a newly bound epoch's ledger parts are not sent before bound_at + hold_ms,
// the window in which a mistake can still be corrected by supersession without anything to claw
// back. The hold is fixed when the epoch binds: changing the file later moves no existing hold.
// A compute whose P (SPEC §4.3) exceeds its program's `max_pool_minor` is refused with
// 422 POOL_OVER_BUDGET before any work. A program absent from the file has no budget. The file is
// read at start (an invalid one stops the start) and again on SIGHUP, where an invalid one is
// refused with the rest of the reload and the previous budgets stay.

import { z } from 'zod';
import { parseMoney } from './core/rules.js';
import { PROGRAM_RE } from './http/tenancy.js';

export interface ProgramSettings {
  maxPoolMinor: bigint | null;
  holdMs: number;
}

/** Longest hold accepted: a year (a longer one is surely a unit mistake). */
export const MAX_HOLD_MS = 366 * 24 * 3600 * 1000;

const money = z.string().transform((s, ctx) => {
  const v = parseMoney(s);
  if (typeof v === 'string') {
    ctx.addIssue({ code: 'custom', message: v });
    return z.NEVER;
  }
  return v;
});

const fileSchema = z.record(
  z.string().regex(PROGRAM_RE, 'expected a program name (^[a-z0-9][a-z0-9_-]{0,63}$)'),
  z.strictObject({ max_pool_minor: money.optional(), hold_ms: z.number().int().min(0).max(MAX_HOLD_MS).optional() }),
);

/** Parses a programs file; throws an Error with a one-line message naming the problem. */
export function parseProgramsFile(text: string): Map<string, ProgramSettings> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error('programs file: not valid JSON');
  }
  const r = fileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    const where = issue?.path.map(String).join('.') ?? '';
    throw new Error(`programs file: ${where}${where ? ': ' : ''}${issue?.message ?? 'invalid'}`);
  }
  return new Map(Object.entries(r.data).map(([program, s]) => [program, { maxPoolMinor: s.max_pool_minor ?? null, holdMs: s.hold_ms ?? 0 }]));
}
