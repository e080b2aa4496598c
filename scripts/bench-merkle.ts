// `npm run bench:merkle`: payouts_root of 10k payees (leaves of ~54 bytes) with the TypeScript tree
// and with the native addon, median of warm runs. A benchmark, not a test: it prints figures and
// asserts nothing beyond both implementations giving the same root.
import { merkleRootJs, merkleRootOfRangesJs } from '../src/core/merkle-js.js';
import { leafData, merkleBackend, merkleRoot, merkleRootOfRanges } from '../src/core/merkle.js';
import { encodeEach } from '../src/core/utf8.js';

const RUNS = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 21);
const N = Number(process.argv.find((a) => a.startsWith('--leaves='))?.slice(9) ?? 10_000);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const decoder = new TextDecoder();
const texts = Array.from({ length: N }, (_, i) =>
  decoder.decode(leafData(`did:ron:n-${String(i).padStart(5, '0')}`, String(1_000_003 * (i + 1)))),
);
const { bytes, offsets } = encodeEach(texts);
// What manifest.ts passes: views back to back in one buffer. What proof.ts passes: separate arrays.
const views = texts.map((_, i) => bytes.subarray(offsets[i]!, offsets[i + 1]!));
const separate = views.map((v) => v.slice());

console.log(`node ${process.version}, ${N} leaves of ${(bytes.length / N).toFixed(1)} bytes on average, backend ${merkleBackend()}`);
console.log(`median of ${RUNS} warm runs after 3 warm-ups, interleaved so that a load change hits every row alike, ms`);
const backend = merkleBackend().padEnd(6);
const rows: [string, () => Uint8Array][] = [
  ['js     merkleRoot(leaves)', () => merkleRootJs(views)],
  ['js     merkleRootOfRanges', () => merkleRootOfRangesJs(bytes, offsets, N)],
  [`${backend} merkleRootOfRanges`, () => merkleRootOfRanges(bytes, offsets, N)],
  [`${backend} merkleRoot(views of one buffer)`, () => merkleRoot(views)],
  [`${backend} merkleRoot(separate arrays)`, () => merkleRoot(separate)],
];
// The first call of each row is kept apart: the TypeScript tree runs it unoptimised, which is what a
// one-shot CLI process pays.
const first: number[] = [];
const times: number[][] = rows.map(() => []);
const roots = new Set<string>();
for (let i = 0; i < RUNS + 3; i++) {
  rows.forEach(([, run], r) => {
    const t0 = performance.now();
    const root = run();
    const t = performance.now() - t0;
    if (i === 0) first.push(t);
    if (i >= 3) times[r]!.push(t);
    roots.add(Buffer.from(root).toString('hex'));
  });
}
if (roots.size !== 1) throw new Error('the implementations disagree on the root');
const base = median(times[0]!);
console.log(`${'row'.padEnd(40)}  median  speed-up  first call`);
rows.forEach(([name], r) => {
  const ms = median(times[r]!);
  console.log(`${name.padEnd(40)} ${ms.toFixed(2).padStart(7)}  ${(base / ms).toFixed(1).padStart(7)}×  ${first[r]!.toFixed(1).padStart(10)}`);
});
