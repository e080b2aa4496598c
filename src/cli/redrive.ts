// `rewarder ledger-redrive`: the operator's re-drive of ledger parts left `failed`, through the
// running service's admin route (POST /admin/ledger/redrive, scope rewarder.admin), so it works for
// either store and every replica's drainer sees the parts at once. The token comes from the
// environment (REWARDER_TOKEN), never from a flag: flags show in `ps` and shell history.

import { ID_RE } from '../core/rules.js';
import { CliError, args, required } from './io.js';

export async function redriveCmd(argv: string[]): Promise<number> {
  const { values } = args(argv, { url: { type: 'string' }, epoch: { type: 'string' } }, 0);
  const base = required(values, 'url');
  let target: URL;
  try {
    target = new URL('admin/ledger/redrive', base.endsWith('/') ? base : `${base}/`);
  } catch {
    throw new CliError('--url: not a URL');
  }
  if (values.epoch !== undefined) {
    if (!ID_RE.test(values.epoch)) throw new CliError('--epoch: expected ^[A-Za-z0-9._:-]{1,128}$');
    target.searchParams.set('epoch_id', values.epoch);
  }
  const token = process.env.REWARDER_TOKEN;
  const headers: Record<string, string> = token === undefined || token === '' ? {} : { authorization: `Bearer ${token}` };
  let res: Response;
  try {
    res = await fetch(target, { method: 'POST', headers, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new CliError(`${target.origin}: ${e instanceof Error ? e.message : String(e)}`, 1);
  }
  const text = await res.text();
  if (!res.ok) {
    let code = '';
    try {
      code = String((JSON.parse(text) as { error?: { code?: unknown } }).error?.code ?? '');
    } catch {
      // not the service's envelope
    }
    const hint = res.status === 401 || res.status === 403 ? ' (set REWARDER_TOKEN to a token with scope rewarder.admin)' : '';
    throw new CliError(`the service answered ${res.status}${code ? ` ${code}` : ''}${hint}`, 1);
  }
  process.stdout.write(`${text}\n`);
  return 0;
}
