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
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Esbuild from 'esbuild';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = `${root}dist/src/cli/`;

/** What the launcher hashes for the inputs: each file's path, NUL, its bytes, NUL, in order. */
function inputsBytes(inputs: readonly string[]): Buffer {
  return Buffer.concat(inputs.flatMap((file) => [Buffer.from(`${file}\0`), readFileSync(root + file), Buffer.from('\0')]));
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Digests {
  bundle: string;
  inputs: string;
}
interface Stamp {
  version: 2;
  /** Always there: the launcher's check without the addon, and the cache's name. */
  sha256: Digests;
  /** When the addon was built: the launcher's check with it (no node:crypto to load). */
  blake3?: Digests;
  inputs: string[];
}

// Nothing to do when the bundle, its stamp and a cache are current (tsc left the inputs as they were).
try {
  const stamp = JSON.parse(readFileSync(`${dir}compute.bundle.json`, 'utf8')) as Stamp;
  if (
    stamp.version === 2 &&
    sha256(inputsBytes(stamp.inputs)) === stamp.sha256.inputs &&
    sha256(readFileSync(`${dir}compute.bundle.cjs`)) === stamp.sha256.bundle &&
    (stamp.blake3 !== undefined) === (nativeBlake3() !== null) &&
    readdirSync(dir).includes(`compute.bundle.${stamp.sha256.bundle.slice(0, 16)}.cache`)
  ) {
    process.exit(0);
  }
} catch {
  // no bundle yet, or an unreadable one: build it
}

/** The addon's BLAKE3 as hex, or null when the addon is not built. */
function nativeBlake3(): ((bytes: Uint8Array) => string) | null {
  try {
    const addon = createRequire(import.meta.url)(`${root}native/build/Release/rewarder_native.node`) as { blake3(b: Uint8Array): Uint8Array };
    return (bytes) => Buffer.from(addon.blake3(bytes)).toString('hex');
  } catch {
    return null;
  }
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
const sourceBytes = Buffer.from(source, 'utf8');
const allInputs = inputsBytes(inputs);
const b3hex = nativeBlake3();
const stamp: Stamp = {
  version: 2,
  sha256: { bundle: sha256(sourceBytes), inputs: sha256(allInputs) },
  ...(b3hex !== null ? { blake3: { bundle: b3hex(sourceBytes), inputs: b3hex(allInputs) } } : {}),
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
