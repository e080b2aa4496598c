import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { firstDifferenceFrom } from '../core/diff.js';
import { type InputLimits, decodeInputs } from '../core/inputs.js';
import { encodeArrowInputs } from '../core/arrow/write.js';
import { encodeInputsJson } from '../core/inputs-json.js';
import type { NameKey } from '../core/json/names.js';
import { parseStrictJson } from '../core/json/parse.js';
import { DEFAULT_POLICY_MAX_BYTES, decodePolicy } from '../core/policy.js';
import { checkProof, manifestPayouts, proveActor } from '../core/proof.js';
import { formatDocError } from '../core/result.js';
import { type Run, computeRun, seal } from '../core/run.js';
import type * as NodeCrypto from 'node:crypto';
import type { PublicKey } from '../attest/attestation.js';
import { b3 } from '../core/hash.js';
import { canonicalBytes } from '../core/jcs.js';
import type { Form, Scale } from '../gen/generate.js';
import { CliError, args, readInput, required, writeStdout } from './io.js';

type Command = (argv: string[]) => Promise<number> | number;

/**
 * This process's key for the name tables' hash (src/core/json/names.ts): an auditor verifies
 * files others made, and ids crafted to collide need the key.
 */
let key: NameKey | undefined;
function nameKey(): NameKey {
  if (key === undefined) {
    const k = randomWords(2);
    key = [k[0] as number, k[1] as number];
  }
  return key;
}

/**
 * Words from the OS's CSPRNG: /dev/urandom where there is one, else node:crypto. node:crypto is
 * not loaded at Node's start: it and the stream modules it loads are ~55 M instructions of a cold
 * `rewarder compute` (~4 %, callgrind; PERFORMANCE.md "The CLI's cold path").
 */
function randomWords(n: number): Uint32Array {
  const words = new Uint32Array(n);
  const bytes = new Uint8Array(words.buffer);
  try {
    const fd = openSync('/dev/urandom', 'r');
    try {
      if (readSync(fd, bytes, 0, bytes.length, null) === bytes.length) return words;
    } finally {
      closeSync(fd);
    }
  } catch {
    // no /dev/urandom here: node:crypto below
  }
  const { randomFillSync } = createRequire(import.meta.url)('node:crypto') as typeof NodeCrypto;
  return randomFillSync(words);
}

const out = (s: string | Uint8Array): void => {
  process.stdout.write(s);
};

/**
 * Local files are the operator's own: the CLI takes documents as large as a file can be read
 * (XL and beyond), where the service applies its configured limits.
 */
const CLI_LIMITS: InputLimits = Object.freeze({ maxBytes: 2 ** 31 - 1, maxActors: 50_000_000, maxEvents: 500_000_000, maxArrowBytes: 2 ** 31 - 1 });

function sealCmd(argv: string[]): number {
  const { positionals } = args(argv, {}, 1);
  const file = positionals[0] as string;
  const r = seal(readInput(file), { inputs: CLI_LIMITS, policyMaxBytes: DEFAULT_POLICY_MAX_BYTES }, nameKey());
  if (!r.ok) throw new CliError(`${file}: ${formatDocError(r.error)}`);
  out(`${r.value.cid}\n`);
  return 0;
}

/** Decodes both documents and computes; every failure is a CliError naming the file. */
function runFiles(epochId: string, inputsFile: string, policyFile: string): Run {
  const inputsBytes = readInput(inputsFile);
  const policyBytes = readInput(policyFile);
  const inputs = decodeInputs(inputsBytes, CLI_LIMITS, nameKey());
  if (!inputs.ok) throw new CliError(`${inputsFile}: ${formatDocError(inputs.error)}`);
  const policy = decodePolicy(policyBytes);
  if (!policy.ok) throw new CliError(`${policyFile}: ${formatDocError(policy.error)}`);
  const run = computeRun({
    epochId,
    inputs: inputs.value,
    inputsCid: b3(inputsBytes),
    policy: policy.value,
    policyHash: b3(policyBytes),
  });
  if (run.ok) return run.value;
  if (run.error.kind === 'epoch') throw new CliError(`--epoch: ${run.error.error.reason}`);
  const first = run.error.breaches[0];
  throw new CliError(`quarantined: invariant ${first?.invariant} failed (${first?.detail})`, 3);
}

export function computeCmd(argv: string[]): number {
  const { values } = args(argv, { epoch: { type: 'string' }, inputs: { type: 'string' }, policy: { type: 'string' } }, 0);
  const run = runFiles(required(values, 'epoch'), required(values, 'inputs'), required(values, 'policy'));
  writeStdout(run.manifest.bytes);
  return 0;
}

function parseJsonFile(file: string): unknown {
  const r = parseStrictJson(readInput(file));
  if (!r.ok) throw new CliError(`${file}: ${formatDocError(r.error)}`);
  return r.value;
}

/** The manifest members that name what was asked (SPEC §5), in the order verify reports them. */
const IDENTITY = [['epoch_id'], ['inputs_cid'], ['policy', 'hash'], ['policy', 'id']] as const;

async function verifyCmd(argv: string[]): Promise<number> {
  const { values, positionals } = args(
    argv,
    { inputs: { type: 'string' }, policy: { type: 'string' }, attestation: { type: 'string' }, keys: { type: 'string' } },
    1,
  );
  const file = positionals[0] as string;
  // Keys without an attestation would be ignored, and the output would not say so clearly enough.
  if (values.keys !== undefined && values.attestation === undefined) throw new CliError('--keys needs --attestation');
  const claimedBytes = readInput(file);
  const claimed = parseJsonFile(file) as Record<string, unknown>;
  if (typeof claimed.epoch_id !== 'string') throw new CliError(`${file}: $.epoch_id: missing`);
  const run = runFiles(claimed.epoch_id, required(values, 'inputs'), required(values, 'policy'));
  if (Buffer.compare(Buffer.from(run.manifest.bytes), Buffer.from(claimedBytes)) === 0) {
    if (values.attestation !== undefined) {
      // Loaded only here: the ML-DSA code costs ~50 ms of start-up every other command can skip.
      const { verifyAttestation } = await import('../attest/attestation.js');
      const r = verifyAttestation(parseJsonFile(values.attestation), run.manifest.commitment, trustedKeys(required(values, 'keys')));
      if (!r.ok) {
        process.stderr.write(`rewarder: ${values.attestation}: ${r.reason}\n`);
        return 1;
      }
      out(`ok ${run.manifest.commitment} signed by ${r.verified.map((s) => `${s.alg}:${s.key_id}`).join(' ')}\n`);
      return 0;
    }
    out(`ok ${run.manifest.commitment}\n`);
    return 0;
  }
  const recomputed = parseStrictJson(run.manifest.bytes);
  // What the manifest was computed from first: a different inputs_cid explains every derived member.
  const where = recomputed.ok ? firstDifferenceFrom(recomputed.value, claimed, IDENTITY) : null;
  const cause = where?.startsWith('$.inputs_cid:') ? ' (--inputs is not the document it was computed from)' : where?.startsWith('$.policy.hash:') ? ' (--policy is not the policy it was computed from)' : '';
  // Same values but different bytes: not canonical (whitespace, member order, escapes).
  process.stderr.write(`rewarder: ${file} differs: ${where ?? 'not the canonical bytes (JCS) of the recomputed manifest'}${cause}\n`);
  return 1;
}

function proveCmd(argv: string[]): number {
  const { positionals } = args(argv, {}, 2);
  const [file, actor] = positionals as [string, string];
  const m = manifestPayouts(parseJsonFile(file));
  if (typeof m === 'string') throw new CliError(`${file}: ${m}`);
  const proof = proveActor(m, actor);
  if (proof === null) throw new CliError(`${file}: actor is not a payee of this manifest`, 1);
  out(`${JSON.stringify(proof)}\n`);
  return 0;
}

async function verifyProofCmd(argv: string[]): Promise<number> {
  const { values, positionals } = args(
    argv,
    { root: { type: 'string' }, manifest: { type: 'string' }, attestation: { type: 'string' }, keys: { type: 'string' } },
    1,
  );
  // An attestation signs a manifest's commitment, never a bare root: without --manifest it would
  // be ignored and a payee could believe an unsigned root was checked.
  if (values.attestation !== undefined && values.manifest === undefined) throw new CliError('--attestation needs --manifest (it signs the manifest, not a bare root)');
  if (values.keys !== undefined && values.attestation === undefined) throw new CliError('--keys needs --attestation');
  let root = values.root;
  let signedBy = '';
  if (values.manifest !== undefined) {
    const manifestBytes = readInput(values.manifest);
    const doc = parseJsonFile(values.manifest);
    const m = manifestPayouts(doc);
    if (typeof m === 'string') throw new CliError(`${values.manifest}: ${m}`);
    root = m.payouts_root;
    if (values.attestation !== undefined) {
      // A signed root: the attestation signs the commitment, and the commitment covers the
      // manifest (root included), so both links are checked before the root is trusted.
      const commitment = (doc as { commitment?: unknown }).commitment;
      if (typeof commitment !== 'string' || recomputeCommitment(manifestBytes) !== commitment) {
        process.stderr.write(`rewarder: ${values.manifest}: its commitment does not match its content\n`);
        return 1;
      }
      const { verifyAttestation } = await import('../attest/attestation.js');
      const a = verifyAttestation(parseJsonFile(values.attestation), commitment, trustedKeys(required(values, 'keys')));
      if (!a.ok) {
        process.stderr.write(`rewarder: ${values.attestation}: ${a.reason}\n`);
        return 1;
      }
      signedBy = ` (root signed by ${a.verified.map((s) => s.alg).join(' + ')})`;
    }
  }
  if (root === undefined) throw new CliError('--root or --manifest is required');
  const r = checkProof(parseJsonFile(positionals[0] as string), root);
  if (!r.ok) {
    process.stderr.write(`rewarder: ${positionals[0]}: ${r.reason}\n`);
    return 1;
  }
  out(`ok ${r.proof.actor} ${r.proof.amount_minor}${signedBy}\n`);
  return 0;
}

/** b3 of the manifest's JCS without its commitment member (SPEC §5). */
function recomputeCommitment(manifestBytes: Uint8Array): string | null {
  const parsed = parseStrictJson(manifestBytes);
  if (!parsed.ok || typeof parsed.value !== 'object' || parsed.value === null) return null;
  const { commitment: _c, ...rest } = parsed.value as Record<string, unknown>;
  return b3(canonicalBytes(rest));
}

async function genCmd(argv: string[]): Promise<number> {
  const { values } = args(
    argv,
    { scale: { type: 'string' }, seed: { type: 'string' }, form: { type: 'string' }, out: { type: 'string' }, profile: { type: 'string' } },
    0,
  );
  const { SCALES } = await import('../gen/generate.js');
  const { generateProfile, isProfile } = await import('../gen/profiles.js');
  const profile = values.profile ?? 'gen';
  if (!isProfile(profile)) throw new CliError('--profile must be gen or token');
  const scale = required(values, 'scale');
  if (!(scale in SCALES)) throw new CliError('--scale must be S, M, L or XL');
  const seedText = required(values, 'seed');
  if (!/^(0|[1-9][0-9]{0,9})$/.test(seedText) || Number(seedText) > 0xffffffff) {
    throw new CliError('--seed must be an integer from 0 to 4294967295');
  }
  const form = values.form ?? 'columnar';
  if (form !== 'row' && form !== 'columnar' && form !== 'arrow') throw new CliError('--form must be row, columnar or arrow');
  const dir = values.out ?? '.';
  const g = generateProfile({ profile, scale: scale as Scale, seed: Number(seedText), form: form as Form });
  mkdirSync(dir, { recursive: true });
  const inputsFile = join(dir, form === 'arrow' ? 'inputs.arrows' : 'inputs.json');
  writeFileSync(inputsFile, g.inputs);
  writeFileSync(join(dir, 'policy.json'), g.policy);
  out(`inputs ${inputsFile} ${b3(g.inputs)}\npolicy ${join(dir, 'policy.json')} ${b3(g.policy)}\n`);
  return 0;
}

/** Re-encodes an inputs document in another form (row, columnar JSON or Arrow): same data, same payouts, another CID. */
function convertCmd(argv: string[]): number {
  const { values, positionals } = args(argv, { to: { type: 'string' }, out: { type: 'string' } }, 1);
  const file = positionals[0] as string;
  const to = required(values, 'to');
  if (to !== 'row' && to !== 'columnar' && to !== 'arrow') throw new CliError('--to must be row, columnar or arrow');
  const inputs = decodeInputs(readInput(file), CLI_LIMITS);
  if (!inputs.ok) throw new CliError(`${file}: ${formatDocError(inputs.error)}`);
  const bytes = to === 'arrow' ? encodeArrowInputs(inputs.value) : encodeInputsJson(inputs.value, to);
  if (values.out === undefined) {
    writeStdout(bytes);
    return 0;
  }
  writeFileSync(values.out, bytes);
  out(`inputs ${values.out} ${b3(bytes)}\n`);
  return 0;
}

function demoCmd(argv: string[]): number {
  args(argv, {}, 0);
  const dir = fileURLToPath(new URL('../../../vectors/example/', import.meta.url));
  const epoch = '2026-01-01';
  const inputsFile = join(dir, 'inputs.json');
  const policyFile = join(dir, 'policy.json');
  const inputs = seal(readInput(inputsFile), undefined, nameKey());
  const policy = seal(readInput(policyFile), undefined, nameKey());
  if (!inputs.ok || !policy.ok) throw new CliError('shipped example does not seal (broken checkout?)');
  const { manifest, calculation: c } = runFiles(epoch, inputsFile, policyFile);
  const t = c.totals;
  out(
    [
      `sealed inputs  ${inputs.value.cid}`,
      `sealed policy  ${policy.value.cid}`,
      `epoch          ${epoch}`,
      `run_key        ${manifest.runKey}`,
      `payees         ${c.payees.map((p) => `${p.actor}=${p.amount}`).join(' ')}`,
      `payout         ${t.payout} of pool ${t.pool} (residual ${t.residual} = capped ${t.capped} + below_min ${t.belowMin} + dust ${t.roundingDust})`,
      `payouts_root   ${manifest.payoutsRoot}`,
      `commitment     ${manifest.commitment}`,
      '',
    ].join('\n'),
  );
  return 0;
}

/** A trusted key set: GET /keys output, or a public-*.json written by keygen. */
function trustedKeys(file: string): PublicKey[] {
  const doc = parseJsonFile(file) as { keys?: unknown };
  if (!Array.isArray(doc.keys)) throw new CliError(`${file}: not a key set ({"keys": [...]})`);
  return doc.keys.map((k: Record<string, unknown> | null) => {
    if (k === null || typeof k !== 'object' || typeof k.key_id !== 'string' || typeof k.public_key !== 'string' || typeof k.alg !== 'string') {
      throw new CliError(`${file}: malformed key entry`);
    }
    return { alg: k.alg as PublicKey['alg'], keyId: k.key_id, publicKey: new Uint8Array(Buffer.from(k.public_key, 'base64')) };
  });
}

async function keygenCmd(argv: string[]): Promise<number> {
  const { values } = args(argv, { out: { type: 'string' } }, 0);
  const dir = required(values, 'out');
  const { generateKeySet, writeKeySet } = await import('../attest/keys.js');
  const set = generateKeySet();
  let files;
  try {
    files = writeKeySet(dir, set);
  } catch (e) {
    throw new CliError(`${dir}: ${(e as Error).message}`);
  }
  for (const k of set.signing) out(`${k.alg} ${k.keyId}\n`);
  out(`private ${files.signing} (0600)\npublic  ${files.public}\n`);
  return 0;
}

export const commands: Record<string, Command> = {
  keygen: keygenCmd,
  seal: sealCmd,
  compute: computeCmd,
  verify: verifyCmd,
  prove: proveCmd,
  'verify-proof': verifyProofCmd,
  gen: genCmd,
  convert: convertCmd,
  export: async (argv) => (await import('./exports.js')).exportCmd(argv),
  proofs: async (argv) => (await import('./exports.js')).proofsCmd(argv),
  demo: demoCmd,
  // Loaded on demand: the service's dependencies would add ~100 ms to every offline command.
  serve: async (argv) => (await import('./serve.js')).serveCmd(argv),
  'ledger-redrive': async (argv) => (await import('./redrive.js')).redriveCmd(argv),
  migrate: async (argv) => (await import('./migrate.js')).migrateCmd(argv),
  explain: async (argv) => (await import('./explain.js')).explainCmd(argv),
  diff: async (argv) => (await import('./diff.js')).diffCmd(argv),
  'verify-correction': async (argv) => (await import('./verify-correction.js')).verifyCorrectionCmd(argv),
  preview: async (argv) => (await import('./preview.js')).previewCmd(argv),
  tenancy: async (argv) => (await import('./tenancy.js')).tenancyCmd(argv),
};
