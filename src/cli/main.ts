// `rewarder`: the command-line face of the pure core. Every failure a user can cause is one line
// on stderr and exit code 2 (bad usage or an invalid document) or 1 (a check that did not pass).

import { commands } from './commands.js';
import { CliError, closest } from './io.js';

const USAGE = `usage: rewarder <command> [options]
  seal FILE                                   validate an inputs (JSON or .arrows) or policy document, print its CID
  compute --epoch ID --inputs FILE --policy FILE   print the manifest's exact bytes (inputs JSON or Arrow IPC)
  verify MANIFEST --inputs FILE --policy FILE [--attestation FILE --keys FILE]
                                              recompute and compare byte for byte (and check the signatures)
  keygen --out DIR                            write a new ML-DSA-65 + Ed25519 signing key set
  prove MANIFEST ACTOR                        print a payee's amount and inclusion proof
  explain MANIFEST ACTOR --inputs FILE --policy FILE
                                              why ACTOR got its amount, or nothing (SPEC §11 bytes)
  diff A.json B.json [--top N] [--csv]        compare two manifests: totals, payees added/removed, top N
                                              gainers/losers, distribution (median, p90, p99, top shares, Gini)
  verify-proof PROOF (--root b3:… | --manifest FILE [--attestation FILE --keys FILE])
                                              check an inclusion proof (against a signed root)
  verify-correction CORRECTION --chain MANIFEST… [--corrections DOC…]
                                              recompute a correction (SPEC §13) from the chain's manifests,
                                              its basis part ids and the 4096 slicing; print its part ids
  gen --scale S|M|L|XL --seed N --form row|columnar|arrow [--profile gen|token] [--out DIR]
                                              generate inputs and a policy (token: 18-decimal pools, long ids)
  convert FILE --to row|columnar|arrow [--out FILE]
                                              re-encode inputs in another form (same payouts, another CID)
  export MANIFEST --format csv|oz-tree [--out FILE]
                                              accounting CSV, or the OpenZeppelin StandardMerkleTree dump (SPEC §12)
  proofs MANIFEST --out DIR [--chunk N]       every payee's inclusion and claim proof, N per file, with index.json
  demo                                        seal and compute the shipped SPEC §9 example
  serve [--dev] [--demo]                      run the HTTP service (--dev: AUTH=off; --demo: run the example through it)
  preview --url URL --epoch ID --policy FILE [--inputs FILE] [--top N]
                                              what a candidate policy would pay for a bound epoch of a running
                                              service, compared with what it pays (token: REWARDER_TOKEN)
  ledger-redrive --url URL [--epoch ID]       re-drive ledger parts left failed (token: REWARDER_TOKEN, scope rewarder.admin)
  migrate                                     bring DATABASE_URL's schema to this release (as DATABASE_MIGRATION_URL's role,
                                              granting DATABASE_URL's role only its DML, when set), then exit
  tenancy TOKENS_FILE [--programs FILE]       check the tokens and programs files, print who holds which program`;

/** No command is a usage error: one line on stderr, like every other. */
const SHORT = `missing command: rewarder <command> [options], one of ${Object.keys(commands).join(', ')} (rewarder --help for each one's options)`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (name === undefined) throw new CliError(SHORT);
  const command = commands[name];
  if (command === undefined) {
    const near = closest(name, Object.keys(commands));
    throw new CliError(`unknown command "${name}" (${near !== null ? `did you mean ${near}? ` : ''}try rewarder --help)`);
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliError) {
      process.stderr.write(`rewarder: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    // A bug, not a user error: say so in one line and keep the detail for whoever debugs it.
    process.stderr.write(`rewarder: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (process.env.REWARDER_DEBUG === '1') console.error(e);
    process.exitCode = 70;
  },
);
