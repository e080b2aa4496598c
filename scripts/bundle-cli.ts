// Builds the bundled `rewarder compute` that bin/rewarder.js runs (run by `build` and `prepare`
// after tsc): dist/src/cli/compute-main.js and what it imports, as one CommonJS file beside it
// (dist/src/cli/compute.bundle.cjs), a stamp of the dist/ files it was made from
// (compute.bundle.json) and a V8 code cache (compute.bundle.<digest>.cache) written by a training
// run of the launcher on the shipped S vector, so that it holds the functions a
// compute compiles. Without esbuild (a production install) it removes the old bundle and exits 0:
// the launcher then runs dist/src/cli/main.js, as it does whenever the stamp does not match.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = `${root}dist/src/cli/`;

/** The digest of the stamped dist/ files as they are now (the launcher computes the same). */
function inputsDigest(inputs: readonly string[]): string {
  const h = createHash('sha256');
  for (const file of inputs) h.update(file).update('\0').update(readFileSync(root + file)).update('\0');
  return h.digest('hex');
}

// Nothing to do when the bundle, its stamp and a cache are current (tsc left the inputs as they were).
try {
  const stamp = JSON.parse(readFileSync(`${dir}compute.bundle.json`, 'utf8')) as { bundleSha256: string; inputsSha256: string; inputs: string[] };
  const source = readFileSync(`${dir}compute.bundle.cjs`);
  if (
    inputsDigest(stamp.inputs) === stamp.inputsSha256 &&
    createHash('sha256').update(source).digest('hex') === stamp.bundleSha256 &&
    readdirSync(dir).includes(`compute.bundle.${stamp.bundleSha256.slice(0, 16)}.cache`)
  ) {
    process.exit(0);
  }
} catch {
  // no bundle yet, or an unreadable one: build it
}
for (const f of readdirSync(dir)) if (f.startsWith('compute.bundle.')) rmSync(dir + f);

let esbuild: typeof Esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  process.stderr.write('svc-rewarder: esbuild is not installed; `rewarder compute` runs unbundled (slower start)\n');
  process.exit(0);
}

const result = await esbuild.build({
  absWorkingDir: root,
  entryPoints: ['dist/src/cli/compute-main.js'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // The addon and the `blake3` package are found relative to the module (dist/src/core/ → root);
  // the bundle sits at the same depth (dist/src/cli/), and the launcher passes its URL.
  define: { 'import.meta.url': '__rewarder_bundle_url' },
  write: false,
  metafile: true,
  outfile: 'dist/src/cli/compute.bundle.cjs',
  logLevel: 'warning',
});
const out = result.outputFiles[0];
const meta = Object.values(result.metafile.outputs)[0];
if (out === undefined || meta === undefined) throw new Error('esbuild wrote no bundle');
const source = out.text;
const inputs = Object.keys(meta.inputs).sort();
writeFileSync(`${dir}compute.bundle.cjs`, source);
const stamp = {
  version: 1,
  bundleSha256: createHash('sha256').update(source).digest('hex'),
  inputsSha256: inputsDigest(inputs),
  inputs,
};
writeFileSync(`${dir}compute.bundle.json`, `${JSON.stringify(stamp, null, 1)}\n`);

// The training run: the launcher with its shebang's flags (V8 rejects a cache made under other
// flags), on the S vector, the cache written after the run.
const flags = readFileSync(`${root}bin/rewarder.js`, 'utf8').split('\n')[0]?.split(' ').filter((a) => a.startsWith('--')) ?? [];
const training = ['--epoch', 'e1', '--inputs', 'vectors/S/inputs-columnar.json', '--policy', 'vectors/S/policy.json'];
const r = spawnSync(process.execPath, [...flags, 'bin/rewarder.js', 'compute', ...training], {
  cwd: root,
  env: { ...process.env, REWARDER_WRITE_CODE_CACHE: '1' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (r.status !== 0) {
  // Without a cache the bundle still runs (compiled as usual); say so, do not fail the build.
  for (const f of readdirSync(dir)) if (f.endsWith('.cache')) rmSync(dir + f);
  process.stderr.write(`svc-rewarder: the code cache's training run failed (exit ${r.status}); compute runs without it\n`);
}
