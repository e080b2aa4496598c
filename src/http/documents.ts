// zod descriptions of the documents the API carries whole (SPEC §2, §3, §5, §6) and of the
// answers that are not request-validated, for /openapi.json only: the core's strict byte parsers
// (src/core) are what validate documents, with limits zod cannot say (bytes, UTF-8 order, the
// service's bounds). documents.test.ts holds these to the vectors, so they cannot contradict them.

import { z } from 'zod';
import { digest, idText, money } from './schemas.js';

const safeInt = z.number().int().min(0);
const kindName = z.string().regex(/^[a-z][a-z0-9_]{0,63}$/);
/** 1–256 UTF-8 bytes, no C0/C1 controls, unique and ascending by UTF-8 bytes (checked by the parser). */
const actorId = z.string().min(1).max(256);
const window = z.strictObject({ start_ms: safeInt, end_ms: safeInt });

export const inputsDocument = z
  .strictObject({
    schema: z.literal('rewarder.inputs/v1'),
    window,
    pool_minor: money,
    kinds: z.array(kindName).min(1).max(64).meta({ uniqueItems: true }),
    actors: z.array(actorId).meta({ uniqueItems: true, description: 'strictly ascending by UTF-8 bytes' }),
    events: z.union([
      z.array(z.strictObject({ actor: actorId, kind: kindName, qty: safeInt, ts: safeInt })).meta({ title: 'row form' }),
      z
        .strictObject({ actor: z.array(safeInt), kind: z.array(safeInt), qty: z.array(safeInt), ts: z.array(safeInt) })
        .meta({ title: 'columnar form', description: 'equal lengths; actor and kind index actors and kinds' }),
    ]),
  })
  .meta({ title: 'rewarder.inputs/v1', description: 'SPEC §2; bounds (bytes, actors, events) are in /version' });

export const policyDocument = z
  .strictObject({
    schema: z.literal('rewarder.policy/v1'),
    id: idText,
    rounding: z.enum(['floor', 'largest_remainder']),
    kinds: z
      .record(
        kindName,
        z.strictObject({
          weight: z.number().int().min(0).max(2 ** 32 - 1),
          divisor: z.number().int().min(1).max(2 ** 32 - 1).optional(),
          cap: safeInt.optional(),
        }),
      )
      .meta({ maxProperties: 64 }),
    pool_cap_minor: money.optional(),
    max_payout_minor: money.optional(),
    min_payout_minor: money.optional(),
    exclude: z.array(actorId).meta({ uniqueItems: true, description: 'strictly ascending by UTF-8 bytes' }).optional(),
  })
  .meta({ title: 'rewarder.policy/v1', description: 'SPEC §3' });

export const runCounts = z.strictObject({
  actors: safeInt,
  events: safeInt,
  excluded_actors: safeInt,
  ignored_events: safeInt,
  payees: safeInt,
});

export const runTotals = z.strictObject({
  below_min_minor: money,
  capped_minor: money,
  payout_minor: money,
  pool_input_minor: money,
  pool_minor: money,
  residual_minor: money,
  rounding_dust_minor: money,
});

export const manifest = z
  .strictObject({
    schema: z.literal('rewarder.manifest/v1'),
    calculus: z.literal('rewarder.calculus/v1'),
    epoch_id: idText,
    run_key: digest,
    inputs_cid: digest,
    policy: z.strictObject({ id: idText, hash: digest }),
    window,
    counts: runCounts,
    totals: runTotals,
    payouts_root: digest,
    payouts: z.array(z.strictObject({ actor: actorId, amount_minor: money, score: money })),
    commitment: digest,
  })
  .meta({ title: 'rewarder.manifest/v1', description: 'SPEC §5: JCS bytes, identical for identical (epoch_id, inputs_cid, policy_hash)' });

/** Standard base64 with padding. */
const base64 = z.string().regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
const signatureAlg = z.enum(['ML-DSA-65', 'Ed25519']);

export const attestation = z
  .strictObject({
    commitment: digest,
    signatures: z.array(z.strictObject({ alg: signatureAlg, key_id: digest, sig: base64 })),
  })
  .meta({ description: 'SPEC §6: signatures over "rewarder.attestation.v1:" + commitment' });

export const correctionDocument = z
  .strictObject({
    schema: z.literal('rewarder.correction/v1'),
    epoch_id: idText,
    commitment: digest,
    supersedes: z.strictObject({ epoch_id: idText, commitment: digest }),
    basis: z.array(digest),
    entries: z.array(z.strictObject({ actor: z.string(), op: z.enum(['credit', 'debit']), amount_minor: z.string().regex(/^(0|[1-9][0-9]*)$/) })),
    totals: z.strictObject({ credit_minor: z.string().regex(/^(0|[1-9][0-9]*)$/), debit_minor: z.string().regex(/^(0|[1-9][0-9]*)$/) }),
    correction_commitment: digest,
  })
  .meta({ title: 'rewarder.correction/v1', description: 'SPEC §13: JCS bytes; correction_commitment = b3(JCS(document without it))' });

export const keySet = z.strictObject({
  keys: z.array(z.strictObject({ alg: signatureAlg, key_id: digest, public_key: base64, signing: z.boolean() })),
});

const partState = z.enum(['pending', 'held', 'on_hold', 'awaiting_basis', 'accepted', 'dup', 'conflict', 'failed', 'cancelled']);

export const ledgerState = z.strictObject({
  epoch_id: idText,
  run_key: digest,
  state: z.enum(['none', 'pending', 'held', 'on_hold', 'awaiting_basis', 'accepted', 'failed', 'cancelled']),
  hold_until: z.string().nullable().meta({ description: 'SPEC §13: parts wait until this instant (RFC 3339), null without a hold' }),
  supersedes: idText.nullable(),
  superseded_by: idText.nullable(),
  degraded: z.boolean().meta({ description: 'ledger egress degraded (quarantine-only mode)' }),
  parts: z.array(
    z.strictObject({
      part_id: digest,
      index: safeInt,
      count: safeInt,
      state: partState,
      attempts: safeInt,
      last_error: z.string().nullable(),
    }),
  ),
});

export const health = z.strictObject({ ok: z.literal(true) });

export const version = z
  .looseObject({
    service: z.literal('svc-rewarder'),
    version: z.string(),
    build: z.string(),
    calculus: z.literal('rewarder.calculus/v1'),
    profile: z.enum(['micronode', 'macronode']),
    auth: z.enum(['on', 'off']),
    stores: z.enum(['memory', 'postgres']),
    signing: z.union([z.literal('off'), z.strictObject({ key_ids: z.array(digest) })]),
    compute_workers: z.number().int().min(1),
    native: z.strictObject({ merkle: z.enum(['native', 'js']), ml_dsa_signing: z.enum(['native', 'js']) }),
    limits: z.looseObject({
      inputs_max_bytes: safeInt,
      inputs_arrow_max_bytes: safeInt,
      req_body_max_bytes: safeInt,
      decomp_ratio_max: z.number(),
      max_actors: safeInt,
      max_events: safeInt,
      max_kinds: safeInt,
      work_queue_max: safeInt,
      max_inflight: safeInt,
      tenant_rps_max: z.number(),
      default_deadline_ms: safeInt,
      max_deadline_ms: safeInt,
    }),
  })
  .meta({ description: 'open to new members: operators read it, clients should not depend on its shape beyond these' });
