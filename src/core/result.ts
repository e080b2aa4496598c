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
 * A member named by its position in its object (0-based, document order): how a path names a
 * member whose name the client chose (an unknown member, a kind that is not a valid name), so no
 * error echoes it (SPEC §8).
 */
export interface MemberAt {
  member: number;
}

export type PathSegment = string | number | MemberAt;

/**
 * Renders path segments as `$.events[3].qty`; a member given by position as `$.kinds[member 2]`.
 * A name that is not a plain identifier of at most 64 characters is never printed (`[member ?]`):
 * errors must name the place without echoing arbitrary input (SPEC §8).
 */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '$';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else if (typeof s === 'object') out += `[member ${s.member}]`;
    else if (IDENT.test(s) && s.length <= 64) out += `.${s}`;
    else out += '[member ?]';
  }
  return out;
}
