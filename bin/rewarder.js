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
/* global process, __dirname */
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { resolve } = require('node:path');
const { pathToFileURL } = require('node:url');
const v8 = require('node:v8');
const { Script } = require('node:vm');

v8.setFlagsFromString('--no-lazy-feedback-allocation');
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
    if (stamp.version !== 1) return false;
    const inputs = createHash('sha256');
    for (const file of stamp.inputs) inputs.update(file).update('\0').update(readFileSync(root + file)).update('\0');
    if (inputs.digest('hex') !== stamp.inputsSha256) return false;
    source = readFileSync(`${dir}compute.bundle.cjs`, 'utf8');
    if (createHash('sha256').update(source).digest('hex') !== stamp.bundleSha256) return false;
  } catch {
    return false;
  }
  const cacheFile = `${dir}compute.bundle.${stamp.bundleSha256.slice(0, 16)}.cache`;
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    cachedData = undefined; // no cache: V8 compiles the bundle as usual
  }
  const filename = `${dir}compute.bundle.cjs`;
  // V8 checks the cache against its version, flags and the source's length (a rejected cache only
  // costs the compile); the file name carries the bundle's digest for everything else.
  const script = new Script(`(function (require, __rewarder_bundle_url) {${source}\n})`, { filename, cachedData });
  script.runInThisContext()(createRequire(filename), pathToFileURL(filename).href);
  if (process.env.REWARDER_WRITE_CODE_CACHE === '1') {
    // The build's training run (scripts/bundle-cli.ts): after the command, so that the cache
    // holds the functions compute compiled, not only the top level.
    process.once('beforeExit', () => writeFileSync(cacheFile, script.createCachedData()));
  }
  return true;
}
