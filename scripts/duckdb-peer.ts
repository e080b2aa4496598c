// The peer of `rewarder compute` for `npm run bench:peer`: SPEC §4's calculus as ONE DuckDB SQL
// query over the same inputs JSON file, the policy's rules written into the query as constants.
// Prints the payees as JSON lines `[actor, amount_minor, score]` in payee order, then one line
// `{"payout": …, "residual": …}`. A benchmark peer, not a second implementation of the service:
// it reads what `rewarder gen` writes (either form) and uses DuckDB's 128-bit integers, so P × s
// must stay below 2^127 (DuckDB stops with an overflow error beyond, it does not round).
//
//   node dist/scripts/duckdb-peer.js --inputs FILE --policy FILE --form columnar|row
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';

interface Policy {
  rounding: 'floor' | 'largest_remainder';
  kinds: Record<string, { weight: number; divisor?: number; cap?: number }>;
  pool_cap_minor?: string;
  max_payout_minor?: string;
  min_payout_minor?: string;
  exclude?: string[];
}

const sqlString = (s: string) => `'${s.replace(/'/g, "''")}'`;
const digits = (s: string) => {
  if (!/^(0|[1-9][0-9]*)$/.test(s)) throw new Error(`not a decimal integer: ${s}`);
  return s;
};

/** The whole calculus as one query (CTEs), over `file` in the given event form. */
export function peerQuery(file: string, policy: Policy, form: 'columnar' | 'row'): string {
  const rules = Object.entries(policy.kinds).map(
    ([name, r]) => `(${sqlString(name)}, ${r.weight}::HUGEINT, ${r.divisor ?? 1}::HUGEINT, ${r.cap === undefined ? 'NULL' : `${r.cap}::HUGEINT`})`,
  );
  const exclude = (policy.exclude ?? []).map(sqlString);
  const events =
    form === 'columnar'
      ? `SELECT d.actors[unnest(d.events.actor) + 1] AS actor, d.kinds[unnest(d.events.kind) + 1] AS kind,
                unnest(d.events.qty) AS qty, unnest(d.events.ts) AS ts FROM d`
      : `SELECT e.actor, e.kind, e.qty, e.ts FROM (SELECT unnest(d.events) AS e FROM d)`;
  const pool = policy.pool_cap_minor === undefined ? 'd.pool' : `least(d.pool, ${digits(policy.pool_cap_minor)}::HUGEINT)`;
  const ceiling = policy.max_payout_minor === undefined ? null : `${digits(policy.max_payout_minor)}::HUGEINT`;
  const floor = `${digits(policy.min_payout_minor ?? '1')}::HUGEINT`;
  return `
WITH d AS (
  SELECT "window".start_ms AS start_ms, "window".end_ms AS end_ms, pool_minor::HUGEINT AS pool, kinds, actors, events
  FROM read_json(${sqlString(file)}, maximum_object_size = 1073741824)
),
ev AS (${events}),
rules(kind, weight, divisor, cap) AS (VALUES ${rules.length > 0 ? rules.join(', ') : "('', 0::HUGEINT, 1::HUGEINT, NULL)"}),
q AS (
  SELECT ev.actor, ev.kind, sum(ev.qty)::HUGEINT AS q FROM ev, d
  WHERE ev.ts >= d.start_ms AND ev.ts < d.end_ms GROUP BY ev.actor, ev.kind
),
s AS (
  SELECT q.actor, sum((CASE WHEN r.cap IS NOT NULL AND q.q > r.cap THEN r.cap ELSE q.q END * r.weight) // r.divisor)::HUGEINT AS score
  FROM q JOIN rules r ON r.kind = q.kind
  ${exclude.length > 0 ? `WHERE q.actor NOT IN (${exclude.join(', ')})` : ''}
  GROUP BY q.actor HAVING score > 0
),
p AS (SELECT ${pool} AS pool, (SELECT sum(score)::HUGEINT FROM s) AS total FROM d),
b AS (SELECT s.actor, s.score, (p.pool * s.score) // p.total AS base, (p.pool * s.score) % p.total AS rem FROM s, p),
r AS (
  SELECT b.*, row_number() OVER (ORDER BY rem DESC, actor ASC) AS place,
         (SELECT p.pool - sum(base) FROM b, p GROUP BY p.pool) AS dust FROM b
),
a AS (
  SELECT actor, score,
         ${policy.rounding === 'largest_remainder' ? 'base + CASE WHEN place <= dust THEN 1 ELSE 0 END' : 'base'} AS amt0 FROM r
),
c AS (SELECT actor, score, ${ceiling === null ? 'amt0' : `least(amt0, ${ceiling})`} AS amt FROM a)
SELECT actor, amt::VARCHAR AS amount, score::VARCHAR AS score FROM c WHERE amt > 0 AND amt >= ${floor} ORDER BY actor`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { inputs: { type: 'string' }, policy: { type: 'string' }, form: { type: 'string', default: 'columnar' } } });
  if (values.inputs === undefined || values.policy === undefined) throw new Error('--inputs and --policy are required');
  const form = values.form === 'row' ? 'row' : 'columnar';
  const policy = JSON.parse(readFileSync(values.policy, 'utf8')) as Policy;
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  const reader = await conn.runAndReadAll(peerQuery(values.inputs, policy, form));
  const rows = reader.getRows() as [string, string, string][];
  let payout = 0n;
  const lines: string[] = [];
  for (const [actor, amount, score] of rows) {
    payout += BigInt(amount);
    lines.push(JSON.stringify([actor, amount, score]));
  }
  lines.push(JSON.stringify({ payees: rows.length, payout: payout.toString() }));
  process.stdout.write(`${lines.join('\n')}\n`);
  conn.closeSync();
  instance.closeSync();
}

if (process.argv[1]?.endsWith('duckdb-peer.js')) {
  main().catch((e: unknown) => {
    process.stderr.write(`duckdb-peer: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
