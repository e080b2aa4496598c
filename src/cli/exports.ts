// `rewarder export` (SPEC §12: accounting CSV, OpenZeppelin claim tree) and `rewarder proofs`
// (every payee's inclusion proof and claim proof in one pass, in chunked files with an index).
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type ExportPayee, buildClaimTree, claimDumpChunks, claimProof, csvChunks, exportPayees, nodeHex } from '../core/exports.js';
import { formatDigest } from '../core/hash.js';
import { parseStrictJson } from '../core/json/parse.js';
import { manifestPayouts } from '../core/proof.js';
import { buildProofIndex, proveFromIndex } from '../core/proof-index.js';
import { formatDocError } from '../core/result.js';
import { CliError, args, readInput, required } from './io.js';

function readManifest(file: string): { doc: unknown; payees: ExportPayee[] } {
  const parsed = parseStrictJson(readInput(file));
  if (!parsed.ok) throw new CliError(`${file}: ${formatDocError(parsed.error)}`);
  const payees = exportPayees(parsed.value);
  if (typeof payees === 'string') throw new CliError(`${file}: ${payees}`);
  return { doc: parsed.value, payees };
}

/** Writes text pieces to a file, or to stdout (fd 1) when `file` is undefined. */
function writeAll(file: string | undefined, pieces: Iterable<string>): void {
  const fd = file === undefined ? 1 : openSync(file, 'w');
  try {
    for (const p of pieces) {
      const b = Buffer.from(p, 'utf8');
      let off = 0;
      while (off < b.length) off += writeSync(fd, b, off, b.length - off);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') throw e;
  } finally {
    if (file !== undefined) closeSync(fd);
  }
}

export function exportCmd(argv: string[]): number {
  const { values, positionals } = args(argv, { format: { type: 'string' }, out: { type: 'string' } }, 1);
  const file = positionals[0] as string;
  const format = required(values, 'format');
  if (format !== 'csv' && format !== 'oz-tree') throw new CliError('--format must be csv or oz-tree');
  const { payees } = readManifest(file);
  if (format === 'csv') {
    writeAll(values.out, csvChunks(payees));
    return 0;
  }
  if (payees.length === 0) throw new CliError(`${file}: no payees, and an OpenZeppelin claim tree needs at least one`, 1);
  writeAll(values.out, claimDumpChunks(payees, buildClaimTree(payees)));
  return 0;
}

/** Payees per chunk file unless --chunk says otherwise. */
const DEFAULT_CHUNK = 10_000;

export function proofsCmd(argv: string[]): number {
  const { values, positionals } = args(argv, { out: { type: 'string' }, chunk: { type: 'string' } }, 1);
  const file = positionals[0] as string;
  const dir = required(values, 'out');
  const chunkText = values.chunk ?? String(DEFAULT_CHUNK);
  if (!/^[1-9][0-9]{0,7}$/.test(chunkText)) throw new CliError('--chunk must be an integer from 1 to 99999999');
  const chunk = Number(chunkText);
  const { doc, payees } = readManifest(file);
  const m = manifestPayouts(doc);
  if (typeof m === 'string') throw new CliError(`${file}: ${m}`);
  // One tree build for every proof (not one walk per payee), checked against the manifest's root.
  const ix = buildProofIndex(m);
  const levels = ix.levelStarts.length - 1;
  if (ix.size > 0) {
    const top = (ix.levelStarts[levels - 1] as number) * 32;
    if (formatDigest(ix.nodes.subarray(top, top + 32)) !== m.payouts_root) throw new CliError(`${file}: its payouts do not hash to its payouts_root`, 1);
  }
  const claims = payees.length > 0 ? buildClaimTree(payees) : null;
  mkdirSync(dir, { recursive: true });
  const chunks: { file: string; first: string; last: string; count: number }[] = [];
  for (let from = 0; from < payees.length; from += chunk) {
    const to = Math.min(payees.length, from + chunk);
    const name = `proofs-${String(chunks.length).padStart(5, '0')}.json`;
    const pieces: string[] = [];
    for (let i = from; i < to; i++) {
      const p = payees[i] as { actor: string };
      const proof = proveFromIndex(ix, p.actor);
      if (proof === null || proof.leaf_index !== i) throw new CliError(`${file}: payees are not unique and ascending`, 1);
      const claim = claims === null ? [] : claimProof(claims, claims.treeIndex[i] as number);
      pieces.push(JSON.stringify({ ...proof, claim_proof: claim }));
    }
    writeFileSync(join(dir, name), `[${pieces.join(',\n')}]\n`);
    chunks.push({ file: name, first: (payees[from] as { actor: string }).actor, last: (payees[to - 1] as { actor: string }).actor, count: to - from });
  }
  const index = {
    format: 'rewarder.proofs/v1',
    epoch_id: m.epoch_id,
    payouts_root: m.payouts_root,
    claims_root: claims === null ? null : nodeHex(claims, 0),
    claims_leaf_encoding: ['string', 'uint256'],
    payees: payees.length,
    chunk_size: chunk,
    chunks,
  };
  writeFileSync(join(dir, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
  process.stdout.write(`proofs ${payees.length} in ${chunks.length} file(s), index ${join(dir, 'index.json')}\n`);
  return 0;
}
