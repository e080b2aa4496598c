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
