// Answers made of pieces: an export (~1 MiB pieces built in a pool worker and moved here) goes out
// one piece at a time as the socket drains (Hono's Node adapter pulls the stream with
// backpressure), never joined into one body; so does a document kept as a file (`pulled`).

import type { Context } from 'hono';
import type { Readable } from 'node:stream';

/**
 * An answer made of pieces (an export: ~1 MiB each, built in a worker and moved here), streamed
 * out one piece at a time as the socket drains, never joined into one body; each piece is let go
 * once written. Content-Length is known up front.
 */
export function streamed(c: Context, pieces: Uint8Array[], type: string): Response {
  let length = 0;
  for (const p of pieces) length += p.byteLength;
  c.header('Content-Type', type);
  c.header('Content-Length', String(length));
  let next = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      const p = pieces[next];
      if (p === undefined) {
        ctl.close();
        return;
      }
      pieces[next++] = EMPTY;
      ctl.enqueue(p);
    },
  });
  return c.body(body);
}

/** A Node stream as a web stream read on demand (the Node adapter pulls it as the socket drains): a file streamed out. */
export function pulled(s: Readable): ReadableStream<Uint8Array> {
  const it = s[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  return new ReadableStream<Uint8Array>(
    {
      async pull(ctl) {
        const r = await it.next();
        if (r.done === true) ctl.close();
        else ctl.enqueue(new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      },
      cancel() {
        s.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}

const EMPTY = new Uint8Array(0);

