// `rewarder explain`: SPEC §11 offline, the same bytes the service answers, so a payee or an
// auditor holding the sealed documents needs no trust in the service.
//
// With `--correction DOC` (the manifest's epoch superseded another, SPEC §13) it also says what the
// correction changed for the actor: `{"correction": {…}, "explanation": <the §11 document>}` (JCS),
// where the correction part gives what the superseded chain had paid the actor (as acknowledged by
// the ledger: the correction's basis), the new amount, and the credit or debit that moves one to
// the other (null when none). Whether the correction follows from the chain is
// `rewarder verify-correction`'s question; here it must at least be this manifest's correction.

import { explainManifest, explanationBytes, offlineExplainer } from '../core/explain.js';
import { b3 } from '../core/hash.js';
import { decodeInputs } from '../core/inputs.js';
import { isObject, parseStrictJson } from '../core/json/parse.js';
import { decodePolicy } from '../core/policy.js';
import { formatDocError } from '../core/result.js';
import { type CorrectionDocument, correctionShape } from '../core/correction.js';
import { canonicalBytes } from '../core/jcs.js';
import { CliError, args, readInput, required, writeStdout } from './io.js';

export function explainCmd(argv: string[]): number {
  const { values, positionals } = args(argv, { inputs: { type: 'string' }, policy: { type: 'string' }, correction: { type: 'string' } }, 2);
  const [file, actor] = positionals as [string, string];
  const inputsFile = required(values, 'inputs');
  const policyFile = required(values, 'policy');
  const parsed = parseStrictJson(readInput(file));
  if (!parsed.ok) throw new CliError(`${file}: ${formatDocError(parsed.error)}`);
  const manifest = explainManifest(parsed.value);
  if (typeof manifest === 'string') throw new CliError(`${file}: ${manifest}`);
  const inputsBytes = readInput(inputsFile);
  const policyBytes = readInput(policyFile);
  // The explanation is of this manifest's run: documents it was not computed from are refused
  // before anything is recomputed (exit 1, as a failed verify).
  const doc = parsed.value as Record<string, unknown>;
  if (doc.inputs_cid !== b3(inputsBytes)) throw new CliError(`${inputsFile} is not the inputs ${file} was computed from`, 1);
  if (!isObject(doc.policy) || doc.policy.hash !== b3(policyBytes)) throw new CliError(`${policyFile} is not the policy ${file} was computed from`, 1);
  const inputs = decodeInputs(inputsBytes);
  if (!inputs.ok) throw new CliError(`${inputsFile}: ${formatDocError(inputs.error)}`);
  const policy = decodePolicy(policyBytes);
  if (!policy.ok) throw new CliError(`${policyFile}: ${formatDocError(policy.error)}`);
  const correction = values.correction === undefined ? null : readCorrection(values.correction, doc);
  const r = offlineExplainer(inputs.value, policy.value, manifest)(actor);
  if (!r.ok) throw new CliError(`${file}: ${r.error}`, 1);
  const explanation = explanationBytes(r.value);
  if (correction === null) {
    writeStdout(explanation);
    return 0;
  }
  const amount = amountOf(doc, actor);
  const entry = correction.entries.find((e) => e.actor === actor) ?? null;
  const delta = entry === null ? 0n : entry.op === 'credit' ? BigInt(entry.amount_minor) : -BigInt(entry.amount_minor);
  writeStdout(
    canonicalBytes({
      correction: {
        epoch_id: correction.epoch_id,
        supersedes: correction.supersedes,
        correction_commitment: correction.correction_commitment,
        // Signed: a basis that debited more than it credited leaves the ledger a receivable.
        paid_before_minor: String(amount - delta),
        amount_minor: String(amount),
        change: entry === null ? null : { op: entry.op, amount_minor: entry.amount_minor },
      },
      explanation: JSON.parse(new TextDecoder().decode(explanation)) as unknown,
    }),
  );
  return 0;
}

/** A correction document of the manifest's own epoch (its `commitment`), else exit 1. */
function readCorrection(file: string, manifest: Record<string, unknown>): CorrectionDocument {
  const parsed = parseStrictJson(readInput(file));
  if (!parsed.ok) throw new CliError(`${file}: ${formatDocError(parsed.error)}`);
  const problem = correctionShape(parsed.value);
  if (problem !== null) throw new CliError(`${file}: ${problem}`);
  const doc = parsed.value as unknown as CorrectionDocument;
  if (doc.commitment !== manifest.commitment) throw new CliError(`${file} is not the correction of this manifest (commitment ${doc.commitment})`, 1);
  return doc;
}

/** The actor's amount in the manifest (0 when it is not a payee). */
function amountOf(manifest: Record<string, unknown>, actor: string): bigint {
  const payouts = Array.isArray(manifest.payouts) ? (manifest.payouts as unknown[]) : [];
  for (const p of payouts) if (isObject(p) && p.actor === actor && typeof p.amount_minor === 'string') return BigInt(p.amount_minor);
  return 0n;
}
