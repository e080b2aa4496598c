// The signing worker: the only thread that holds private keys. It loads SIGNING_KEY_DIR itself
// on its first task (workerData names the directory; development mode's ephemeral keys come in
// workerData instead), signs commitments, and returns only attestations and public halves. It
// runs in its own one-thread pool so a ~10 ms ML-DSA signature of run i overlaps the calculus of
// run i+1 instead of queueing behind it (issue: PQ adds ≤ 5 % to p95).

import { Piscina } from 'piscina';
import { type Attestation, type KeyPair, type PublicKey, attest } from '../src/attest/attestation.js';
import { loadKeyDir, publicHalf } from '../src/attest/keys.js';
import type { Described, KeySource } from '../src/attest/signer.js';

const source = Piscina.workerData as KeySource;
let loaded: { keys: KeyPair[]; published: PublicKey[] } | Error | undefined;

function load(): { keys: KeyPair[]; published: PublicKey[] } | Error {
  if (loaded !== undefined) return loaded;
  try {
    if ('dir' in source) {
      const l = loadKeyDir(source.dir);
      loaded = { keys: l.signing, published: l.published };
    } else {
      loaded = { keys: source.ephemeral, published: source.ephemeral.map(publicHalf) };
    }
  } catch (e) {
    loaded = e instanceof Error ? e : new Error(String(e));
  }
  return loaded;
}

/** A manifest commitment (string), a correction commitment (SPEC §13), or a request for the public halves. */
export default function task(req: string | { correction: string } | { describe: true }): Attestation | Described {
  const l = load();
  if (typeof req !== 'string' && 'describe' in req) {
    return l instanceof Error ? { ok: false, error: l.message } : { ok: true, signing: l.keys.map(publicHalf), published: l.published };
  }
  if (l instanceof Error) throw l;
  return typeof req === 'string' ? attest(req, l.keys) : attest(req.correction, l.keys, 'rewarder.correction.v1');
}
