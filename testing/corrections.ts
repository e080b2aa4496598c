// Manifests for correction tests: only the members a correction reads (SPEC §13), with a run_key and
// commitment that recompute, so `chainManifest` and `rewarder verify-correction` accept them.
import { b3 } from '../src/core/hash.js';
import { canonicalBytes } from '../src/core/jcs.js';
import { runKey } from '../src/core/keys.js';

export type Payout = readonly [actor: string, amount: bigint | number];

export function testManifest(epochId: string, payouts: readonly Payout[], salt = epochId): Record<string, unknown> {
  const inputsCid = b3(new TextEncoder().encode(`inputs|${salt}`));
  const policyHash = b3(new TextEncoder().encode('policy'));
  const rows = payouts.map(([actor, amount]) => ({ actor, amount_minor: `${amount}` }));
  const total = payouts.reduce((s, [, a]) => s + BigInt(a), 0n);
  const body = {
    schema: 'rewarder.manifest/v1',
    epoch_id: epochId,
    run_key: runKey(epochId, inputsCid, policyHash),
    inputs_cid: inputsCid,
    policy: { id: 'p', hash: policyHash },
    totals: { payout_minor: `${total}` },
    payouts: rows,
  };
  return { ...body, commitment: b3(canonicalBytes(body)) };
}
