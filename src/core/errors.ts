/**
 * Stable error codes. Each maps to one HTTP status; the JSON shape is
 * `{ "error": { "code", "message", "problems": [ { "path", "message" } ] } }`.
 */
export const ERROR_STATUS = {
  ALLOT_ERR_VALIDATION: 400,
  ALLOT_ERR_INVALID_JSON: 400,
  ALLOT_ERR_UNAUTHORIZED: 401,
  ALLOT_ERR_FORBIDDEN: 403,
  ALLOT_ERR_NOT_FOUND: 404,
  ALLOT_ERR_PLACEMENT_NOT_FOUND: 404,
  ALLOT_ERR_CONFLICT: 409,
  ALLOT_ERR_IN_USE: 409,
  ALLOT_ERR_BODY_TOO_LARGE: 413,
  ALLOT_ERR_URI_TOO_LONG: 414,
  ALLOT_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  ALLOT_ERR_RATE_LIMITED: 429,
  ALLOT_ERR_INVALID_TOKEN: 400,
  ALLOT_ERR_TOKEN_EXPIRED: 410,
  ALLOT_ERR_GONE: 410,
  ALLOT_ERR_INTERNAL: 500,
  ALLOT_ERR_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** One thing wrong with an input, located by a JSON pointer (`/targets/1/share`). */
export interface Problem {
  path: string;
  message: string;
}

/** An error with a stable code; thrown by services, mapped to HTTP by the server. */
export class AllotError extends Error {
  readonly code: ErrorCode;
  readonly problems: Problem[];

  constructor(code: ErrorCode, message: string, problems: Problem[] = []) {
    super(message);
    this.name = 'AllotError';
    this.code = code;
    this.problems = problems;
  }

  get statusCode(): number {
    return ERROR_STATUS[this.code];
  }
}

export const isAllotError = (e: unknown): e is AllotError => e instanceof AllotError;
