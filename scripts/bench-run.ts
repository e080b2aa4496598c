// `node dist/scripts/bench-run.js`: one compute worker's warm path at a scale, as the service runs
// it (inputs prepared once: tally and quoted names cached; every run a fresh policy variant and
// epoch): calculus, manifest (leaves, tree, JCS, commitment) and ledger parts. Prints the median
// ms of each step; with `--runs=0` it only prepares, so that `valgrind --tool=callgrind` counts of
// `--runs=N` minus `--runs=0` are the instructions of N runs, free of machine noise
// (scripts/instr.sh does exactly that).
//
//   node dist/scripts/bench-run.js [--profile=gen|token] [--scale=M] [--runs=20] [--warmups=5] [--dir=DIR]
//
// --dir reads DIR/inputs.json and DIR/policy.json (from `rewarder gen`) instead of generating
// them here: under valgrind, generating M costs minutes.
import { readFileSync } from 'node:fs';
import { actorIds, prepare } from '../src/compute/protocol.js';
import { calculate } from '../src/core/calculus.js';
import { b3 } from '../src/core/hash.js';
import { decodeInputs } from '../src/core/inputs.js';
import { intentParts } from '../src/core/intents.js';
import { buildManifest, manifestHead } from '../src/core/manifest.js';
import { decodePolicy } from '../src/core/policy.js';
import type { Scale } from '../src/gen/generate.js';
import { type Profile, generateProfile, isProfile } from '../src/gen/profiles.js';
import { policyVariant } from './bench-kit.js';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? dflt;
const profile = arg('profile', 'token');
if (!isProfile(profile)) throw new Error('--profile must be gen or token');
const scale = arg('scale', 'M') as Scale;
const runs = Number(arg('runs', '20'));
const warmups = Number(arg('warmups', '5'));

const dir = arg('dir', '');
const g =
  dir === ''
    ? generateProfile({ profile: profile as Profile, scale, seed: 1, form: 'columnar' })
    : { inputs: new Uint8Array(readFileSync(`${dir}/inputs.json`)), policy: new Uint8Array(readFileSync(`${dir}/policy.json`)) };
const decoded = decodeInputs(g.inputs);
if (!decoded.ok) throw new Error('inputs do not decode');
const cid = b3(g.inputs);
const prepared = prepare(cid, decoded.value);
const actors = actorIds(prepared);
const policies = Array.from({ length: warmups + runs }, (_, i) => new TextEncoder().encode(policyVariant(g.policy, i)));

const times = { policy: [] as number[], calculus: [] as number[], manifest: [] as number[], parts: [] as number[], total: [] as number[] };
let bytes = 0;
for (let i = 0; i < (runs === 0 ? 0 : warmups + runs); i++) {
  const t0 = performance.now();
  const policy = decodePolicy(policies[i] as Uint8Array);
  if (!policy.ok) throw new Error('policy does not decode');
  const t1 = performance.now();
  const calc = calculate({ ...prepared.tally, actors }, policy.value);
  if (!calc.ok) throw new Error('invariant breach');
  const t2 = performance.now();
  const ref = { epochId: `run-${i}`, inputsCid: cid, policyId: policy.value.id, policyHash: b3(policies[i] as Uint8Array), window: prepared.tally.window };
  const manifest = buildManifest(ref, calc.value, prepared.names);
  const t3 = performance.now();
  const parts = intentParts(manifestHead(ref, manifest, calc.value), manifest.leaves);
  const t4 = performance.now();
  bytes = manifest.bytes.length + parts.length;
  if (i < warmups) continue;
  times.policy.push(t1 - t0);
  times.calculus.push(t2 - t1);
  times.manifest.push(t3 - t2);
  times.parts.push(t4 - t3);
  times.total.push(t4 - t0);
}
const median = (xs: number[]) => (xs.length === 0 ? Number.NaN : ([...xs].sort((a, b) => a - b)[xs.length >> 1] as number));
const f = (xs: number[]) => median(xs).toFixed(2).padStart(8);
console.log(`${dir === '' ? `${profile} ${scale}` : dir}: ${runs} warm runs after ${warmups}, median ms; manifest ${bytes} bytes`);
console.log('  policy calculus manifest    parts    total');
console.log(`${f(times.policy)} ${f(times.calculus)} ${f(times.manifest)} ${f(times.parts)} ${f(times.total)}`);
