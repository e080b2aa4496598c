// Keys derived only from what was asked (SPEC §5, §7): never from a result or a ledger answer,
// so every replica and every retry names the same run and the same ledger parts.

import { CALCULUS } from './calculus.js';
import { b3Text } from './hash.js';

export const PART_SIZE = 4096;

export function runKey(epochId: string, inputsCid: string, policyHash: string): string {
  return b3Text(`rewarder.run_key.v1|${epochId}|${inputsCid}|${policyHash}|${CALCULUS}`);
}

export function partId(runKeyValue: string, index: number, count: number): string {
  return b3Text(`rewarder.intent.v1|${runKeyValue}|${index}|${count}`);
}
