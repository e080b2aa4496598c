// Regenerates vectors/: the S golden set as files, and for S, M and L (both forms) the CIDs and
// commitments in vectors/golden.json. Run only when the calculus or generator changes on purpose
// (a new version); testing/vectors.test.ts fails on any unintended change.
import { mkdirSync, writeFileSync } from 'node:fs';
import { b3 } from '../src/core/hash.js';
import { decodeInputs } from '../src/core/inputs.js';
import { decodePolicy } from '../src/core/policy.js';
import { computeRun } from '../src/core/run.js';
import { type Form, type Scale, generate } from '../src/gen/generate.js';

export const GOLDEN_SEED = 1;
export const goldenEpoch = (scale: Scale) => `golden-${scale}`;

export function goldenRun(scale: Scale, form: Form) {
  const g = generate({ scale, seed: GOLDEN_SEED, form });
  const inputs = decodeInputs(g.inputs);
  const policy = decodePolicy(g.policy);
  if (!inputs.ok || !policy.ok) throw new Error(`generated ${scale}/${form} does not decode`);
  const run = computeRun({
    epochId: goldenEpoch(scale),
    inputs: inputs.value,
    inputsCid: b3(g.inputs),
    policy: policy.value,
    policyHash: b3(g.policy),
  });
  if (!run.ok) throw new Error(`generated ${scale}/${form} does not compute`);
  return { g, manifest: run.value.manifest };
}

if (process.argv[1]?.endsWith('update-vectors.js')) {
  const root = new URL('../../vectors/', import.meta.url);
  const golden = [];
  for (const scale of ['S', 'M', 'L'] as Scale[]) {
    for (const form of ['row', 'columnar'] as Form[]) {
      const { g, manifest } = goldenRun(scale, form);
      golden.push({
        scale,
        seed: GOLDEN_SEED,
        form,
        epoch_id: goldenEpoch(scale),
        inputs_cid: b3(g.inputs),
        policy_hash: b3(g.policy),
        run_key: manifest.runKey,
        payouts_root: manifest.payoutsRoot,
        commitment: manifest.commitment,
      });
      if (scale === 'S') {
        mkdirSync(new URL('S/', root), { recursive: true });
        writeFileSync(new URL(`S/inputs-${form}.json`, root), g.inputs);
        writeFileSync(new URL('S/policy.json', root), g.policy);
        writeFileSync(new URL(`S/manifest-${form}.json`, root), manifest.bytes);
      }
    }
  }
  writeFileSync(new URL('golden.json', root), `${JSON.stringify(golden, null, 2)}\n`);
  console.log(`wrote ${golden.length} golden entries`);
}
