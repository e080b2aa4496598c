// Decoder for `rewarder.policy/v1` (SPEC §3). Policies are small (bounded by the request body
// limit), so they go through the generic strict parser and are then checked member by member,
// each failure naming its JSON path.

import { isObject, parseStrictJson } from './json/parse.js';
import { type DocError, type PathSegment, type Result, err, formatPath, ok } from './result.js';
import { ID_RE, KIND_RE, MAX_KINDS, actorIdProblem, compareUtf8, parseMoney } from './rules.js';

export const POLICY_SCHEMA = 'rewarder.policy/v1';
export const DEFAULT_POLICY_MAX_BYTES = 1024 * 1024;

export interface KindRule {
  weight: number;
  divisor: number;
  /** null: no cap. */
  cap: number | null;
}

export interface Policy {
  id: string;
  rounding: 'floor' | 'largest_remainder';
  kinds: ReadonlyMap<string, KindRule>;
  poolCapMinor: bigint | null;
  maxPayoutMinor: bigint | null;
  minPayoutMinor: bigint;
  exclude: string[];
}

const U32_MAX = 0xffffffff;
const MEMBERS = new Set([
  'schema',
  'id',
  'rounding',
  'kinds',
  'pool_cap_minor',
  'max_payout_minor',
  'min_payout_minor',
  'exclude',
]);

class PolicyFail extends Error {
  constructor(
    readonly path: PathSegment[],
    readonly reason: string,
  ) {
    super(reason);
  }
}

const fail = (path: PathSegment[], reason: string): never => {
  throw new PolicyFail(path, reason);
};

export function decodePolicy(bytes: Uint8Array, maxBytes = DEFAULT_POLICY_MAX_BYTES): Result<Policy, DocError> {
  if (bytes.length > maxBytes) return err({ path: '$', reason: `document is ${bytes.length} bytes, limit is ${maxBytes}` });
  const parsed = parseStrictJson(bytes);
  if (!parsed.ok) return parsed;
  try {
    return ok(checkPolicy(parsed.value));
  } catch (e) {
    if (e instanceof PolicyFail) return err({ path: formatPath(e.path), reason: e.reason });
    throw e;
  }
}

function checkPolicy(doc: unknown): Policy {
  if (!isObject(doc)) return fail([], 'expected a JSON object');
  Object.keys(doc).forEach((k, i) => {
    if (!MEMBERS.has(k)) fail([{ member: i }], 'unknown member');
  });
  for (const k of ['schema', 'id', 'rounding', 'kinds']) if (!(k in doc)) fail([k], 'missing member');
  if (doc.schema !== POLICY_SCHEMA) fail(['schema'], `expected "${POLICY_SCHEMA}"`);
  if (typeof doc.id !== 'string' || !ID_RE.test(doc.id)) fail(['id'], 'id must match ^[A-Za-z0-9._:-]{1,128}$');
  if (doc.rounding !== 'floor' && doc.rounding !== 'largest_remainder') {
    fail(['rounding'], 'rounding must be "floor" or "largest_remainder"');
  }
  return {
    id: doc.id as string,
    rounding: doc.rounding as Policy['rounding'],
    kinds: checkKinds(doc.kinds),
    poolCapMinor: optionalMoney(doc, 'pool_cap_minor'),
    maxPayoutMinor: optionalMoney(doc, 'max_payout_minor'),
    minPayoutMinor: optionalMoney(doc, 'min_payout_minor') ?? 1n,
    exclude: checkExclude(doc.exclude),
  };
}

function checkKinds(v: unknown): Map<string, KindRule> {
  if (!isObject(v)) return fail(['kinds'], 'expected an object');
  const names = Object.keys(v);
  if (names.length > MAX_KINDS) fail(['kinds'], `more than ${MAX_KINDS} kinds`);
  const out = new Map<string, KindRule>();
  for (const [i, name] of names.entries()) {
    const at: PathSegment[] = ['kinds', KIND_RE.test(name) ? name : { member: i }];
    if (!KIND_RE.test(name)) fail(at, 'kind must match ^[a-z][a-z0-9_]{0,63}$');
    const rule = v[name];
    if (!isObject(rule)) return fail(at, 'expected an object');
    Object.keys(rule).forEach((k, j) => {
      if (k !== 'weight' && k !== 'divisor' && k !== 'cap') fail([...at, { member: j }], 'unknown member');
    });
    if (!('weight' in rule)) fail([...at, 'weight'], 'missing member');
    const weight = int(rule.weight, [...at, 'weight'], 0, U32_MAX);
    const divisor = 'divisor' in rule ? int(rule.divisor, [...at, 'divisor'], 1, U32_MAX) : 1;
    const cap = 'cap' in rule ? int(rule.cap, [...at, 'cap'], 0, Number.MAX_SAFE_INTEGER) : null;
    out.set(name, { weight, divisor, cap });
  }
  return out;
}

function int(v: unknown, path: PathSegment[], min: number, max: number): number {
  // The strict parser only yields non-negative safe integers as numbers.
  if (typeof v !== 'number') return fail(path, 'expected an integer');
  if (v < min || v > max) fail(path, `must be between ${min} and ${max}`);
  return v;
}

function optionalMoney(doc: Record<string, unknown>, key: string): bigint | null {
  if (!(key in doc)) return null;
  const m = parseMoney(doc[key]);
  return typeof m === 'string' ? fail([key], m) : m;
}

function checkExclude(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(['exclude'], 'expected an array of actor ids');
  let prev: string | undefined;
  v.forEach((a: unknown, i) => {
    if (typeof a !== 'string') return fail(['exclude', i], 'expected an actor id string');
    const problem = actorIdProblem(a, false);
    if (problem !== null) fail(['exclude', i], problem);
    if (prev !== undefined && compareUtf8(prev, a) >= 0) {
      fail(['exclude', i], prev === a ? 'duplicate actor' : 'exclude must be strictly ascending by UTF-8 bytes');
    }
    prev = a;
  });
  return v as string[];
}
