// Splits a child process's stdout into JSON log lines (the service logs one JSON object a line).
import type { Readable } from 'node:stream';

/** Calls `each` for every complete line: parsed when it is JSON, else null, with its text. */
export function onJsonLines(stream: Readable, each: (line: Record<string, unknown> | null, text: string) => void): void {
  let pending = '';
  stream.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: Record<string, unknown> | null = null;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        // not JSON: the caller decides what a plain line means
      }
      each(line, text);
    }
  });
}
