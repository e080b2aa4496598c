// Inspection and fault control over HTTP, for tests that drive a stub in another process.
// Unauthenticated on purpose: the stub only ever listens on loopback.
//
//   GET    /admin/faults                → current faults (+ outage_elapsed_ms)
//   PUT    /admin/faults  {patch}       → merge the given fields, answer the new faults (400 if invalid)
//   DELETE /admin/faults                → all faults off
//   GET    /admin/stats                 → counters
//   GET    /admin/parts[?epoch_id=&run_key=] → records, in commit order
//   GET    /admin/balances[?actor=]     → per-actor net balances (credits − debits), by actor
//   POST   /admin/reset                 → forget records and counters, restart the PRNG

import type { IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLarge, readBody, sendJson, sendTooLarge } from './http.js';
import type { Ledger } from './ledger.js';

const MAX_ADMIN_BYTES = 64 * 1024;

export async function handleAdmin(ledger: Ledger, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const route = `${req.method ?? ''} ${url.pathname}`;
  switch (route) {
    case 'GET /admin/faults':
      return sendJson(res, 200, ledger.faults());
    case 'PUT /admin/faults':
      return putFaults(ledger, req, res);
    case 'DELETE /admin/faults':
      return sendJson(res, 200, ledger.clearFaults());
    case 'GET /admin/stats':
      return sendJson(res, 200, ledger.stats());
    case 'GET /admin/parts':
      return sendJson(
        res,
        200,
        ledger.parts({
          epoch_id: url.searchParams.get('epoch_id') ?? undefined,
          run_key: url.searchParams.get('run_key') ?? undefined,
        }),
      );
    case 'GET /admin/balances':
      return sendJson(res, 200, ledger.balances(url.searchParams.get('actor') ?? undefined));
    case 'POST /admin/reset':
      ledger.reset();
      return sendJson(res, 200, ledger.stats());
    default:
      return sendJson(res, isAdminPath(url.pathname) ? 405 : 404, { result: 'error', reason: 'no_such_route' });
  }
}

async function putFaults(ledger: Ledger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  let patch: unknown;
  try {
    patch = JSON.parse((await readBody(req, MAX_ADMIN_BYTES)).toString('utf8'));
  } catch (err) {
    if (err instanceof BodyTooLarge) return sendTooLarge(res);
    return sendJson(res, 400, { result: 'error', reason: 'not_json' });
  }
  try {
    sendJson(res, 200, ledger.setFaults(patch));
  } catch (err) {
    sendJson(res, 400, { result: 'error', reason: 'invalid_faults', message: (err as Error).message });
  }
}

function isAdminPath(path: string): boolean {
  return ['/admin/faults', '/admin/stats', '/admin/parts', '/admin/balances', '/admin/reset'].includes(path);
}
