// The fault model of the ledger stub: what can go wrong between the rewarder and its ledger
// (SPEC §7), decided per request. Every random choice comes from one seeded PRNG, and each request
// draws the same three numbers whatever faults are on, so the k-th request meets the same fate in
// two runs with the same seed and the same fault settings: chaos runs can be replayed.
// Pure: no clock, no IO; the server passes in the elapsed time.

import { z } from 'zod';

export interface LatencyRange {
  min: number;
  max: number;
}

/** `[start_ms, end_ms)` measured from the moment the windows were set (process start for CLI flags). */
export interface OutageWindow {
  start_ms: number;
  end_ms: number;
}

export interface Faults {
  /** Uniform delay, in whole milliseconds, inclusive at both ends, before any answer. */
  latency_ms: LatencyRange;
  /** Probability of answering `error_status` without recording anything. */
  error_rate: number;
  error_status: number;
  /** Answer 503 to every intent. */
  down: boolean;
  /** Read the request, then never answer: the socket stays open until the client gives up. */
  hang: boolean;
  /** Probability, for a part recorded for the first time, of resetting the socket instead of answering. */
  reset_after_commit_rate: number;
  outage_windows: OutageWindow[];
  /**
   * Answer every intent with this, recording nothing: an answer outside SPEC §7 (what a
   * misconfigured proxy, a captive portal or a wrong LEDGER_URL/token puts in front of a ledger),
   * or `json-422`, a permanent refusal in the ledger's own JSON (the part ends `failed`).
   */
  canned_answer: CannedAnswer;
}

export const CANNED_ANSWERS = ['none', 'html-200', 'empty-202', 'empty-204', 'redirect-302', 'json-401', 'json-422'] as const;
export type CannedAnswer = (typeof CANNED_ANSWERS)[number];

export type FaultsPatch = Partial<Faults>;

/** Two minutes: longer than any sensible client timeout, short enough to catch a typo in seconds. */
export const MAX_LATENCY_MS = 120_000;
const MAX_WINDOWS = 64;

export function noFaults(): Faults {
  return {
    latency_ms: { min: 0, max: 0 },
    error_rate: 0,
    error_status: 503,
    down: false,
    hang: false,
    reset_after_commit_rate: 0,
    outage_windows: [],
    canned_answer: 'none',
  };
}

const ms = z.number().int().min(0).max(MAX_LATENCY_MS);
const rate = z.number().min(0).max(1);
const patchSchema = z
  .strictObject({
    latency_ms: z
      .strictObject({ min: ms, max: ms })
      .refine((r) => r.min <= r.max, 'min must not exceed max'),
    error_rate: rate,
    // Only statuses SPEC §7 calls retryable: an injected fault must not look like a permanent refusal.
    error_status: z
      .number()
      .int()
      .refine((s) => s === 429 || (s >= 500 && s <= 599), 'expected 429 or 500–599'),
    down: z.boolean(),
    hang: z.boolean(),
    reset_after_commit_rate: rate,
    outage_windows: z
      .array(
        z
          .strictObject({ start_ms: z.number().int().min(0), end_ms: z.number().int().min(0) })
          .refine((w) => w.start_ms < w.end_ms, 'start_ms must be below end_ms'),
      )
      .max(MAX_WINDOWS),
    canned_answer: z.enum(CANNED_ANSWERS),
  })
  .partial();

/** Validates a patch (from JSON, flags or code); throws an Error whose one-line message names the problem. */
export function parseFaultsPatch(value: unknown): FaultsPatch {
  const parsed = patchSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue ? issue.path.map(String).join('.') : '';
  throw new Error(`faults${where ? `.${where}` : ''}: ${issue?.message ?? 'invalid'}`);
}

/** The fields present in the patch replace the current ones; absent fields are left as they are. */
export function applyPatch(current: Faults, patch: FaultsPatch): Faults {
  return {
    ...current,
    ...patch,
    latency_ms: { ...(patch.latency_ms ?? current.latency_ms) },
    outage_windows: (patch.outage_windows ?? current.outage_windows).map((w) => ({ ...w })),
  };
}

export type Rng = () => number;

/** mulberry32: tiny, fast and good enough to pick faults; the seed may be any safe integer. */
export function createRng(seed: number): Rng {
  let state = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The random part of one request's fate, drawn at arrival so replay follows arrival order. */
export interface Fate {
  latency: number;
  error: number;
  reset: number;
}

export function drawFate(rng: Rng): Fate {
  return { latency: rng(), error: rng(), reset: rng() };
}

export type Verdict =
  | { action: 'unavailable'; delayMs: number }
  | { action: 'hang' }
  | { action: 'error'; status: number; delayMs: number }
  | { action: 'canned'; answer: Exclude<CannedAnswer, 'none'>; delayMs: number }
  | { action: 'serve'; delayMs: number; resetAfterCommit: boolean };

/**
 * What to do with one request. Precedence: down or in an outage window, then hang, then an
 * injected error, then a canned answer, else serve (possibly resetting the socket after the commit).
 */
export function decide(faults: Faults, fate: Fate, outageElapsedMs: number): Verdict {
  const { min, max } = faults.latency_ms;
  const delayMs = min + Math.floor(fate.latency * (max - min + 1));
  if (faults.down || inOutage(faults.outage_windows, outageElapsedMs)) return { action: 'unavailable', delayMs };
  if (faults.hang) return { action: 'hang' };
  if (fate.error < faults.error_rate) return { action: 'error', status: faults.error_status, delayMs };
  if (faults.canned_answer !== 'none') return { action: 'canned', answer: faults.canned_answer, delayMs };
  return { action: 'serve', delayMs, resetAfterCommit: fate.reset < faults.reset_after_commit_rate };
}

export function inOutage(windows: readonly OutageWindow[], elapsedMs: number): boolean {
  return windows.some((w) => w.start_ms <= elapsedMs && elapsedMs < w.end_ms);
}
