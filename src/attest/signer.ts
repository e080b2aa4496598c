// Owns the signing thread. Private keys go to that thread once, at start; only attestations
// (public) come back.

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { Attestation, KeyPair } from './attestation.js';

const WORKER = fileURLToPath(new URL('../../workers/sign.js', import.meta.url));

export class Signer {
  private readonly pool: Piscina;

  constructor(keys: readonly KeyPair[]) {
    this.pool = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: 1, idleTimeout: Number.POSITIVE_INFINITY, workerData: { keys } });
  }

  sign(commitment: string): Promise<Attestation> {
    return this.pool.run(commitment) as Promise<Attestation>;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
