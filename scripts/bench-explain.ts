// `node dist/scripts/bench-explain.js [--requests N] [--previews N]`: the issue 17 targets on a
// warm M epoch of a real server (AUTH=off, memory stores): explanation latency (p50/p99 over N
// sequential GET /epochs/{id}/explain/{actor} for actors drawn across the inputs, after one call
// that builds the run's basis and proof index) and preview time against a dry run of the same
// candidate (medians of N each, alternating, after one preview that reads the bound manifest and
// builds the run's comparison basis; also the median of the N paired ratios, steadier than the
// ratio of medians when the machine's load drifts). A benchmark, not a test: it prints the figures
// beside the targets and a final JSON line; it fails only if the harness itself cannot run.

import { parseArgs } from 'node:util';
import { b3 } from '../src/core/hash.js';
import { decodeInputs } from '../src/core/inputs.js';
import { generate } from '../src/gen/generate.js';
import { get, post, put, spawnServer } from '../testing/harness.js';
import { percentile, policyVariant } from './bench-kit.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '2000' }, previews: { type: 'string', default: '15' } } });
const requests = Math.max(10, Number(values.requests));
const previews = Math.max(3, Number(values.previews));
const out = (line = '') => process.stdout.write(`${line}\n`);
// The harness validates every answer against the OpenAPI document (ajv): a cost of the tests, not
// of the service, so it stays out of the timings.
process.env.REWARDER_CONTRACT ??= 'off';

const m = generate({ scale: 'M', seed: 1, form: 'columnar' });
const inputs = decodeInputs(m.inputs);
if (!inputs.ok) throw new Error('M inputs do not decode');
const actors = inputs.value.actors;
const server = await spawnServer({ AUTH: 'off', TENANT_RPS_MAX: '1000000' });
try {
  const url = server.url;
  await put(url, '/inputs', m.inputs);
  const policy = (await put(url, '/policies', m.policy)).json<{ policy_id: string; policy_hash: string }>();
  const bound = await post(url, '/epochs/bench-m/compute', { inputs_cid: b3(m.inputs), ...policy });
  if (bound.status !== 200) throw new Error(`compute: ${bound.status} ${bound.text}`);

  const first = await get(url, `/epochs/bench-m/explain/${encodeURIComponent(actors[0] as string)}`);
  if (first.status !== 200) throw new Error(`explain: ${first.status} ${first.text}`);
  const ms: number[] = [];
  for (let i = 0; i < requests; i++) {
    const actor = actors[(i * 7919) % actors.length] as string;
    const r = await get(url, `/epochs/bench-m/explain/${encodeURIComponent(actor)}`);
    if (r.status !== 200) throw new Error(`explain: ${r.status}`);
    ms.push(r.ms);
  }

  const candidate = new TextEncoder().encode(policyVariant(m.policy, 1));
  const cand = (await put(url, '/policies', candidate)).json<{ policy_id: string; policy_hash: string }>();
  const firstPreview = await post(url, '/epochs/bench-m/preview', cand);
  if (firstPreview.status !== 200) throw new Error(`preview: ${firstPreview.status} ${firstPreview.text}`);
  const dry: number[] = [];
  const prev: number[] = [];
  const paired: number[] = [];
  for (let i = 0; i < previews; i++) {
    const d = await post(url, `/epochs/bench-dry-${i}/compute`, { inputs_cid: b3(m.inputs), ...cand, dry_run: true });
    if (d.status !== 200) throw new Error(`dry run: ${d.status} ${d.text}`);
    dry.push(d.ms);
    const p = await post(url, '/epochs/bench-m/preview', cand);
    if (p.status !== 200) throw new Error(`preview: ${p.status} ${p.text}`);
    prev.push(p.ms);
    paired.push(p.ms / d.ms);
  }
  const figures = {
    actors: actors.length,
    explain_first_ms: first.ms,
    explain_p50_ms: percentile(ms, 50),
    explain_p99_ms: percentile(ms, 99),
    dry_run_median_ms: percentile(dry, 50),
    preview_median_ms: percentile(prev, 50),
    preview_over_dry_run: percentile(prev, 50) / percentile(dry, 50),
    preview_over_dry_run_paired_median: percentile(paired, 50),
    preview_first_ms: firstPreview.ms,
  };
  out(`M epoch (${actors.length} actors), ${requests} explanations, ${previews} previews and dry runs`);
  out(`explain  first ${figures.explain_first_ms.toFixed(1)} ms (builds the basis and proof index)`);
  out(`explain  p50 ${figures.explain_p50_ms.toFixed(2)} ms, p99 ${figures.explain_p99_ms.toFixed(2)} ms   (target p99 ≤ 5 ms)`);
  out(`preview  first ${figures.preview_first_ms.toFixed(1)} ms (reads the bound manifest, builds the comparison basis)`);
  out(`preview  median ${figures.preview_median_ms.toFixed(1)} ms vs dry run ${figures.dry_run_median_ms.toFixed(1)} ms = ${figures.preview_over_dry_run.toFixed(2)}×, paired rounds' median ${figures.preview_over_dry_run_paired_median.toFixed(2)}×   (target ≤ 1.2×)`);
  out(JSON.stringify(figures));
} finally {
  await server.stop();
}
