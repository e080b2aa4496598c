// The manifest `rewarder.manifest/v1` (SPEC §5), written directly as JCS: its member names are
// fixed ASCII, so their sorted order is written out here once instead of sorting on every run
// (jcs.test.ts checks the result is canonical). Strings go through JSON.stringify, whose escaping
// is exactly RFC 8785's.

import type { Calculation } from './calculus.js';
import { CALCULUS } from './calculus.js';
import { b3, formatDigest } from './hash.js';
import { merkleRoot } from './merkle.js';
import { runKey } from './keys.js';
import { encodeEach } from './utf8.js';

export const MANIFEST_SCHEMA = 'rewarder.manifest/v1';

export interface RunRef {
  epochId: string;
  inputsCid: string;
  policyId: string;
  policyHash: string;
  window: { startMs: number; endMs: number };
}

export interface Manifest {
  /** The exact JCS bytes (UTF-8). */
  bytes: Uint8Array;
  commitment: string;
  payoutsRoot: string;
  runKey: string;
  /** JCS `{"actor","amount_minor"}` of each payee, in payee order: the leaf data and the credits. */
  credits: string[];
}

const encoder = new TextEncoder();

export function buildManifest(ref: RunRef, calc: Calculation): Manifest {
  const key = runKey(ref.epochId, ref.inputsCid, ref.policyHash);
  const n = calc.payees.length;
  const entries: string[] = new Array<string>(n);
  const leafTexts: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const p = calc.payees[i] as (typeof calc.payees)[number];
    // Leaf data is JCS {"actor","amount_minor"}: the same prefix as the payout entry.
    const leaf = `{"actor":${JSON.stringify(p.actor)},"amount_minor":"${p.amount}"`;
    leafTexts[i] = `${leaf}}`;
    entries[i] = `${leaf},"score":"${p.score}"}`;
  }
  const root = formatDigest(merkleRoot(encodeAll(leafTexts)));
  const c = calc.counts;
  const t = calc.totals;
  const rest =
    `"counts":{"actors":${c.actors},"events":${c.events},"excluded_actors":${c.excludedActors},` +
    `"ignored_events":${c.ignoredEvents},"payees":${c.payees}},` +
    `"epoch_id":${JSON.stringify(ref.epochId)},"inputs_cid":"${ref.inputsCid}",` +
    `"payouts":[${entries.join(',')}],"payouts_root":"${root}",` +
    `"policy":{"hash":"${ref.policyHash}","id":${JSON.stringify(ref.policyId)}},` +
    `"run_key":"${key}","schema":"${MANIFEST_SCHEMA}",` +
    `"totals":{"below_min_minor":"${t.belowMin}","capped_minor":"${t.capped}","payout_minor":"${t.payout}",` +
    `"pool_input_minor":"${t.poolInput}","pool_minor":"${t.pool}","residual_minor":"${t.residual}",` +
    `"rounding_dust_minor":"${t.roundingDust}"},` +
    `"window":{"end_ms":${ref.window.endMs},"start_ms":${ref.window.startMs}}}`;
  // The commitment covers the manifest without its own member; both byte strings share every
  // other byte, so the large part is encoded once and copied.
  const head = encoder.encode(`{"calculus":"${CALCULUS}",`);
  const tail = encoder.encode(rest);
  const commitment = b3(concat(head, tail));
  const bytes = concat(head, encoder.encode(`"commitment":"${commitment}",`), tail);
  return { bytes, commitment, payoutsRoot: root, runKey: key, credits: leafTexts };
}


function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** UTF-8 of each string as views into one buffer (one encoder call). */
function encodeAll(texts: readonly string[]): Uint8Array[] {
  const { bytes, offsets } = encodeEach(texts);
  const out: Uint8Array[] = new Array<Uint8Array>(texts.length);
  for (let i = 0; i < texts.length; i++) out[i] = bytes.subarray(offsets[i] as number, offsets[i + 1] as number);
  return out;
}

/** Every member of the manifest except `payouts`: what a compute response summarises. */
export interface ManifestHead {
  calculus: string;
  commitment: string;
  counts: { actors: number; events: number; excluded_actors: number; ignored_events: number; payees: number };
  epoch_id: string;
  inputs_cid: string;
  payouts_root: string;
  policy: { hash: string; id: string };
  run_key: string;
  schema: string;
  totals: {
    below_min_minor: string;
    capped_minor: string;
    payout_minor: string;
    pool_input_minor: string;
    pool_minor: string;
    residual_minor: string;
    rounding_dust_minor: string;
  };
  window: { end_ms: number; start_ms: number };
}

export function manifestHead(ref: RunRef, m: Manifest, calc: Calculation): ManifestHead {
  const c = calc.counts;
  const t = calc.totals;
  return {
    calculus: CALCULUS,
    commitment: m.commitment,
    counts: {
      actors: c.actors,
      events: c.events,
      excluded_actors: c.excludedActors,
      ignored_events: c.ignoredEvents,
      payees: c.payees,
    },
    epoch_id: ref.epochId,
    inputs_cid: ref.inputsCid,
    payouts_root: m.payoutsRoot,
    policy: { hash: ref.policyHash, id: ref.policyId },
    run_key: m.runKey,
    schema: MANIFEST_SCHEMA,
    totals: {
      below_min_minor: `${t.belowMin}`,
      capped_minor: `${t.capped}`,
      payout_minor: `${t.payout}`,
      pool_input_minor: `${t.poolInput}`,
      pool_minor: `${t.pool}`,
      residual_minor: `${t.residual}`,
      rounding_dust_minor: `${t.roundingDust}`,
    },
    window: { end_ms: ref.window.endMs, start_ms: ref.window.startMs },
  };
}

/** The head of stored manifest bytes (a replay after a restart has no Calculation at hand). */
export function headFromManifest(bytes: Uint8Array): ManifestHead {
  const { payouts: _payouts, ...head } = JSON.parse(new TextDecoder().decode(bytes)) as ManifestHead & { payouts: unknown };
  return head;
}
