// Ledger intent parts (SPEC §7): the payouts split in payee order into parts of 4096 credits, each
// with a part_id derived only from the run_key, and a body fixed here once, so every attempt from
// every replica sends identical bytes (the ledger compares bodies to tell dup from conflict).

import { canonicalize } from './jcs.js';
import { PART_SIZE, partId } from './keys.js';
import type { ManifestHead, Texts } from './manifest.js';
import { encodeEach } from './utf8.js';

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

const encoder = new TextEncoder();

/**
 * Credits are given in payee order, preferably as the manifest's leaves (their JCS
 * `{"actor","amount_minor"}` bytes, each followed by a comma), so a part's credits are one copied
 * range of bytes, in JCS member order, without re-serialising 10k objects; plain objects are
 * canonicalised into that layout first.
 * No part for a run without payees (SPEC §7: "none for a run with no payees").
 */
export function intentParts(head: ManifestHead, given: Texts | readonly Credit[], attestation?: unknown): IntentPart[] {
  const credits = 'offsets' in given ? given : encodeEach(given.map((c) => `${canonicalize(c)},`));
  const n = credits.offsets.length - 1;
  const count = Math.ceil(n / PART_SIZE);
  const parts: IntentPart[] = [];
  const signed = attestation === undefined ? '' : `"attestation":${canonicalize(attestation)},`;
  for (let index = 0; index < count; index++) {
    const id = partId(head.run_key, index, count);
    const open = encoder.encode(`{${signed}"commitment":"${head.commitment}","credits":[`);
    const close = encoder.encode(
      `],"epoch_id":${JSON.stringify(head.epoch_id)},"part":{"count":${count},"index":${index}},` +
        `"part_id":"${id}","payouts_root":"${head.payouts_root}","run_key":"${head.run_key}"}`,
    );
    const first = index * PART_SIZE;
    const last = Math.min(n, first + PART_SIZE);
    // This part's credits with the commas between them, without the last one's.
    const from = credits.offsets[first] as number;
    const to = (credits.offsets[last] as number) - 1;
    const body = new Uint8Array(open.length + (to - from) + close.length);
    body.set(open, 0);
    body.set(credits.bytes.subarray(from, to), open.length);
    body.set(close, open.length + (to - from));
    parts.push({ partId: id, index, count, body });
  }
  return parts;
}

/**
 * The same part with `attestation` added. In JCS order "attestation" sorts before every other
 * member of a part body, so the signed body is the unsigned one with one member spliced in after
 * the opening brace: byte-exact, without rebuilding 4096 credits (the signature is made after the
 * worker built the parts, on a separate thread).
 */
export function withAttestation(part: IntentPart, attestation: unknown): IntentPart {
  const member = encoder.encode(`"attestation":${canonicalize(attestation)},`);
  const body = new Uint8Array(part.body.length + member.length);
  body[0] = 0x7b; // {
  body.set(member, 1);
  body.set(part.body.subarray(1), 1 + member.length);
  return { ...part, body };
}
