// `npm run bench:manifest -- [--payees 909402] [--actors 1000000] [--js] [--runs 3]`:
// the manifest phase of issue 18's XL first compute alone, on synthetic payee columns of XL's
// shape (ids `did:ron:n0000000`, token-sized amounts of three to four limbs): buildManifest's CPU
// time per run (the first is the one a first compute pays) with the native writers or, with
// --js, the TypeScript ones (--heads: from leaf heads, as the worker's below XL); and quoteEach
// over the ids (the seal's quoted names).
import { parseArgs } from 'node:util';
import { cpuUsage } from 'node:process';
import type { Calculation } from '../src/core/calculus.js';
import { buildManifest, leafHeads } from '../src/core/manifest.js';
import { nativeAddon } from '../src/core/native.js';
import type { PayeeColumns } from '../src/core/shares.js';
import { encodeEach, quoteEach, useNativeQuote } from '../src/core/utf8.js';
import { LIMBS } from '../src/core/wide.js';

const { values } = parseArgs({ options: { payees: { type: 'string', default: '909402' }, actors: { type: 'string', default: '1000000' }, js: { type: 'boolean', default: false }, heads: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
const m = Number(values.payees);
const nActors = Number(values.actors);
const native = values.js ? null : nativeAddon();
useNativeQuote(native !== null);

let seed = 1;
const rand = (): number => {
  seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
  return seed / 2 ** 32;
};
const actors = Array.from({ length: nActors }, (_, i) => `did:ron:n${String(i).padStart(7, '0')}`);
const index = new Uint32Array(m);
const step = nActors / m;
for (let i = 0; i < m; i++) index[i] = Math.floor(i * step);
const amount = new Float64Array(m * LIMBS);
const score = new Float64Array(m);
for (let i = 0; i < m; i++) {
  const top = 2 + Math.floor(rand() * 2); // amounts of 10^14..10^28
  for (let k = 0; k <= top; k++) amount[i * LIMBS + k] = Math.floor(rand() * 1e7);
  score[i] = Math.floor(rand() * 2 ** 40);
}
const columns: PayeeColumns = { count: m, actors, index, amount, score };
const calc = {
  counts: { actors: nActors, events: 10 * nActors, ignoredEvents: 0, excludedActors: 0, payees: m },
  totals: { poolInput: 10n ** 30n, pool: 10n ** 30n, payout: 10n ** 30n, residual: 0n, capped: 0n, belowMin: 0n, roundingDust: 0n },
  arithmetic: 'number',
  columns,
  payees: [],
} as Calculation;
const ref = { epochId: 'e', inputsCid: `b3:${'0'.repeat(64)}`, policyId: 'p', policyHash: `b3:${'1'.repeat(64)}`, window: { startMs: 0, endMs: 1 } };

const wallMs: number[] = [];
/** CPU ms of f (all threads of the process: the addon writes and hashes on two above 65,536 payees); its wall ms into wallMs. */
const cpu = (f: () => void): number => {
  const c0 = cpuUsage();
  const t0 = performance.now();
  f();
  wallMs.push(performance.now() - t0);
  const c = cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const ids = encodeEach(actors);
let names = quoteEach(ids);
const runs = Number(values.runs);
const quoteMs: number[] = [];
const manifestMs: number[] = [];
const manifestWall: number[] = [];
let size = 0;
for (let r = 0; r < runs; r++) {
  const heads = values.heads ? leafHeads(names) : undefined;
  manifestMs.push(cpu(() => (size = buildManifest(ref, calc, names, heads, native).bytes.length)));
  manifestWall.push(wallMs.pop() as number);
  quoteMs.push(cpu(() => (names = quoteEach(ids))));
}
const f = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' / ');
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
process.stdout.write(`${native === null ? 'TypeScript' : 'native'} writers${values.heads ? ' with heads' : ''}, ${m} payees of ${nActors} actors, manifest ${(size / 2 ** 20).toFixed(0)} MiB\n`);
if (runs > 5) process.stdout.write(`buildManifest CPU ms: first ${f(manifestMs.slice(0, 1))}, median ${med(manifestMs.slice(1)).toFixed(2)}; quoteEach median ${med(quoteMs).toFixed(2)}\n`);
else process.stdout.write(`buildManifest CPU ms per run: ${f(manifestMs)} (wall ${f(manifestWall)})\nquoteEach CPU ms per run:     ${f(quoteMs)}\n`);
