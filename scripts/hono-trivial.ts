// The ceiling a replay is measured against (bench-http's `replay` scenario): the same adapter
// (@hono/node-server, the same server options), a POST route that reads the whole body from Node's
// request and answers stored bytes of the replay answer's size. It does nothing else: no auth,
// metrics, validation or lookup. Prints {"url": …} on stdout once listening.
//
//   node dist/scripts/hono-trivial.js [--bytes N]
import type { AddressInfo } from 'node:net';
import { type HttpBindings, serve } from '@hono/node-server';
import { Hono } from 'hono';

const size = Number(process.argv[process.argv.indexOf('--bytes') + 1] ?? 1000) || 1000;
const stored = new Uint8Array(size).fill(0x20);
stored[0] = 0x7b; // {
stored[size - 1] = 0x7d; // }

const app = new Hono<{ Bindings: HttpBindings }>();
app.post('*', async (c) => {
  const parts: Buffer[] = [];
  for await (const chunk of c.env.incoming) parts.push(chunk as Buffer);
  c.header('Content-Type', 'application/json');
  return c.body(stored as Uint8Array<ArrayBuffer>, 200);
});

const server = serve(
  {
    fetch: app.fetch,
    port: 0,
    hostname: '127.0.0.1',
    serverOptions: { connectionsCheckingInterval: 250, headersTimeout: 10_000, requestTimeout: 120_000, keepAliveTimeout: 5_000, maxHeaderSize: 16_384 },
  },
  (info: AddressInfo) => process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${info.port}` })}\n`),
);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
