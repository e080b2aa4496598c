// `rewarder explain`: SPEC §11 offline, the same bytes the service answers, so a payee or an
// auditor holding the sealed documents needs no trust in the service.

import { explainManifest, explanationBytes, offlineExplainer } from '../core/explain.js';
import { b3 } from '../core/hash.js';
import { decodeInputs } from '../core/inputs.js';
import { isObject, parseStrictJson } from '../core/json/parse.js';
import { decodePolicy } from '../core/policy.js';
import { formatDocError } from '../core/result.js';
import { CliError, args, readInput, required, writeStdout } from './io.js';

export function explainCmd(argv: string[]): number {
  const { values, positionals } = args(argv, { inputs: { type: 'string' }, policy: { type: 'string' } }, 2);
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
  const r = offlineExplainer(inputs.value, policy.value, manifest)(actor);
  if (!r.ok) throw new CliError(`${file}: ${r.error}`, 1);
  writeStdout(explanationBytes(r.value));
  return 0;
}
