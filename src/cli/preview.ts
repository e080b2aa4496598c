// `rewarder preview --url URL --epoch ID --policy FILE [--inputs FILE] [--top N]`: what a candidate
// policy (and optionally other inputs) would pay for a bound epoch of a running service, against
// what it pays (POST /epochs/{id}/preview). The documents are sealed first (scope rewarder.seal;
// sealing bytes already stored is a no-op), the preview needs rewarder.run. The token comes from
// the environment (REWARDER_TOKEN), never from a flag: flags show in `ps` and shell history.

import { ID_RE } from '../core/rules.js';
import { topOption } from './diff.js';
import { CliError, args, readInput, required } from './io.js';

async function call(base: string, path: string, method: string, body: Uint8Array | string): Promise<string> {
  let target: URL;
  try {
    target = new URL(path, base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new CliError('--url: not a URL');
  }
  const token = process.env.REWARDER_TOKEN;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` }) };
  let res: Response;
  try {
    res = await fetch(target, { method, headers, body, signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    throw new CliError(`${target.origin}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
  const text = await res.text();
  if (!res.ok) {
    let detail = '';
    try {
      const e = (JSON.parse(text) as { error?: { code?: unknown; details?: { reason?: unknown } } }).error;
      detail = ` ${String(e?.code ?? '')} (${String(e?.details?.reason ?? '')})`;
    } catch {
      // not the service's envelope
    }
    const hint = res.status === 401 || res.status === 403 ? ' (set REWARDER_TOKEN to a token with scopes rewarder.seal and rewarder.run)' : '';
    throw new CliError(`${method} ${path}: the service answered ${res.status}${detail}${hint}`, 1);
  }
  return text;
}

export async function previewCmd(argv: string[]): Promise<number> {
  const { values } = args(argv, { url: { type: 'string' }, epoch: { type: 'string' }, policy: { type: 'string' }, inputs: { type: 'string' }, top: { type: 'string' } }, 0);
  const base = required(values, 'url');
  const epoch = required(values, 'epoch');
  if (!ID_RE.test(epoch)) throw new CliError('--epoch: expected ^[A-Za-z0-9._:-]{1,128}$');
  const top = topOption(values.top);
  const policyBytes = readInput(required(values, 'policy'));
  const inputsBytes = values.inputs === undefined ? null : readInput(values.inputs);
  const policy = JSON.parse(await call(base, 'policies', 'PUT', policyBytes)) as { policy_id: string; policy_hash: string };
  const body: Record<string, unknown> = { policy_id: policy.policy_id, policy_hash: policy.policy_hash, top };
  if (inputsBytes !== null) body.inputs_cid = (JSON.parse(await call(base, 'inputs', 'PUT', inputsBytes)) as { inputs_cid: string }).inputs_cid;
  process.stdout.write(`${await call(base, `epochs/${encodeURIComponent(epoch)}/preview`, 'POST', JSON.stringify(body))}\n`);
  return 0;
}
