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
import v8 from 'node:v8';

v8.setFlagsFromString('--no-lazy-feedback-allocation');
await import('../dist/src/cli/main.js');
