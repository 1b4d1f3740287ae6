/**
 * The one error hierarchy. Each error carries its HTTP status and a stable code;
 * `expose` says whether its message may reach the caller (only below 500).
 * Errors are mapped to responses by `instanceof` in lib/http/problem.ts, never by name.
 */
export interface FieldIssue {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly expose: boolean;
  readonly headers: Readonly<Record<string, string>>;
  /** Extension members of the problem body (RFC 9457 §3.2), shown only when `expose` is true. */
  readonly extensions: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: string,
    title: string,
    detail: string,
    options: { cause?: unknown; headers?: Record<string, string>; extensions?: Record<string, unknown> } = {},
  ) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name; // logs name the class (e.g. DependencyUnavailableError), not "Error"
    this.status = status;
    this.code = code;
    this.title = title;
    this.expose = status < 500;
    this.headers = options.headers ?? {};
    this.extensions = options.extensions ?? {};
  }
}

export class BadRequestError extends AppError {
  readonly issues: readonly FieldIssue[];
  constructor(detail: string, issues: readonly FieldIssue[] = [], extensions?: Record<string, unknown>) {
    super(400, 'bad-request', 'Bad Request', detail, extensions ? { extensions } : {});
    this.issues = issues;
  }
}

export class UnauthorizedError extends AppError {
  constructor(detail: string, challenge?: string) {
    super(401, 'unauthorized', 'Unauthorized', detail, {
      headers: challenge ? { 'www-authenticate': challenge } : {},
    });
  }
}

export class ForbiddenError extends AppError {
  constructor(detail: string, code = 'forbidden') {
    super(403, code, 'Forbidden', detail);
  }
}

export class NotFoundError extends AppError {
  constructor(detail: string, code = 'not-found') {
    super(404, code, 'Not Found', detail);
  }
}

export class ConflictError extends AppError {
  constructor(detail: string, code = 'conflict') {
    super(409, code, 'Conflict', detail);
  }
}

export class PayloadTooLargeError extends AppError {
  constructor(limitBytes: number) {
    super(413, 'payload-too-large', 'Payload Too Large', `The request body exceeds ${limitBytes} bytes.`);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(detail: string) {
    super(415, 'unsupported-media-type', 'Unsupported Media Type', detail);
  }
}

/** A dependency (database, IdP, secret store) failed; the caller may retry. */
export class DependencyUnavailableError extends AppError {
  readonly dependency: string;
  constructor(dependency: string, cause: unknown) {
    super(503, 'dependency-unavailable', 'Service Unavailable', `${dependency} is unavailable.`, {
      cause,
      headers: { 'retry-after': '1' },
    });
    this.dependency = dependency;
  }
}

/** Anything not raised on purpose. Its message never reaches the caller. */
export class InternalError extends AppError {
  constructor(cause: unknown) {
    super(500, 'internal', 'Internal Server Error', 'The server failed to handle the request.', { cause });
  }
}

/** Invalid configuration: thrown at cold start, names every bad variable. */
export class ConfigError extends Error {
  readonly issues: readonly FieldIssue[];
  constructor(issues: readonly FieldIssue[]) {
    super(`invalid configuration: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.issues = issues;
  }
}

/** If-Match names a version that is no longer current: someone else changed the resource. */
export class PreconditionFailedError extends AppError {
  constructor(detail = 'The resource has changed since it was read (If-Match does not match its ETag); read it again.') {
    super(412, 'precondition-failed', 'Precondition Failed', detail);
  }
}

/** A conditional request was required: PATCH must carry If-Match. */
export class PreconditionRequiredError extends AppError {
  constructor(detail = 'This request must carry an If-Match header with the ETag of the resource as last read.') {
    super(428, 'precondition-required', 'Precondition Required', detail);
  }
}
