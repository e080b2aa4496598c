// An in-process ledger stub on a real loopback socket: the ledger side of SPEC §7 plus the admin
// routes. Unit tests use `startLedgerStub` directly; everything else runs `main.js` in its own
// process (see client.ts) so a fault such as a hang or a reset hits a real separate peer.

import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleAdmin } from './admin.js';
import type { Balance } from './balances.js';
import { applyPatch, noFaults, parseFaultsPatch, type FaultsPatch } from './faults.js';
import { sendJson } from './http.js';
import { Ledger, type FaultsView, type Stats } from './ledger.js';
import type { PartFilter, PartRecord } from './store.js';

export type { FaultsPatch, Faults } from './faults.js';
export type { FaultsView, Stats } from './ledger.js';
export type { PartFilter, PartRecord } from './store.js';

/** Only loopback: the stub has no authentication on its admin routes and injects faults on demand. */
export const LOOPBACK_HOSTS: readonly string[] = ['127.0.0.1', '::1', 'localhost'];

export interface LedgerStubOptions {
  /** Default 127.0.0.1; anything but 127.0.0.1, ::1 or localhost is refused. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** PRNG seed; a random one (reported by stats) when absent. */
  seed?: number;
  /** When set, POST /v1/intents requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Faults in force from the start; outage windows count from now. */
  faults?: FaultsPatch;
}

export interface LedgerStub {
  url: string;
  port: number;
  /** Stops listening and drops every open connection, hung ones included. */
  close(): Promise<void>;
  faults(): FaultsView;
  /** Merges the given fields into the faults; throws on an invalid patch. */
  setFaults(patch: FaultsPatch): FaultsView;
  clearFaults(): FaultsView;
  stats(): Stats;
  parts(filter?: PartFilter): PartRecord[];
  /** Per-actor net balances (credits − debits) over every accepted part, sorted by actor. */
  balances(actor?: string): Balance[];
  reset(): void;
}

export async function startLedgerStub(opts: LedgerStubOptions = {}): Promise<LedgerStub> {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK_HOSTS.includes(host)) throw new Error(`ledger stub: refusing to listen on ${host}: loopback only`);
  const ledger = new Ledger({
    seed: opts.seed ?? randomInt(2 ** 31),
    token: opts.token,
    faults: applyPatch(noFaults(), parseFaultsPatch(opts.faults ?? {})),
  });

  const server = createServer((req, res) => {
    route(ledger, req, res).catch((err: unknown) => {
      process.stderr.write(`ledger stub: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { result: 'error', reason: 'stub_bug' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  const address = server.address() as AddressInfo;
  const url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  return {
    url,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // close() alone waits for every connection, and a hung request never ends by itself.
        server.closeAllConnections();
      }),
    faults: () => ledger.faults(),
    setFaults: (patch) => ledger.setFaults(patch),
    clearFaults: () => ledger.clearFaults(),
    stats: () => ledger.stats(),
    parts: (filter) => ledger.parts(filter),
    balances: (actor) => ledger.balances(actor),
    reset: () => ledger.reset(),
  };
}

async function route(ledger: Ledger, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://stub');
  if (url.pathname === '/v1/intents') {
    if (req.method === 'POST') return ledger.handleIntent(req, res);
    return sendJson(res, 405, { result: 'error', reason: 'method' }, { allow: 'POST' });
  }
  if (url.pathname === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' });
  if (url.pathname.startsWith('/admin/')) return handleAdmin(ledger, req, res, url);
  sendJson(res, 404, { result: 'error', reason: 'no_such_route' });
}
