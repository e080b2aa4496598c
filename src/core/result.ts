// Typed results for the pure core: decoders and the calculus report failures as values so callers
// (CLI, HTTP edge, worker) can map them to exit codes, 4xx answers or quarantine without guessing
// which exceptions are expected.

export type Result<T, E> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });
export const err = <E>(error: E): { ok: false; error: E } => ({ ok: false, error });

/** A refused document: where (a JSON path, `$` for the root) and why, in one line. */
export interface DocError {
  path: string;
  reason: string;
}

export function formatDocError(e: DocError): string {
  return `${e.path}: ${e.reason}`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Renders path segments as `$.events[3].qty`. Member names that are not identifiers are quoted
 * and cut to 40 characters: errors must name the place without echoing arbitrary input.
 */
export function formatPath(segments: readonly (string | number)[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (IDENT.test(s) && s.length <= 64) out += `.${s}`;
    else out += `[${JSON.stringify(s.length > 40 ? `${s.slice(0, 40)}…` : s)}]`;
  }
  return out;
}
