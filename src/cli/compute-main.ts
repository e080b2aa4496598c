// The entry of the bundled `rewarder compute` (dist/src/cli/compute.bundle.cjs, made by
// scripts/bundle-cli.ts): the same command and the same ending as main.ts's `compute`, without the
// other commands' modules. bin/rewarder.js runs the bundle with a V8 code cache when both are
// current, and main.js otherwise (PERFORMANCE.md, "The CLI's cold path").
import { computeCmd } from './commands.js';
import { finish } from './io.js';

finish((async () => computeCmd(process.argv.slice(3)))());
