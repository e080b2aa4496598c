// fast-check arbitraries for realistic and adversarial runs, shared by the property tests.
// A generated case is plain data; `inputsDoc`/`policyDoc` serialise it to either event form.
import fc from 'fast-check';

export interface EventData {
  actor: number;
  kind: number;
  qty: number;
  ts: number;
}

export interface CaseData {
  window: { start: number; end: number };
  pool: bigint;
  kinds: string[];
  actors: string[];
  events: EventData[];
  policy: {
    rounding: 'floor' | 'largest_remainder';
    kinds: Record<string, { weight: number; divisor?: number; cap?: number }>;
    poolCap?: bigint;
    maxPayout?: bigint;
    minPayout?: bigint;
    exclude: string[];
  };
}

const KIND_NAMES = ['bytes_served', 'requests', 'uptime_s', 'storage', 'egress'];

/**
 * `big`: also draw quantities and weights near the limits, forcing the BigInt path. `token`: token
 * programs' magnitudes (pools 10^21–2^128, scores up to ~10^15 each, so T passes 2^53 while most
 * per-actor scores stay safe, and money limits of the same size).
 */
export function caseArb(opts: { big?: boolean; token?: boolean; maxActors?: number; maxEvents?: number } = {}): fc.Arbitrary<CaseData> {
  const maxActors = opts.maxActors ?? 12;
  const maxEvents = opts.maxEvents ?? 40;
  const qty = opts.big
    ? fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 52, 2 ** 40))
    : opts.token
      ? fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 2_000_000_000 }))
      : fc.integer({ min: 0, max: 100_000 });
  const weight = opts.big
    ? fc.oneof(fc.integer({ min: 0, max: 10 }), fc.constant(0xffffffff))
    : opts.token
      ? fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 100_000, max: 2_000_000 }))
      : fc.integer({ min: 0, max: 10 });
  const poolArb = opts.token
    ? fc.oneof(fc.bigInt({ min: 10n ** 21n, max: 10n ** 24n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }))
    : fc.oneof(fc.bigInt({ min: 0n, max: 10_000n }), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }));
  const moneyMax = opts.token ? 10n ** 24n : 5_000n;
  return fc
    .record({
      nActors: fc.integer({ min: 0, max: maxActors }),
      kinds: fc.uniqueArray(fc.constantFrom(...KIND_NAMES), { minLength: 1, maxLength: KIND_NAMES.length }),
      start: fc.integer({ min: 0, max: 1000 }),
      span: fc.integer({ min: 1, max: 1000 }),
      pool: poolArb,
    })
    .chain(({ nActors, kinds, start, span, pool }) => {
      const actors = Array.from({ length: nActors }, (_, i) => `did:ron:a${String(i).padStart(3, '0')}`);
      const event =
        nActors === 0
          ? fc.constant(null)
          : fc.record({
              actor: fc.integer({ min: 0, max: nActors - 1 }),
              kind: fc.integer({ min: 0, max: kinds.length - 1 }),
              qty,
              ts: fc.integer({ min: Math.max(0, start - 50), max: start + span + 50 }),
            });
      const rule = fc.record(
        {
          weight,
          divisor: fc.integer({ min: 1, max: 1000 }),
          cap: fc.integer({ min: 0, max: opts.big ? Number.MAX_SAFE_INTEGER : 200_000 }),
        },
        { requiredKeys: ['weight'] },
      );
      const money = fc.bigInt({ min: 0n, max: moneyMax });
      return fc.record({
        window: fc.constant({ start, end: start + span }),
        pool: fc.constant(pool),
        kinds: fc.constant(kinds),
        actors: fc.constant(actors),
        events: fc.array(event, { maxLength: nActors === 0 ? 0 : maxEvents }).map((e) => e.filter((x): x is EventData => x !== null)),
        policy: fc.record(
          {
            rounding: fc.constantFrom('floor' as const, 'largest_remainder' as const),
            kinds: fc.dictionary(fc.constantFrom(...KIND_NAMES), rule, { maxKeys: KIND_NAMES.length }),
            poolCap: money,
            maxPayout: fc.bigInt({ min: 1n, max: moneyMax }),
            minPayout: fc.bigInt({ min: 0n, max: opts.token ? 10n ** 18n : 50n }),
            exclude: fc.subarray([...actors, 'did:ron:zzz-absent']),
          },
          { requiredKeys: ['rounding', 'kinds', 'exclude'] },
        ),
      });
    });
}

export function inputsDoc(c: CaseData, form: 'row' | 'columnar', events: EventData[] = c.events): string {
  const head =
    `{"schema":"rewarder.inputs/v1","window":{"start_ms":${c.window.start},"end_ms":${c.window.end}},` +
    `"pool_minor":"${c.pool}","kinds":${JSON.stringify(c.kinds)},"actors":${JSON.stringify(c.actors)},"events":`;
  if (form === 'row') {
    const rows = events.map(
      (e) => `{"actor":${JSON.stringify(c.actors[e.actor])},"kind":"${c.kinds[e.kind]}","qty":${e.qty},"ts":${e.ts}}`,
    );
    return `${head}[${rows.join(',')}]}`;
  }
  const col = (k: keyof EventData) => `[${events.map((e) => e[k]).join(',')}]`;
  return `${head}{"actor":${col('actor')},"kind":${col('kind')},"qty":${col('qty')},"ts":${col('ts')}}}`;
}

export function policyDoc(c: CaseData): string {
  const p = c.policy;
  const doc: Record<string, unknown> = { schema: 'rewarder.policy/v1', id: 'prop', rounding: p.rounding, kinds: p.kinds };
  if (p.poolCap !== undefined) doc.pool_cap_minor = p.poolCap.toString();
  if (p.maxPayout !== undefined) doc.max_payout_minor = p.maxPayout.toString();
  if (p.minPayout !== undefined) doc.min_payout_minor = p.minPayout.toString();
  if (p.exclude.length > 0) doc.exclude = p.exclude;
  return JSON.stringify(doc);
}
