// The zod schemas of the HTTP API: they validate requests at the edge and generate /openapi.json,
// so the documentation cannot drift from what is enforced.

import { z } from 'zod';

export const digest = z.string().regex(/^b3:[0-9a-f]{64}$/, 'expected b3: followed by 64 lowercase hex');
export const idText = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'expected ^[A-Za-z0-9._:-]{1,128}$');
export const money = z.string().regex(/^(0|[1-9][0-9]*)$/);

export const computeRequest = z.strictObject({
  inputs_cid: digest,
  policy_id: idText,
  policy_hash: digest,
  dry_run: z.boolean().optional(),
  deadline_ms: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  notes: z.string().max(1024).optional(),
  supersedes: idText
    .optional()
    .meta({ description: 'SPEC §13: the bound epoch this one corrects (scope rewarder.correct); same program, same inputs window' }),
});

/** POST /epochs/{id}/preview: a candidate for a bound epoch, computed without binding. */
export const previewRequest = z.strictObject({
  inputs_cid: digest.optional(),
  policy_id: idText,
  policy_hash: digest,
  top: z.number().int().min(0).max(1000).optional(),
  deadline_ms: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});

export const errorEnvelope = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    corr_id: z.string(),
    details: z.looseObject({ reason: z.string() }),
  }),
});

export const inputsSealed = z.object({
  inputs_cid: digest,
  bytes: z.number().int(),
  actors: z.number().int(),
  events: z.number().int(),
});

export const policySealed = z.object({ policy_id: idText, policy_hash: digest });

export const computeResponse = z.object({
  epoch_id: idText,
  run_key: digest,
  inputs_cid: digest,
  policy: z.object({ id: idText, hash: digest }),
  window: z.object({ start_ms: z.number().int(), end_ms: z.number().int() }),
  counts: z.object({
    actors: z.number().int(),
    events: z.number().int(),
    excluded_actors: z.number().int(),
    ignored_events: z.number().int(),
    payees: z.number().int(),
  }),
  totals: z.object({
    below_min_minor: money,
    capped_minor: money,
    payout_minor: money,
    pool_input_minor: money,
    pool_minor: money,
    residual_minor: money,
    rounding_dust_minor: money,
  }),
  payouts_root: digest,
  commitment: digest,
  dry_run: z.boolean(),
  ledger: z.object({ state: z.string() }),
  quarantine: z.boolean(),
  hold_until: z.string().optional().meta({ description: 'SPEC §13: the parts are not sent before this instant (RFC 3339 UTC, ms); present when the program holds' }),
  supersedes: idText.optional().meta({ description: 'SPEC §13: the epoch this one supersedes' }),
  correction: z
    .looseObject({
      supersedes: z.object({ epoch_id: idText, commitment: digest }),
      basis_complete: z.boolean(),
      basis: z.array(digest),
      plain: z.boolean(),
      entries: z.array(z.object({ actor: z.string(), op: z.enum(['credit', 'debit']), amount_minor: money })),
      totals: z.object({ credit_minor: money, debit_minor: money }),
    })
    .optional()
    .meta({ description: 'dry_run with supersedes: the correction on the basis acknowledged now (basis_complete false: parts of the chain may still be acknowledged)' }),
});

export const payoutProof = z.object({
  actor: z.string(),
  amount_minor: money,
  epoch_id: idText,
  leaf_index: z.number().int(),
  tree_size: z.number().int(),
  audit_path: z.array(digest),
  payouts_root: digest,
});

/** SPEC §11 `rewarder.explanation/v1`: quantities and money as decimal strings, indices as integers. */
const decimal = z.string().regex(/^(0|[1-9][0-9]*)$/);
export const explanation = z.object({
  schema: z.literal('rewarder.explanation/v1'),
  epoch_id: idText,
  commitment: digest,
  actor: z.string(),
  status: z.enum(['not_in_inputs', 'excluded', 'no_usage', 'zero_score', 'zero_share', 'below_min', 'paid']),
  score: decimal,
  total_score: decimal,
  pool_minor: money,
  base_minor: money,
  remainder: decimal,
  remainder_rank: z.number().int().min(0).nullable(),
  plus_one: z.boolean(),
  ceiling_cut_minor: money,
  below_min_cut_minor: money,
  amount_minor: money,
  kinds: z.array(
    z.object({
      kind: z.string().regex(/^[a-z][a-z0-9_]{0,63}$/),
      quantity: decimal,
      capped_quantity: decimal,
      weight: z.number().int().min(0),
      divisor: z.number().int().min(1),
      term: decimal,
    }),
  ),
  proof: z
    .object({
      leaf_index: z.number().int().min(0),
      tree_size: z.number().int().min(1),
      audit_path: z.array(digest),
      payouts_root: digest,
    })
    .nullable(),
});

/** `rewarder.comparison/v1` (src/core/compare.ts): the answer of a preview and of `rewarder diff`. */
const signed = z.string().regex(/^(0|-?[1-9][0-9]*)$/);
const runId = z.object({ epoch_id: idText, commitment: digest, inputs_cid: digest, policy_hash: digest });
const totalDelta = z.object({ a_minor: money, b_minor: money, delta_minor: signed });
const mover = z.object({ actor: z.string(), a_minor: money, b_minor: money, delta_minor: signed });
const spread = z.object({
  payees: z.number().int().min(0),
  median_minor: money,
  p90_minor: money,
  p99_minor: money,
  top_1pct_share_bp: z.number().int().min(0).max(10000),
  top_10pct_share_bp: z.number().int().min(0).max(10000),
  gini_bp: z.number().int().min(0).max(10000),
});
export const comparison = z.object({
  schema: z.literal('rewarder.comparison/v1'),
  a: runId,
  b: runId,
  totals: z.object({
    below_min_minor: totalDelta,
    capped_minor: totalDelta,
    payout_minor: totalDelta,
    pool_input_minor: totalDelta,
    pool_minor: totalDelta,
    residual_minor: totalDelta,
    rounding_dust_minor: totalDelta,
  }),
  payees: z.object({ a: z.number().int(), b: z.number().int(), added: z.number().int(), removed: z.number().int(), changed: z.number().int(), unchanged: z.number().int() }),
  gainers: z.array(mover),
  losers: z.array(mover),
  distribution: z.object({ a: spread, b: spread }),
});

export const readiness = z.object({
  degraded: z.boolean(),
  causes: z.array(z.string()),
  retry_after: z.number().int().optional(),
});

export const redriveResult = z.object({ redriven: z.number().int().min(0), epoch_id: idText.optional() });

/** GET /programs/{program}/epochs (SPEC §10). */
export const programEpochs = z.object({
  epochs: z.array(
    z.object({
      epoch_id: idText,
      window: z.object({ start_ms: z.number().int(), end_ms: z.number().int() }),
      inputs_cid: digest,
      policy_hash: digest,
      commitment: digest,
      payees: z.number().int(),
      payout_minor: money,
      ledger: z.object({ state: z.string(), parts: z.number().int() }),
      /** Who bound the epoch, with which corr id (null for bindings older than corr ids), when. */
      bound: z.object({ tenant: z.string(), corr_id: z.string().nullable(), at: z.string() }),
    }),
  ),
  /** The `after` of the next page, or null on the last one. */
  next: idText.nullable(),
});
