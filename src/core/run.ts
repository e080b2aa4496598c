// The pure entry points every adapter (CLI, worker, tests) calls: seal a document, compute a run.

import { type CalcOptions, type Calculation, type InvariantBreach, calculate } from './calculus.js';
import { isArrowStream } from './arrow/format.js';
import { decodeArrowInputs } from './arrow/read.js';
import { b3 } from './hash.js';
import { type InputLimits, type Inputs, DEFAULT_INPUT_LIMITS, INPUTS_SCHEMA, decodeInputs } from './inputs.js';
import { Cursor, JsonFail } from './json/cursor.js';
import type { NameKey } from './json/names.js';
import { type Manifest, buildManifest } from './manifest.js';
import { type Policy, DEFAULT_POLICY_MAX_BYTES, POLICY_SCHEMA, decodePolicy } from './policy.js';
import { type DocError, type Result, err, ok } from './result.js';
import { ID_RE } from './rules.js';

export type Sealed =
  | { schema: typeof INPUTS_SCHEMA; cid: string; inputs: Inputs }
  | { schema: typeof POLICY_SCHEMA; cid: string; policy: Policy };

export interface SealLimits {
  inputs: InputLimits;
  policyMaxBytes: number;
}

export const DEFAULT_SEAL_LIMITS: Readonly<SealLimits> = Object.freeze({
  inputs: DEFAULT_INPUT_LIMITS,
  policyMaxBytes: DEFAULT_POLICY_MAX_BYTES,
});

/**
 * Validates a document of either kind (chosen by its `schema` member) and names its CID; `nameKey`
 * as in decodeInputs. `cid`: the bytes' digest when the caller already has it (hashed as they were
 * received), so they are not hashed again.
 */
export function seal(bytes: Uint8Array, limits: SealLimits = DEFAULT_SEAL_LIMITS, nameKey?: NameKey, cid?: string): Result<Sealed, DocError> {
  const cidOf = (): string => cid ?? b3(bytes);
  if (isArrowStream(bytes)) {
    // The Arrow form of the inputs (SPEC §2.1): the same kind of document, `inputs.form` says which.
    const r = decodeArrowInputs(bytes, limits.inputs);
    return r.ok ? ok({ schema: INPUTS_SCHEMA, cid: cidOf(), inputs: r.value }) : r;
  }
  const schema = sniffSchema(bytes);
  if (!schema.ok) return schema;
  if (schema.value === INPUTS_SCHEMA) {
    const r = decodeInputs(bytes, limits.inputs, nameKey);
    return r.ok ? ok({ schema: INPUTS_SCHEMA, cid: cidOf(), inputs: r.value }) : r;
  }
  if (schema.value === POLICY_SCHEMA) {
    const r = decodePolicy(bytes, limits.policyMaxBytes);
    return r.ok ? ok({ schema: POLICY_SCHEMA, cid: cidOf(), policy: r.value }) : r;
  }
  return err({ path: '$.schema', reason: `expected "${INPUTS_SCHEMA}" or "${POLICY_SCHEMA}"` });
}

/** Finds the top-level `schema` string, validating (and skipping) members before it. */
export function sniffSchema(bytes: Uint8Array): Result<string, DocError> {
  try {
    const c = new Cursor(bytes);
    if (c.peek() !== 0x7b) c.unexpected('a JSON object');
    if (c.openObject()) {
      do {
        if (c.key() === 'schema') {
          if (c.peek() !== 0x22) return err({ path: '$.schema', reason: 'expected a string' });
          return ok(c.string());
        }
        c.parseValue(1);
      } while (c.more(0x7d));
    }
    return err({ path: '$.schema', reason: 'missing member' });
  } catch (e) {
    if (e instanceof JsonFail) return err({ path: '$', reason: `${e.reason} (at byte ${e.offset})` });
    throw e;
  }
}

export type RunFailure = { kind: 'epoch'; error: DocError } | { kind: 'quarantined'; breaches: InvariantBreach[] };

export interface RunRequest {
  epochId: string;
  inputs: Inputs;
  inputsCid: string;
  policy: Policy;
  policyHash: string;
}

export interface Run {
  manifest: Manifest;
  calculation: Calculation;
}

export function computeRun(req: RunRequest, opts: CalcOptions = {}): Result<Run, RunFailure> {
  if (!ID_RE.test(req.epochId)) {
    return err({ kind: 'epoch', error: { path: 'epoch_id', reason: 'must match ^[A-Za-z0-9._:-]{1,128}$' } });
  }
  const calc = calculate(req.inputs, req.policy, opts);
  if (!calc.ok) return err({ kind: 'quarantined', breaches: calc.error });
  const manifest = buildManifest(
    {
      epochId: req.epochId,
      inputsCid: req.inputsCid,
      policyId: req.policy.id,
      policyHash: req.policyHash,
      window: req.inputs.window,
    },
    calc.value,
  );
  return ok({ manifest, calculation: calc.value });
}
