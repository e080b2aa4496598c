// `rewarder verify-correction CORRECTION --chain MANIFEST… [--corrections DOC…]` (SPEC §13
// "Offline"): recomputes a correction from the chain's manifests, the basis part ids and the 4096
// slicing (src/core/correction.ts). Exit 0 when the document is exactly what they give, 1 naming the
// first difference, 2 for bad usage or a file that is not a manifest or correction document.

import {
  type ChainManifest,
  type CorrectionDocument,
  chainManifest,
  correctionParts,
  correctionShape,
  verifyCorrection,
} from '../core/correction.js';
import { canonicalBytes } from '../core/jcs.js';
import { parseStrictJson } from '../core/json/parse.js';
import { formatDocError } from '../core/result.js';
import { CliError, readInput, unknownOption } from './io.js';

const LISTS = ['chain', 'corrections'] as const;
type List = (typeof LISTS)[number];

/** Each list option takes every argument after it up to the next option, and may be repeated. */
function parse(argv: readonly string[]): { file: string; lists: Record<List, string[]> } {
  const lists: Record<List, string[]> = { chain: [], corrections: [] };
  const positionals: string[] = [];
  let into: string[] = positionals;
  for (const a of argv) {
    if (a.startsWith('--')) {
      const name = LISTS.find((l) => `--${l}` === a);
      if (name === undefined) throw new CliError(unknownOption(a, LISTS));
      into = lists[name];
    } else if (a.startsWith('-') && a !== '-') {
      throw new CliError(unknownOption(a, LISTS));
    } else {
      into.push(a);
    }
  }
  if (positionals.length !== 1) throw new CliError(`expected 1 argument (the correction document) before the options, got ${positionals.length}`);
  if (lists.chain.length === 0) throw new CliError('--chain is required: the manifests of the corrected epoch and of the chain it supersedes');
  return { file: positionals[0] as string, lists };
}

function readJson(file: string): { bytes: Uint8Array; value: unknown } {
  const bytes = readInput(file);
  const r = parseStrictJson(bytes);
  if (!r.ok) throw new CliError(`${file}: ${formatDocError(r.error)}`);
  return { bytes, value: r.value };
}

function readCorrection(file: string): { bytes: Uint8Array; doc: CorrectionDocument } {
  const { bytes, value } = readJson(file);
  const wrong = correctionShape(value);
  if (wrong !== null) throw new CliError(`${file}: ${wrong}`);
  return { bytes, doc: value as CorrectionDocument };
}

function readManifest(file: string): ChainManifest {
  const m = chainManifest(readJson(file).value);
  if (typeof m === 'string') throw new CliError(`${file}: ${m}`);
  return m;
}

export function verifyCorrectionCmd(argv: string[]): number {
  const { file, lists } = parse(argv);
  const { bytes, doc } = readCorrection(file);
  const manifests = lists.chain.map(readManifest);
  const corrections = lists.corrections.map((f) => readCorrection(f).doc);
  const where = verifyCorrection(doc, manifests, corrections);
  if (where !== null) {
    process.stderr.write(`rewarder: ${file} differs: ${where}\n`);
    return 1;
  }
  // Same values but different bytes: the document is hashed as JCS, so it must be JCS.
  if (Buffer.compare(canonicalBytes(doc), bytes) !== 0) {
    process.stderr.write(`rewarder: ${file} differs: not the canonical bytes (JCS) of the recomputed correction\n`);
    return 1;
  }
  const runKey = (manifests.find((m) => m.commitment === doc.commitment) as ChainManifest).run_key;
  const parts = correctionParts(doc, runKey);
  process.stdout.write(
    `ok ${doc.correction_commitment} ${doc.entries.length} entries in ${parts.length} part(s), ` +
      `credit ${doc.totals.credit_minor} debit ${doc.totals.debit_minor}, basis ${doc.basis.length} part(s)\n`,
  );
  for (const p of parts) process.stdout.write(`part ${p.index}/${p.count} ${p.partId}\n`);
  return 0;
}
