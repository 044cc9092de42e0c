// Typed errors. Services throw these; the HTTP layer maps them to the protocol's own format in one place
// (src/http/errors.ts): OCI error bodies on /v2, Harbor's {"errors":[{code,message}]} elsewhere.

/** OCI distribution-spec error codes, plus the ones Harbor/distribution add. */
export const OciCode = {
  BLOB_UNKNOWN: 'BLOB_UNKNOWN',
  BLOB_UPLOAD_INVALID: 'BLOB_UPLOAD_INVALID',
  BLOB_UPLOAD_UNKNOWN: 'BLOB_UPLOAD_UNKNOWN',
  DIGEST_INVALID: 'DIGEST_INVALID',
  MANIFEST_BLOB_UNKNOWN: 'MANIFEST_BLOB_UNKNOWN',
  MANIFEST_INVALID: 'MANIFEST_INVALID',
  MANIFEST_UNKNOWN: 'MANIFEST_UNKNOWN',
  NAME_INVALID: 'NAME_INVALID',
  NAME_UNKNOWN: 'NAME_UNKNOWN',
  SIZE_INVALID: 'SIZE_INVALID',
  UNAUTHORIZED: 'UNAUTHORIZED',
  DENIED: 'DENIED',
  UNSUPPORTED: 'UNSUPPORTED',
  TOOMANYREQUESTS: 'TOOMANYREQUESTS',
  RANGE_INVALID: 'RANGE_INVALID',
  PAGINATION_NUMBER_INVALID: 'PAGINATION_NUMBER_INVALID',
  // Harbor's own code on /v2 for a refused change of an immutable tag (412, lib/errors PreconditionCode).
  PRECONDITION: 'PRECONDITION',
  // Harbor's code on /v2 for a pull a project policy refuses (prevent_vul, content trust; 412, lib/errors PROJECTPOLICYVIOLATION).
  PROJECTPOLICYVIOLATION: 'PROJECTPOLICYVIOLATION',
  UNKNOWN: 'UNKNOWN',
} as const;
export type OciCodeName = (typeof OciCode)[keyof typeof OciCode];

/**
 * The one error table (like Distribution's errcode registry): every code either protocol speaks, with its HTTP
 * status. /v2 codes render as OCI error bodies, /api/v2.0 codes as Harbor's envelope; both go through
 * src/http/errors.ts, which adds nothing of its own beyond Fastify's framework errors.
 */
export const ERROR_TABLE = {
  oci: {
    BLOB_UNKNOWN: 404,
    BLOB_UPLOAD_INVALID: 400,
    BLOB_UPLOAD_UNKNOWN: 404,
    DIGEST_INVALID: 400,
    MANIFEST_BLOB_UNKNOWN: 400,
    MANIFEST_INVALID: 400,
    MANIFEST_UNKNOWN: 404,
    NAME_INVALID: 400,
    NAME_UNKNOWN: 404,
    SIZE_INVALID: 400,
    UNAUTHORIZED: 401,
    DENIED: 403,
    UNSUPPORTED: 405,
    TOOMANYREQUESTS: 429,
    RANGE_INVALID: 416,
    PAGINATION_NUMBER_INVALID: 400,
    PRECONDITION: 412,
    PROJECTPOLICYVIOLATION: 412,
    UNKNOWN: 500,
  } satisfies Record<OciCodeName, number>,
  /** Harbor's management-API codes (`src/lib/errors/const.go`). */
  api: {
    NOT_FOUND: 404,
    CONFLICT: 409,
    UNAUTHORIZED: 401,
    BAD_REQUEST: 400,
    FORBIDDEN: 403,
    PRECONDITION: 412,
    UNKNOWN: 500,
  },
} as const;

export class RegistryError extends Error {
  readonly code: OciCodeName;
  readonly status: number;
  readonly detail: unknown;
  /** Extra response headers (e.g. Range on 416, Retry-After on 429). */
  readonly headers: Record<string, string>;
  constructor(code: OciCodeName, message: string, opts: { status?: number; detail?: unknown; headers?: Record<string, string> } = {}) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
    this.status = opts.status ?? ERROR_TABLE.oci[code] ?? 500;
    this.detail = opts.detail;
    this.headers = opts.headers ?? {};
  }
}

/** Shorthands, so call sites read as the spec does. */
export const Errors = {
  blobUnknown: (digest: string) => new RegistryError('BLOB_UNKNOWN', 'blob unknown to registry', { detail: { digest } }),
  uploadUnknown: () => new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry'),
  uploadInvalid: (msg: string, status = 400, headers: Record<string, string> = {}) =>
    new RegistryError('BLOB_UPLOAD_INVALID', msg, { status, headers }),
  digestInvalid: (msg = 'provided digest did not match uploaded content', detail?: unknown) =>
    new RegistryError('DIGEST_INVALID', msg, { detail }),
  sizeInvalid: (msg: string) => new RegistryError('SIZE_INVALID', msg),
  nameInvalid: (name: string, why = 'invalid repository name') => new RegistryError('NAME_INVALID', why, { detail: { name } }),
  nameUnknown: (name: string) => new RegistryError('NAME_UNKNOWN', 'repository name not known to registry', { detail: { name } }),
  manifestUnknown: (reference: string) =>
    new RegistryError('MANIFEST_UNKNOWN', 'manifest unknown', { detail: { reference } }),
  manifestInvalid: (msg: string, status = 400) => new RegistryError('MANIFEST_INVALID', msg, { status }),
  manifestBlobUnknown: (digest: string) =>
    new RegistryError('MANIFEST_BLOB_UNKNOWN', 'manifest references a blob or manifest unknown to this repository', {
      detail: { digest },
    }),
  unauthorized: (msg = 'authentication required') => new RegistryError('UNAUTHORIZED', msg),
  denied: (msg = 'requested access to the resource is denied') => new RegistryError('DENIED', msg),
  unsupported: (msg = 'the operation is unsupported') => new RegistryError('UNSUPPORTED', msg),
  rangeInvalid: (msg: string, headers: Record<string, string> = {}) =>
    new RegistryError('RANGE_INVALID', msg, { status: 416, headers }),
  paginationInvalid: (msg: string) => new RegistryError('PAGINATION_NUMBER_INVALID', msg),
  tooManyRequests: (msg: string, retryAfter = 1) =>
    new RegistryError('TOOMANYREQUESTS', msg, { headers: { 'Retry-After': String(retryAfter) } }),
};

/** Harbor's management-API error codes, rendered as {"errors":[{code,message}]}. */
export type ApiCode = keyof typeof ERROR_TABLE.api;

export class ApiError extends Error {
  readonly code: ApiCode;
  readonly status: number;
  readonly headers: Record<string, string>;
  constructor(code: ApiCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = ERROR_TABLE.api[code];
    this.headers = headers;
  }
}

export const ApiErrors = {
  notFound: (msg = 'not found') => new ApiError('NOT_FOUND', msg),
  conflict: (msg: string) => new ApiError('CONFLICT', msg),
  badRequest: (msg: string) => new ApiError('BAD_REQUEST', msg),
  forbidden: (msg = 'forbidden') => new ApiError('FORBIDDEN', msg),
  unauthorized: (msg = 'unauthorized') => new ApiError('UNAUTHORIZED', msg),
  precondition: (msg: string) => new ApiError('PRECONDITION', msg),
  /** A 500 whose message is safe to show (a remote service such as the OIDC provider failed, not a bug). */
  internal: (msg: string) => new ApiError('UNKNOWN', msg),
};

/** A schedule expression (cron, `@every`, Harbor's schedule type) that cannot be used: 400 BAD_REQUEST. */
export class InvalidScheduleError extends ApiError {
  constructor(message: string) {
    super('BAD_REQUEST', message);
    this.name = 'InvalidScheduleError';
  }
}

/** An execution, job, worker pool or queue the job service does not know: 404 NOT_FOUND. */
export class JobNotFoundError extends ApiError {
  constructor(message: string) {
    super('NOT_FOUND', message);
    this.name = 'JobNotFoundError';
  }
}
