// `npm run bench:core`: bytes → manifest at S/M/L in both forms and both generator profiles
// (`gen`, the default data, and `token`: 18-decimal pools, long ids, ~99 % paid), split into
// decode, calculus and manifest+hashing (including the inputs CID), median of warm runs, plus
// peak RSS. A benchmark, not a test: it prints figures and asserts nothing.
//
//   node dist/scripts/bench-core.js [--runs=N] [--scale=S|M|L] [--profile=gen|token] [--form=row|columnar]
import { calculate } from '../src/core/calculus.js';
import { b3 } from '../src/core/hash.js';
import { decodeInputs } from '../src/core/inputs.js';
import { buildManifest } from '../src/core/manifest.js';
import { decodePolicy } from '../src/core/policy.js';
import type { Form, Scale } from '../src/gen/generate.js';
import { PROFILES, generateProfile } from '../src/gen/profiles.js';

const RUNS = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 7);
const only = process.argv.find((a) => a.startsWith('--scale='))?.slice(8);
const onlyProfile = process.argv.find((a) => a.startsWith('--profile='))?.slice(10);
const onlyForm = process.argv.find((a) => a.startsWith('--form='))?.slice(7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const ms = (x: number) => x.toFixed(1).padStart(7);

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
};

console.log(`node ${process.version}, ${RUNS} warm runs after 2 warm-ups, median ms`);
console.log('profile scale form      bytes   decode calculus manifest    total');
for (const profile of PROFILES) {
  if (onlyProfile !== undefined && onlyProfile !== profile) continue;
  for (const scale of ['S', 'M', 'L'] as Scale[]) {
    if (only !== undefined && only !== scale) continue;
    for (const form of ['columnar', 'row'] as Form[]) {
      if (onlyForm !== undefined && onlyForm !== form) continue;
      const g = generateProfile({ profile, scale, seed: 1, form });
      const policyBytes = g.policy;
      const times = { decode: [] as number[], calc: [] as number[], manifest: [] as number[], total: [] as number[] };
      for (let i = 0; i < RUNS + 2; i++) {
        const t0 = performance.now();
        const inputs = decodeInputs(g.inputs);
        const policy = decodePolicy(policyBytes);
        if (!inputs.ok || !policy.ok) throw new Error('generated documents do not decode');
        const t1 = performance.now();
        const calc = calculate(inputs.value, policy.value);
        if (!calc.ok) throw new Error('generated run breaches an invariant');
        const t2 = performance.now();
        const m = buildManifest(
          {
            epochId: 'bench',
            inputsCid: b3(g.inputs),
            policyId: policy.value.id,
            policyHash: b3(policyBytes),
            window: inputs.value.window,
          },
          calc.value,
        );
        const t3 = performance.now();
        sampleRss();
        if (m.bytes.length === 0) throw new Error('empty manifest');
        if (i < 2) continue;
        times.decode.push(t1 - t0);
        times.calc.push(t2 - t1);
        times.manifest.push(t3 - t2);
        times.total.push(t3 - t0);
      }
      console.log(
        `${profile.padEnd(7)} ${scale.padEnd(5)} ${form.padEnd(8)} ${String(g.inputs.length).padStart(9)} ${ms(median(times.decode))} ${ms(median(times.calc))} ${ms(median(times.manifest))} ${ms(median(times.total))}`,
      );
    }
  }
}
console.log(`peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
