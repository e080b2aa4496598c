// The compute request body: strict JSON, then the zod schema, with a bounded memo of bodies
// already validated. A replay sends the same bytes again and again; parsing and validating them
// was a tenth of a replay's own server work (beyond what a trivial Hono POST does: read the body,
// write stored bytes), and the same bytes always give the same request, so a repeat skips both.

import { parseStrictJson } from '../core/json/parse.js';
import { formatDocError, formatPath } from '../core/result.js';
import { AppError } from '../errors.js';
import type { ComputeRequest } from '../service/epochs.js';
import type { z } from 'zod';
import { computeRequest } from './schemas.js';

/** Bodies longer than this are validated every time (a compute body is ~200 bytes). */
const MEMO_BODY_MAX = 2048;
const MEMO_ENTRIES = 1024;

export class ComputeBodies {
  private readonly memo = new Map<string, Readonly<ComputeRequest>>();

  /** The validated request of `bytes`, or a 400 AppError naming the first problem. */
  parse(bytes: Uint8Array): Readonly<ComputeRequest> {
    const key = bytes.length <= MEMO_BODY_MAX ? keyOf(bytes) : null;
    if (key !== null) {
      const known = this.memo.get(key);
      if (known !== undefined) return known;
    }
    const req = validate(bytes);
    if (key !== null) {
      this.memo.set(key, req);
      if (this.memo.size > MEMO_ENTRIES) this.memo.delete(this.memo.keys().next().value as string);
    }
    return req;
  }

  /** The request of `bytes` if these exact bytes were validated before (no parsing), else undefined. */
  known(bytes: Uint8Array): Readonly<ComputeRequest> | undefined {
    return bytes.length <= MEMO_BODY_MAX ? this.memo.get(keyOf(bytes)) : undefined;
  }
}

function keyOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function validate(bytes: Uint8Array): Readonly<ComputeRequest> {
  return validateBody(bytes, computeRequest, 'the compute request is invalid');
}

/** A strict JSON body checked by `schema`; a 400 names the first problem (never echoing the client's text). */
export function validateBody<T>(bytes: Uint8Array, schema: z.ZodType<T>, invalid: string): Readonly<T> {
  const parsed = parseStrictJson(bytes);
  if (!parsed.ok) throw new AppError('BAD_REQUEST', 'the body is not valid JSON', { reason: 'invalid_json', problem: formatDocError(parsed.error) });
  const req = schema.safeParse(parsed.value);
  if (!req.success) {
    const issue = req.error.issues[0];
    // zod's message for an unknown member quotes the member name in full: name the place the
    // way the core does (an unknown member by its position) and never echo the client's text.
    const unknown = issue?.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
    const segments = (issue?.path ?? []).map((p) => (typeof p === 'number' ? p : String(p)));
    const position = unknown === undefined ? -1 : Object.keys(parsed.value as object).indexOf(unknown);
    throw new AppError('BAD_REQUEST', invalid, {
      reason: 'invalid_request',
      path: formatPath(unknown === undefined ? segments : [...segments, { member: position }]),
      problem: unknown === undefined ? (issue?.message ?? 'invalid') : 'unknown member',
    });
  }
  return Object.freeze(req.data) as Readonly<T>;
}
