// The one error taxonomy of the service (SPEC §8). Every failure a client can see is an AppError
// with a code from this closed set; the code alone decides the HTTP status, so a handler can never
// answer a schema error with a 500 by accident. `details.reason` is always present and never
// carries raw input or tokens.

export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_TIMEOUT: 408,
  CONFLICT: 409,
  GONE: 410,
  QUARANTINED: 409,
  WINDOW_OVERLAP: 409,
  ALREADY_SUPERSEDED: 409,
  WINDOW_MISMATCH: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUOTA_EXCEEDED: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  POLICY_MISMATCH: 422,
  POOL_OVER_BUDGET: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  OVERLOADED: 503,
  UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;
export type ErrorStatus = (typeof ERROR_STATUS)[ErrorCode];

export interface ErrorDetails {
  reason: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetails;
  /** Extra response headers (Retry-After, X-RateLimit-*, X-Deadline-Exceeded-By-Ms, …). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ErrorCode,
    message: string,
    details: ErrorDetails,
    headers: Record<string, string> = {},
  ) {
    // No stack: an AppError is an answer, never logged with one (onError logs only other errors
    // whole), and capturing it was 2–3 % of the main thread under a storm of 404s or refusals.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
    this.name = 'AppError';
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  get status(): ErrorStatus {
    return ERROR_STATUS[this.code];
  }
}

export interface ErrorEnvelope {
  error: { code: ErrorCode; message: string; corr_id: string; details: ErrorDetails };
}

export function envelope(err: AppError, corrId: string): ErrorEnvelope {
  return { error: { code: err.code, message: err.message, corr_id: corrId, details: err.details } };
}

/** The generic answer for anything that is not an AppError: logged whole, never shown. */
export function internalError(): AppError {
  return new AppError('INTERNAL', 'internal error', { reason: 'internal' });
}
