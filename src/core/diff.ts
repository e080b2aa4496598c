// Names the first place two JSON values differ, for `rewarder verify`: an auditor wants
// "$.totals.payout_minor: expected "927", got "928"", not "bytes differ at offset 512".

import { formatPath } from './result.js';

export function firstDifference(expected: unknown, actual: unknown, path: (string | number)[] = []): string | null {
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const n = Math.min(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      const d = firstDifference(expected[i], actual[i], [...path, i]);
      if (d !== null) return d;
    }
    if (expected.length !== actual.length) {
      return `${formatPath(path)}: expected ${expected.length} elements, got ${actual.length}`;
    }
    return null;
  }
  if (isPlainObject(expected) && isPlainObject(actual)) {
    const keys = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
    for (const k of keys) {
      if (!(k in expected)) return `${formatPath([...path, k])}: unexpected member`;
      if (!(k in actual)) return `${formatPath([...path, k])}: missing member`;
      const d = firstDifference(expected[k], actual[k], [...path, k]);
      if (d !== null) return d;
    }
    return null;
  }
  if (expected === actual) return null;
  return `${formatPath(path)}: expected ${show(expected)}, got ${show(actual)}`;
}

/**
 * As firstDifference, but the members at `first` (paths into both values) are compared before
 * anything else: a manifest's inputs_cid, policy.hash and epoch_id say what it was computed from,
 * so a difference there is the cause of every derived one (run_key, commitment, payouts…).
 */
export function firstDifferenceFrom(expected: unknown, actual: unknown, first: readonly (readonly string[])[]): string | null {
  for (const path of first) {
    const e = at(expected, path);
    const a = at(actual, path);
    if (e !== undefined && a !== undefined && firstDifference(e, a, [...path]) !== null) return firstDifference(e, a, [...path]);
  }
  return firstDifference(expected, actual);
}

function at(v: unknown, path: readonly string[]): unknown {
  let cur = v;
  for (const k of path) cur = isPlainObject(cur) ? cur[k] : undefined;
  return cur;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
