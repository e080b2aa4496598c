// Programs and tenancy (SPEC §10): who is asking (the tenant), which programs its token grants, and
// the one access rule every route applies. The tenant is the `tenant` of the token's entry in
// TOKENS_FILE (several tokens may share one tenant, e.g. one per scope); with AUTH=off it is
// `anonymous`, holding every program. Other modules (per-tenant queues, quotas, metrics, audit)
// key on tenantOf(c) and nothing else.

import type { Context } from 'hono';
import { AppError } from '../errors.js';

/** The tenant of AUTH=off (development only); it holds `["*"]`. */
export const ANONYMOUS = 'anonymous';
/** The program of an epoch id without a `:`. */
export const DEFAULT_PROGRAM = 'default';
export const PROGRAM_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Grants every program. */
export const ALL_PROGRAMS = '*';

/** What the access guard knows about a request's caller. */
export interface Access {
  tenant: string;
  /** Program names, or `*` for all of them. */
  programs: ReadonlySet<string>;
  /** The token's own storage quota (`store_max_bytes`), overriding TENANT_STORE_MAX_BYTES. */
  storeMaxBytes?: number | undefined;
}

export const ANONYMOUS_ACCESS: Access = Object.freeze({ tenant: ANONYMOUS, programs: new Set([ALL_PROGRAMS]) });

/**
 * The program of an epoch id: the part before its first `:`, or `default` without one; null when
 * that prefix is not a valid program name (the caller answers 400).
 */
export function programOf(epochId: string): string | null {
  const colon = epochId.indexOf(':');
  if (colon === -1) return DEFAULT_PROGRAM;
  const p = epochId.slice(0, colon);
  return PROGRAM_RE.test(p) ? p : null;
}

export function grants(access: Access, program: string): boolean {
  return access.programs.has(ALL_PROGRAMS) || access.programs.has(program);
}

/** The caller's access, as set by the app's guard; a route without the guard has none. */
export function accessOf(c: Context): Access {
  const a = c.get('access') as Access | undefined;
  if (a === undefined) throw new Error('accessOf: the route has no access guard');
  return a;
}

/** The tenant behind a request (after the app's guard has run): the one identity of a caller. */
export function tenantOf(c: Context): string {
  return accessOf(c).tenant;
}

/**
 * The one answer for an epoch that does not exist *for this caller*: missing, or in a program its
 * token does not grant. Both are built here so their bodies cannot drift apart.
 */
export function noSuchEpoch(): AppError {
  return new AppError('NOT_FOUND', 'no published run for that epoch', { reason: 'unknown_epoch' });
}

export function noSuchInputs(): AppError {
  return new AppError('NOT_FOUND', 'no inputs with that CID', { reason: 'unknown_inputs' });
}

export function noSuchPolicy(): AppError {
  return new AppError('NOT_FOUND', 'no policy with that hash', { reason: 'unknown_policy' });
}

export function noSuchProgram(): AppError {
  return new AppError('NOT_FOUND', 'no such program', { reason: 'unknown_program' });
}

/**
 * The program of `epochId` if the caller may touch it. An invalid prefix is a 400; a program the
 * token does not grant is exactly the missing-epoch 404, decided before any store is read, so
 * neither the body nor the time taken depends on whether the epoch exists.
 */
export function epochProgram(access: Access, epochId: string): string {
  const program = programOf(epochId);
  if (program === null) {
    throw new AppError('BAD_REQUEST', 'the epoch id names an invalid program', { reason: 'invalid_program', param: 'epoch' });
  }
  if (!grants(access, program)) throw noSuchEpoch();
  return program;
}
