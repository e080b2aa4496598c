// `node dist/scripts/bench-explain.js [--requests N] [--previews N] [--profile gen,token]`: the
// issue 17 targets on warm M epochs of a real server (AUTH=off, memory stores), for each profile
// (`gen`: the M vector, amounts below 2^53; `token`: a token program's M run, 18-decimal pools,
// amounts ~10^17–10^19, src/gen/token.ts): explanation latency (p50/p99 over N sequential
// GET /epochs/{id}/explain/{actor} for actors drawn across the inputs, after one call that builds
// the run's basis and proof index) and preview time against a dry run of the same candidate (one
// preview first, which reads the bound manifest and builds the run's comparison basis; then N
// rounds, each a dry run and a preview of every profile in turn, so the profiles share the
// machine's load: medians, their ratio, and the median of the N paired ratios, steadier than the
// ratio of medians when the load drifts). A benchmark, not a test: it prints the figures beside
// the targets and a final JSON line; it fails only if the harness itself cannot run.

import { parseArgs } from 'node:util';
import { b3 } from '../src/core/hash.js';
import { decodeInputs } from '../src/core/inputs.js';
import { type Profile, PROFILES, generateProfile, isProfile } from '../src/gen/profiles.js';
import { get, post, put, spawnServer } from '../testing/harness.js';
import { percentile, policyVariant } from './bench-kit.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, previews: { type: 'string', default: '15' }, profile: { type: 'string', default: PROFILES.join(',') } } });
const requests = Math.max(10, Number(values.requests));
const previews = Math.max(3, Number(values.previews));
const profiles = values.profile.split(',');
for (const p of profiles) if (!isProfile(p)) throw new Error(`unknown profile ${p} (${PROFILES.join(', ')})`);
const out = (line = '') => process.stdout.write(`${line}\n`);
// The harness validates every answer against the OpenAPI document (ajv): a cost of the tests, not
// of the service, so it stays out of the timings.
process.env.REWARDER_CONTRACT ??= 'off';

/** The candidate policy: `gen` weighs `requests` differently (bench-kit's variant), `token` doubles `compute_ms`. */
function candidateOf(profile: Profile, policy: Uint8Array): Uint8Array {
  if (profile === 'gen') return new TextEncoder().encode(policyVariant(policy, 1));
  const p = JSON.parse(new TextDecoder().decode(policy)) as { id: string; kinds: Record<string, { weight: number }> };
  p.id = 'bench-token-1';
  const kind = p.kinds.compute_ms;
  if (kind === undefined) throw new Error('token policy has no compute_ms');
  kind.weight *= 2;
  return new TextEncoder().encode(JSON.stringify(p));
}

interface Run {
  profile: Profile;
  epoch: string;
  inputsCid: string;
  candidate: { policy_id: string; policy_hash: string };
  dry: number[];
  prev: number[];
  paired: number[];
  /** The preview's pool task parts (its Server-Timing): the candidate's compute and the comparison. */
  taskCompute: number[];
  taskCompare: number[];
  figures: Record<string, number>;
}

/** A Server-Timing entry's duration (ms, 0.1 ms resolution), NaN when absent. */
function serverTiming(header: string | string[] | undefined, name: string): number {
  const m = new RegExp(`(?:^|,\\s*)${name};dur=([0-9.]+)`).exec(String(header ?? ''));
  return m === null ? Number.NaN : Number(m[1]);
}

const server = await spawnServer({ AUTH: 'off', TENANT_RPS_MAX: '1000000' });
try {
  const url = server.url;
  const runs: Run[] = [];
  for (const profile of profiles as Profile[]) {
    const m = generateProfile({ profile, scale: 'M', seed: 1, form: 'columnar' });
    const inputs = decodeInputs(m.inputs);
    if (!inputs.ok) throw new Error(`${profile} M inputs do not decode`);
    const actors = inputs.value.actors;
    // One program per profile: their inputs windows overlap, and a program pays a window once (SPEC §10).
    const epoch = `bench-${profile}:m`;
    const inputsCid = b3(m.inputs);
    await put(url, '/inputs', m.inputs);
    const policy = (await put(url, '/policies', m.policy)).json<{ policy_id: string; policy_hash: string }>();
    const bound = await post(url, `/epochs/${epoch}/compute`, { inputs_cid: inputsCid, ...policy });
    if (bound.status !== 200) throw new Error(`compute: ${bound.status} ${bound.text}`);

    const first = await get(url, `/epochs/${epoch}/explain/${encodeURIComponent(actors[0] as string)}`);
    if (first.status !== 200) throw new Error(`explain: ${first.status} ${first.text}`);
    const ms: number[] = [];
    for (let i = 0; i < requests; i++) {
      const actor = actors[(i * 7919) % actors.length] as string;
      const r = await get(url, `/epochs/${epoch}/explain/${encodeURIComponent(actor)}`);
      if (r.status !== 200) throw new Error(`explain: ${r.status}`);
      ms.push(r.ms);
    }
    const candidate = (await put(url, '/policies', candidateOf(profile, m.policy))).json<{ policy_id: string; policy_hash: string }>();
    const firstPreview = await post(url, `/epochs/${epoch}/preview`, candidate);
    if (firstPreview.status !== 200) throw new Error(`preview: ${firstPreview.status} ${firstPreview.text}`);
    const { a: payees, changed } = firstPreview.json<{ payees: { a: number; changed: number } }>().payees;
    runs.push({
      profile,
      epoch,
      inputsCid,
      candidate,
      dry: [],
      prev: [],
      paired: [],
      taskCompute: [],
      taskCompare: [],
      figures: { actors: actors.length, payees, changed, explain_first_ms: first.ms, explain_p50_ms: percentile(ms, 50), explain_p99_ms: percentile(ms, 99), preview_first_ms: firstPreview.ms },
    });
  }

  for (let i = 0; i < previews; i++) {
    for (const r of runs) {
      const d = await post(url, `/epochs/bench-dry-${r.profile}-${i}/compute`, { inputs_cid: r.inputsCid, ...r.candidate, dry_run: true });
      if (d.status !== 200) throw new Error(`dry run: ${d.status} ${d.text}`);
      r.dry.push(d.ms);
      const p = await post(url, `/epochs/${r.epoch}/preview`, r.candidate);
      if (p.status !== 200) throw new Error(`preview: ${p.status} ${p.text}`);
      r.prev.push(p.ms);
      r.paired.push(p.ms / d.ms);
      r.taskCompute.push(serverTiming(p.headers['server-timing'], 'compute'));
      r.taskCompare.push(serverTiming(p.headers['server-timing'], 'compare'));
    }
  }

  const summary: Record<string, Record<string, number>> = {};
  for (const r of runs) {
    const f = r.figures;
    f.dry_run_median_ms = percentile(r.dry, 50);
    f.preview_median_ms = percentile(r.prev, 50);
    f.preview_over_dry_run = f.preview_median_ms / f.dry_run_median_ms;
    f.preview_over_dry_run_paired_median = percentile(r.paired, 50);
    f.preview_task_compute_median_ms = percentile(r.taskCompute, 50);
    f.preview_task_compare_median_ms = percentile(r.taskCompare, 50);
    summary[r.profile] = f;
    const n = (k: string) => f[k] as number;
    out(`${r.profile} M epoch (${n('actors')} actors, ${n('payees')} payees; the candidate changes ${n('changed')}), ${requests} explanations, ${previews} previews and dry runs`);
    out(`  explain  first ${n('explain_first_ms').toFixed(1)} ms (builds the basis and proof index)`);
    out(`  explain  p50 ${n('explain_p50_ms').toFixed(2)} ms, p99 ${n('explain_p99_ms').toFixed(2)} ms   (target p99 ≤ 5 ms)`);
    out(`  preview  first ${n('preview_first_ms').toFixed(1)} ms (reads the bound manifest, builds the comparison basis)`);
    out(
      `  preview  median ${n('preview_median_ms').toFixed(1)} ms vs dry run ${n('dry_run_median_ms').toFixed(1)} ms = ${n('preview_over_dry_run').toFixed(2)}×, paired rounds' median ${n('preview_over_dry_run_paired_median').toFixed(2)}×   (target ≤ 1.2×)`,
    );
    out(`  preview  in its pool task: the candidate's compute ${n('preview_task_compute_median_ms').toFixed(1)} ms, the comparison ${n('preview_task_compare_median_ms').toFixed(1)} ms (medians)`);
    out(`  paired rounds, in order: ${r.paired.map((x) => x.toFixed(2)).join(' ')}`);
  }
  out(JSON.stringify(summary));
} finally {
  await server.stop();
}
