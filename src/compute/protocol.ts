// What crosses the thread boundary between the HTTP edge and a pool worker. Everything here is
// structured-cloneable; large byte arrays are transferred, not copied (see workers/compute.ts).

import { type InvariantBreach, type Tally, tally } from '../core/calculus.js';
import type { InputLimits, Inputs } from '../core/inputs.js';
import type { IntentPart } from '../core/intents.js';
import { type ManifestHead, type Texts, quotedNames } from '../core/manifest.js';
import type { DocError } from '../core/result.js';

export interface DocLimits {
  inputs: InputLimits;
  policyMaxBytes: number;
}

export interface SealTask {
  op: 'seal';
  bytes: Uint8Array;
  limits: DocLimits;
  /** Which schema the route expects; anything else is a 400. */
  expect: 'rewarder.inputs/v1' | 'rewarder.policy/v1';
}

export type SealResult =
  | { ok: true; schema: 'rewarder.inputs/v1'; cid: string; prepared: Prepared }
  | { ok: true; schema: 'rewarder.policy/v1'; cid: string; policyId: string }
  | { ok: false; error: DocError };

export interface ComputeTask {
  op: 'compute';
  epochId: string;
  inputsCid: string;
  policyHash: string;
  policy: Uint8Array;
  /** Prepared inputs from the cache, or the sealed bytes to decode here. */
  inputs: Prepared | Uint8Array;
  limits: DocLimits;
  /** Build the ledger intent parts too (a ledger is configured and this is not a dry run). */
  ledger: boolean;
}

export type ComputeResult =
  | {
      ok: true;
      manifest: Uint8Array;
      head: ManifestHead;
      /** Present when this task decoded the inputs, so the edge can cache them. */
      decoded: Prepared | null;
      /** Ledger intent parts (empty unless asked for, or when the run has no payees). */
      parts: IntentPart[];
      ms: { decode: number; calculus: number; manifest: number };
    }
  | { ok: false; kind: 'inputs' | 'policy'; error: DocError }
  | { ok: false; kind: 'quarantined'; breaches: InvariantBreach[] };

export type Task = SealTask | ComputeTask;

/**
 * What the edge caches per sealed inputs and hands to a worker for each run: everything a run
 * needs that does not depend on the policy (the tally of SPEC §4.1 and the actors' quoted names).
 */
export interface Prepared {
  tally: Tally;
  names: Texts;
}

export function prepare(inputs: Inputs): Prepared {
  return { tally: tally(inputs), names: quotedNames(inputs.actors) };
}

/** Buffers of prepared inputs, for a transfer list. */
export function preparedBuffers(p: Prepared): ArrayBuffer[] {
  const q = p.tally.q instanceof Float64Array ? [p.tally.q.buffer as ArrayBuffer] : [];
  return [...q, p.names.bytes.buffer as ArrayBuffer, p.names.offsets.buffer as ArrayBuffer];
}
