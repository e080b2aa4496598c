// Response and request headers every answer shares (issue 15), in one middleware so routes only
// opt in to what differs:
// - `X-Content-Type-Options: nosniff` on every answer, errors and 404s included;
// - `Cache-Control: no-store` unless a route says otherwise (compute, ledger, payouts and every
//   error: answers that change with state or must not outlive the request); the exact stored
//   bytes (inputs, policies, manifests, attestations) are content-addressed and immutable but
//   served behind a token, so a shared cache may not keep them: `private`, `Vary: Authorization`;
// - a request with more than one `Host` header is refused (RFC 9112 §3.2: 400), since a proxy
//   and this service could each pick a different one.
// Headers are set before the route runs: a header added to a finished response makes Hono
// rebuild it as a full web Response (see app.ts).

import type { HttpBindings } from '@hono/node-server';
import type { Context, MiddlewareHandler } from 'hono';
import { AppError } from '../errors.js';

export const NO_STORE = 'no-store';
export const PRIVATE_IMMUTABLE = 'private, max-age=31536000, immutable';

/** The shared headers; refuses a duplicated Host before any work. */
export function answerHeaders(): MiddlewareHandler<{ Bindings: HttpBindings }> {
  return async (c, next) => {
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Cache-Control', NO_STORE);
    // c.env is absent when a test calls app.request() without a Node server.
    const raw = (c.env as Partial<HttpBindings> | undefined)?.incoming?.rawHeaders;
    if (raw !== undefined && hostCount(raw) > 1) {
      throw new AppError('BAD_REQUEST', 'more than one Host header', { reason: 'duplicate_host' }, { Connection: 'close' });
    }
    await next();
  };
}

/** For the exact stored bytes of an authenticated GET: cacheable by the client only, per token. */
export function cachePrivately(c: Context): void {
  c.header('Cache-Control', PRIVATE_IMMUTABLE);
  c.header('Vary', 'Authorization');
}

/** Node keeps every header line in rawHeaders (name, value, name, value…); req.headers keeps one Host. */
function hostCount(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}
