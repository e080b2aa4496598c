// `npm run bench:stub`: what the ledger stub spends reading one ledger part (testing/ledger-stub/
// intent.ts): a real part body of 4096 credits as the rewarder writes it, read whole (scan and
// digest), and the digest alone (the scan is the difference), median of warm runs. The stub shares the cores with the rewarder in
// every loopback benchmark, so its CPU per part is part of what those measure. A benchmark, not a
// test: it prints figures and asserts nothing beyond the reading being right.
import { hash } from 'blake3';
import { intentParts } from '../src/core/intents.js';
import { percentile } from './bench-kit.js';
import type { ManifestHead } from '../src/core/manifest.js';
import { readIntent } from '../testing/ledger-stub/intent.js';

const RUNS = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 9);
const PER_RUN = 300;

// Actor ids shaped like those `gen` makes, amounts of 6 to 8 digits.
const hex = (n: number) => n.toString(16).padStart(64, '0');
const head = { run_key: `b3:${hex(1)}`, commitment: `b3:${hex(2)}`, payouts_root: `b3:${hex(3)}`, epoch_id: '2026-01-01' } as ManifestHead;
const credits = Array.from({ length: 4096 }, (_, i) => ({ actor: `did:ron:n${String(i * 37).padStart(9, '0')}`, amount_minor: String(100_000 + ((i * 7_919) % 90_000_000)) }));
const [part] = intentParts(head, credits);
if (part === undefined) throw new Error('no part');
const body = Buffer.from(part.body);

const check = readIntent(body, part.partId);
if (!check.ok || check.intent.credits !== 4096) throw new Error(`misread part: ${JSON.stringify(check)}`);

console.log(`node ${process.version}, one part of ${check.intent.credits} credits, ${body.length} bytes`);
console.log(`median of ${RUNS} runs of ${PER_RUN} reads after 2 warm-up runs, µs per part`);
const rows: [string, () => void][] = [
  ['readIntent (scan and digest)', () => readIntent(body, part.partId)],
  ['BLAKE3 digest alone', () => hash(body)],
];
const times: number[][] = rows.map(() => []);
for (let i = 0; i < RUNS + 2; i++) {
  rows.forEach(([, run], r) => {
    const t0 = performance.now();
    for (let k = 0; k < PER_RUN; k++) run();
    if (i >= 2) (times[r] as number[]).push(((performance.now() - t0) * 1000) / PER_RUN);
  });
}
rows.forEach(([label], r) => console.log(`${label.padEnd(36)} ${percentile(times[r] as number[], 50).toFixed(1).padStart(7)}`));
