// Ledger intent parts (SPEC §7): the payouts split in payee order into parts of 4096 credits, each
// with a part_id derived only from the run_key, and a body fixed here once, so every attempt from
// every replica sends identical bytes (the ledger compares bodies to tell dup from conflict).

import { canonicalBytes } from './jcs.js';
import { PART_SIZE, partId } from './keys.js';
import type { ManifestHead } from './manifest.js';

export interface IntentPart {
  partId: string;
  index: number;
  count: number;
  body: Uint8Array;
}

export interface Credit {
  actor: string;
  amount_minor: string;
}

/** No part for a run without payees (SPEC §7: "none for a run with no payees"). */
export function intentParts(head: ManifestHead, credits: readonly Credit[], attestation?: unknown): IntentPart[] {
  const count = Math.ceil(credits.length / PART_SIZE);
  const parts: IntentPart[] = [];
  for (let index = 0; index < count; index++) {
    const id = partId(head.run_key, index, count);
    const body: Record<string, unknown> = {
      part_id: id,
      run_key: head.run_key,
      epoch_id: head.epoch_id,
      commitment: head.commitment,
      payouts_root: head.payouts_root,
      part: { index, count },
      credits: credits.slice(index * PART_SIZE, (index + 1) * PART_SIZE),
    };
    if (attestation !== undefined) body.attestation = attestation;
    parts.push({ partId: id, index, count, body: canonicalBytes(body) });
  }
  return parts;
}
