// Generic strict I-JSON parsing for small documents (policies, request bodies). The values it
// returns use null-prototype objects; member names never touch Object.prototype.

import { type DocError, type Result, err, ok } from '../result.js';
import { Cursor, JsonFail } from './cursor.js';

export function parseStrictJson(bytes: Uint8Array): Result<unknown, DocError> {
  try {
    const c = new Cursor(bytes);
    const v = c.parseValue();
    c.end();
    return ok(v);
  } catch (e) {
    if (e instanceof JsonFail) return err({ path: '$', reason: `${e.reason} (at byte ${e.offset})` });
    throw e;
  }
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
