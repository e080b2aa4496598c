#!/usr/bin/env -S node --no-lazy-feedback-allocation --max-semi-space-size=32 --initial-old-space-size=128
// Launcher for the CLI compiled to dist/ (built by `prepare` on npm ci).
//
// A `rewarder compute` process runs its hot loops once, cold. Two V8 settings measured on the
// M vector cut that run by ~40 %: allocating feedback vectors eagerly lets the decoder's loops
// optimise sooner, and a larger young generation spares most scavenges of the decode's
// allocations. The shebang passes them when the file is executed (npx rewarder, ./bin/rewarder.js);
// `node bin/rewarder.js` gets the first one here, before any of the CLI's code is loaded. The
// shebang also carries the `serve` process's heap setting (src/cli/serve-flags.ts), which only
// node's command line can set: `node bin/rewarder.js serve` runs without it (see README).
//
// `compute` runs from one bundled file with a V8 code cache (made by the build:
// scripts/bundle-cli.ts) when its stamp says it was made from the dist/ files there now; anything
// missing, stale or unreadable falls back to dist/src/cli/main.js, the same command
// (PERFORMANCE.md, "The CLI's cold path"). REWARDER_NO_BUNDLE=1 always takes main.js.
// This file is CommonJS (bin/package.json): an ES module entry would start Node's ESM loader
// before anything runs (~6 % of a bare Node start, counted with callgrind); main.js is imported
// only when needed.
/* global process, __dirname, Buffer */
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const { Script } = require('node:vm');

// node:v8 loads heap-snapshot stream code (~35 M instructions): only when the flag is not given.
if (!process.execArgv.includes('--no-lazy-feedback-allocation')) require('node:v8').setFlagsFromString('--no-lazy-feedback-allocation');
if (process.argv[2] !== 'compute' || process.env.REWARDER_NO_BUNDLE === '1' || !bundled()) {
  // A failure to load is thrown as an unhandled rejection: the stack on stderr, exit 1.
  import('../dist/src/cli/main.js');
}

/** Starts the bundled `compute` and returns true, or returns false (before running anything) when it is not current. */
function bundled() {
  const root = `${resolve(__dirname, '..')}/`;
  const dir = `${root}dist/src/cli/`;
  let stamp, source;
  try {
    stamp = JSON.parse(readFileSync(`${dir}compute.bundle.json`, 'utf8'));
    if (stamp.version !== 2) return false;
    // BLAKE3 from our addon, which compute loads anyway; node:crypto's SHA-256 (crypto and the
    // stream modules it loads: ~55 M instructions) only without the addon.
    let digest, digests;
    try {
      const addon = require(`${root}native/build/Release/rewarder_native.node`);
      if (stamp.blake3 === undefined) throw new Error('no BLAKE3 digests in the stamp');
      digest = (bytes) => Buffer.from(addon.blake3(bytes)).toString('hex');
      digests = stamp.blake3;
    } catch {
      digest = (bytes) => require('node:crypto').createHash('sha256').update(bytes).digest('hex');
      digests = stamp.sha256;
    }
    const parts = [];
    for (const file of stamp.inputs) parts.push(Buffer.from(`${file}\0`), readFileSync(root + file), Buffer.from('\0'));
    if (digest(Buffer.concat(parts)) !== digests.inputs) return false;
    source = readFileSync(`${dir}compute.bundle.cjs`);
    if (digest(source) !== digests.bundle) return false;
    source = source.toString('utf8');
  } catch {
    return false;
  }
  // Named by the bundle's digest: a cache is never read for another bundle.
  const cacheFile = `${dir}compute.bundle.${stamp.sha256.bundle.slice(0, 16)}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined; // no cache: V8 compiles the bundle as usual
  }
  const filename = `${dir}compute.bundle.cjs`;
  // V8 checks the cache against its version, flags and the source's length (a rejected cache only
  // costs the compile).
  const script = new Script(`(function (require, __rewarder_bundle_url) {${source}\n})`, { filename, cachedData });
  script.runInThisContext()(createRequire(filename), pathToFileURL(filename).href);
  if (process.env.REWARDER_WRITE_CODE_CACHE === '1') {
    // The build's training run (scripts/bundle-cli.ts): after the command, so that the cache
    // holds the functions compute compiled, not only the top level.
    process.once('beforeExit', () => writeFileSync(cacheFile, script.createCachedData()));
  }
  return true;
}
