// Owns the signing thread, which alone holds private keys: it reads SIGNING_KEY_DIR itself (and
// validates it, src/attest/keys.ts), so the main thread never sees a secret key; only public
// halves and attestations come back. Development mode's ephemeral keys (AUTH=off, no directory)
// are the exception: made in the main thread and handed over once, since they die with the process.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Attestation, KeyPair, PublicKey } from './attestation.js';
import type { PublicKeySet } from './keys.js';

const WORKER = fileURLToPath(new URL('../../workers/sign.js', import.meta.url));

/** Where the signing thread gets its keys. */
export type KeySource = { dir: string } | { ephemeral: KeyPair[] };

/** The signing thread's answer to `describe`: the public view, or why the keys cannot be used. */
export type Described = { ok: true; signing: PublicKey[]; published: PublicKey[] } | { ok: false; error: string };

export class Signer {
  private readonly pool: Piscina;

  constructor(source: KeySource) {
    this.pool = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1, idleTimeout: Number.POSITIVE_INFINITY, workerData: source });
  }

  /**
   * Loads the keys in the signing thread and returns their public halves; rejects with the
   * loader's one-line reason (a bad directory, a loose file mode, a malformed key).
   */
  async describe(): Promise<PublicKeySet> {
    const d = (await this.pool.run({ describe: true })) as Described;
    if (!d.ok) throw new Error(d.error);
    return { signing: d.signing, published: d.published };
  }

  sign(commitment: string): Promise<Attestation> {
    return this.pool.run(commitment) as Promise<Attestation>;
  }

  /** SPEC §13: a correction document is signed as §6 over "rewarder.correction.v1:" + correction_commitment. */
  signCorrection(correctionCommitment: string): Promise<Attestation> {
    return this.pool.run({ correction: correctionCommitment }) as Promise<Attestation>;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
