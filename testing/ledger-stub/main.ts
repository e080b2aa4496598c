// The stub as a process. Its only stdout output is one JSON line once it listens, so a parent can
// read the port; errors go to stderr and bad flags exit 2. SIGTERM/SIGINT close and exit 0.

import { parseCliArgs, USAGE, type CliOptions } from './args.js';
import { startLedgerStub, type LedgerStub } from './server.js';

let opts: CliOptions;
try {
  opts = parseCliArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`ledger-stub: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}

let stub: LedgerStub;
try {
  stub = await startLedgerStub(opts);
} catch (err) {
  process.stderr.write(`ledger-stub: ${(err as Error).message}\n`);
  process.exit(1);
}

process.stdout.write(`${JSON.stringify({ ledger_stub: 'listening', url: stub.url })}\n`);

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  stub.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`ledger-stub: close failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
if (opts.exitWithStdin) {
  // The parent holds our stdin open for its whole life; end-of-file means it died, even by SIGKILL,
  // when its own exit hooks never ran.
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
