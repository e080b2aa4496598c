// Bearer tokens. The service stores only SHA-256 digests of tokens; a presented token is hashed
// and compared with every stored digest in constant time, so neither the time taken nor any
// message or log line depends on, or repeats, the token itself.
//
// Tokens file (JSON):
//   [{"tenant": "acme", "scopes": ["rewarder.run"], "programs": ["acme-poc"], "sha256": "<64 hex of the token>"}]
// `programs` (SPEC §10) lists the programs the token may compute, read and list, or is ["*"] for
// all of them; an entry without it holds only `default` (epoch ids without a `:`), which is what
// every token could reach before programs existed.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { AppError } from '../errors.js';
import { ALL_PROGRAMS, type Access, DEFAULT_PROGRAM, PROGRAM_RE } from './tenancy.js';

export const SCOPES = ['rewarder.seal', 'rewarder.run', 'rewarder.inspect', 'rewarder.admin', 'rewarder.correct'] as const;
export type Scope = (typeof SCOPES)[number];

export interface TokenEntry {
  tenant: string;
  scopes: Scope[];
  /** Program names the token grants, or `["*"]`. */
  programs: string[];
  /** Overrides TENANT_STORE_MAX_BYTES for documents sealed with this token. */
  storeMaxBytes?: number;
  /** Hex SHA-256 of the token. */
  sha256: string;
}

const FINGERPRINT_HEX_CHARS = 16;
/** Tokens longer than this are refused before hashing; Node caps headers at 16 KiB anyway. */
const MAX_TOKEN_CHARS = 1024;
// RFC 6750 b64token
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

const entrySchema = z.strictObject({
  tenant: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected 1–64 characters of A-Z a-z 0-9 . _ -'),
  scopes: z.array(z.enum(SCOPES)).min(1, 'expected at least one scope'),
  programs: z
    .array(z.string().refine((p) => p === ALL_PROGRAMS || PROGRAM_RE.test(p), 'expected a program name (^[a-z0-9][a-z0-9_-]{0,63}$) or "*"'))
    .min(1, 'expected at least one program (or "*")')
    .optional(),
  store_max_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  sha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'expected 64 hex characters (the SHA-256 of the token)')
    .transform((hex) => hex.toLowerCase()),
});

const fileSchema = z
  .array(entrySchema)
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((entry, i) => {
      const first = seen.get(entry.sha256);
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: [i, 'sha256'], message: `same token as [${first}]` });
      } else seen.set(entry.sha256, i);
    });
  });

/** Parses and validates a tokens file; throws an Error with a one-line message naming the problem. */
export function parseTokensFile(text: string): TokenEntry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // The parser's message quotes the input; keep file content out of logs.
    throw new Error('tokens file: not valid JSON');
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const [first, ...rest] = parsed.error.issues;
    const where = first ? formatPath(first.path) : '';
    const more = rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
    throw new Error(`tokens file: ${where}${where ? ': ' : ''}${first?.message ?? 'invalid'}${more}`);
  }
  return parsed.data.map((e) => ({
    tenant: e.tenant,
    scopes: [...new Set(e.scopes)],
    programs: [...new Set(e.programs ?? [DEFAULT_PROGRAM])],
    ...(e.store_max_bytes === undefined ? {} : { storeMaxBytes: e.store_max_bytes }),
    sha256: e.sha256,
  }));
}

function formatPath(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
}

/** Keyed (HMAC-SHA-256) fingerprint of a token for audit logs: stable per key, useless without it. */
export function tokenFingerprint(token: string, key: Uint8Array): string {
  return createHmac('sha256', key).update(token).digest('hex').slice(0, FINGERPRINT_HEX_CHARS);
}

interface KnownToken {
  access: Access;
  scopes: ReadonlySet<Scope>;
  digest: Buffer;
}

export class TokenVerifier {
  private known: readonly KnownToken[];
  private readonly fingerprintKey: Uint8Array;

  /**
   * `fingerprintKey` keys the fingerprints in verify results; without one a random per-process
   * key is used, so fingerprints correlate within a run but not across restarts.
   */
  constructor(entries: TokenEntry[], fingerprintKey: Uint8Array = randomBytes(32)) {
    this.known = known(entries);
    this.fingerprintKey = fingerprintKey;
  }

  /** Replaces every entry at once (SIGHUP); throws, keeping the old entries, if one is invalid. */
  replace(entries: TokenEntry[]): void {
    this.known = known(entries);
  }

  /** Every tenant named by the entries: the bounded label set of per-tenant metrics. */
  tenants(): string[] {
    return [...new Set(this.known.map((k) => k.access.tenant))].sort();
  }

  /**
   * The tenant behind `Authorization: Bearer <token>` if it holds `needed`. Throws AppError
   * UNAUTHENTICATED (401, `WWW-Authenticate: Bearer`) for a missing, malformed or unknown token
   * and FORBIDDEN (403) for a known token without the scope. The audit fingerprint (an HMAC, as
   * costly as the check itself) is identify()'s, made only when an audit line is written.
   */
  verify(authorizationHeader: string | undefined, needed: Scope): Access {
    const token = bearerToken(authorizationHeader);
    const entry = this.lookup(token);
    if (!entry) throw unauthenticated('unknown_token', 'unknown bearer token');
    if (!entry.scopes.has(needed)) {
      throw new AppError('FORBIDDEN', 'token lacks the required scope', { reason: 'missing_scope', scope: needed });
    }
    return entry.access;
  }

  /**
   * What the audit log may say about a request's token: the fingerprint of a well-formed token
   * and the tenant when the token is known. Never throws.
   */
  identify(authorizationHeader: string | undefined): { tenant?: string; fingerprint?: string } {
    let token: string;
    try {
      token = bearerToken(authorizationHeader);
    } catch {
      return {};
    }
    const entry = this.lookup(token);
    const fingerprint = tokenFingerprint(token, this.fingerprintKey);
    return entry ? { tenant: entry.access.tenant, fingerprint } : { fingerprint };
  }

  private lookup(token: string): KnownToken | undefined {
    const digest = createHash('sha256').update(token).digest();
    let found: KnownToken | undefined;
    // Every entry is compared, match or not, so the time taken says nothing about which matched.
    for (const entry of this.known) {
      const same = timingSafeEqual(digest, entry.digest);
      found = same ? entry : found;
    }
    return found;
  }
}

function known(entries: TokenEntry[]): KnownToken[] {
  const digests = new Set<string>();
  return entries.map((e, i) => {
    const digest = Buffer.from(e.sha256, 'hex');
    if (digest.byteLength !== 32 || digest.toString('hex') !== e.sha256.toLowerCase()) {
      throw new Error(`token entry ${i}: sha256 is not 64 hex characters`);
    }
    if (digests.has(e.sha256.toLowerCase())) throw new Error(`token entry ${i}: duplicate sha256`);
    digests.add(e.sha256.toLowerCase());
    const access: Access = { tenant: e.tenant, programs: new Set(e.programs), ...(e.storeMaxBytes === undefined ? {} : { storeMaxBytes: e.storeMaxBytes }) };
    return { access: Object.freeze(access), scopes: new Set(e.scopes), digest };
  });
}

function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw unauthenticated('missing_token', 'bearer token required');
  const match = header.length <= MAX_TOKEN_CHARS + 16 ? BEARER.exec(header) : null;
  const token = match?.[1];
  if (token === undefined || token.length > MAX_TOKEN_CHARS) {
    throw unauthenticated('malformed_authorization', 'Authorization must be "Bearer <token>"');
  }
  return token;
}

function unauthenticated(reason: string, message: string): AppError {
  return new AppError('UNAUTHENTICATED', message, { reason }, { 'WWW-Authenticate': 'Bearer' });
}
