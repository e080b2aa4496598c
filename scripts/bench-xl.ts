// `npm run bench:xl [-- --scale XL] [--profile token]`: issue 18's target on this machine — Arrow XL (1M actors,
// 10M events) seal + first compute ≤ 3 s with the service's peak RSS ≤ 1.5 GiB. Prints the
// figures beside the targets. A benchmark, not a test: it fails only if the run cannot complete
// (the correctness of the same path is testing/system/xl.test.ts's, at a reduced scale).
import { parseArgs } from 'node:util';
import type { Scale } from '../src/gen/generate.js';
import { type Profile, isProfile } from '../src/gen/profiles.js';
import { xlRun } from './xl-run.js';

const { values } = parseArgs({ options: { scale: { type: 'string', default: 'XL' }, seed: { type: 'string', default: '1' }, 'cpu-prof': { type: 'string' }, exports: { type: 'boolean', default: false }, 'spool-min-bytes': { type: 'string' }, profile: { type: 'string', default: 'gen' } } });
if (!isProfile(values.profile)) throw new Error('--profile must be gen or token');
const profile: Profile = values.profile;
// `--spool-min-bytes 0`: the upload received into memory instead of spooled to the amnesia tmpfs.
const env = values['spool-min-bytes'] === undefined ? {} : { env: { INPUTS_SPOOL_MIN_BYTES: values['spool-min-bytes'] } };
const r = await xlRun(values.scale as Scale, Number(values.seed), { exports: values.exports, profile, ...env, ...(values['cpu-prof'] === undefined ? {} : { cpuProfDir: values['cpu-prof'] }) });
const mib = (b: number) => (b / 1024 ** 2).toFixed(0);
const out = (s: string) => process.stdout.write(`${s}\n`);
const phases = (p: Record<string, number>) => Object.entries(p).map(([k, v]) => `${k} ${v.toFixed(0)} ms`).join(', ');
out(`scale ${r.scale}: ${r.manifest.counts.actors} actors, ${r.manifest.counts.events} events, ${r.manifest.counts.payees} payees; stream ${mib(r.streamBytes)} MiB`);
out(`seal (PUT /inputs)      ${r.sealMs.toFixed(0)} ms`);
out(`  in the service: ${phases(r.phases.seal)}; CPU main thread ${r.cpu.seal.main} ms, other threads ${r.cpu.seal.others} ms`);
out(`first compute           ${r.computeMs.toFixed(0)} ms`);
out(`  in the service: ${phases(r.phases.compute)}; CPU main thread ${r.cpu.compute.main} ms, other threads ${r.cpu.compute.others} ms`);
out(`seal + first compute    ${(r.sealMs + r.computeMs).toFixed(0)} ms   (target ≤ 3000 ms at XL)`);
out(`/healthz during it     ${r.healthz.ok}/${r.healthz.probes} answered 200, slowest ${r.healthz.maxMs.toFixed(0)} ms`);
out(`service peak RSS        ${mib(r.peakRssBytes)} MiB   (target ≤ 1536 MiB)`);
out(`upload on the tmpfs     ${mib(r.spooledBytes)} MiB   (spooled to AMNESIA_DIR: outside the RSS; --spool-min-bytes 0 keeps it in memory)`);
if (r.exports !== undefined) {
  const e = r.exports;
  out(`export.csv              ${e.csvMs.toFixed(0)} ms, ${mib(e.csvBytes)} MiB; CPU main thread ${e.csvCpu.main} ms, other threads ${e.csvCpu.others} ms; ${e.csvCid}`);
  out(`claims (OZ tree dump)   ${e.claimsMs.toFixed(0)} ms, ${mib(e.claimsBytes)} MiB; CPU main thread ${e.claimsCpu.main} ms, other threads ${e.claimsCpu.others} ms; ${e.claimsCid}`);
  out(`service peak RSS after the exports ${mib(e.peakRssBytes)} MiB`);
}
