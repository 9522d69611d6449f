/** An error whose message is meant for the user; `status` is the HTTP status the API answers with. */
export class LiveViewError extends Error {
  /** HTTP status code for the REST API (default 500). */
  readonly status: number;
  /** HTTP headers the answer carries (e.g. WWW-Authenticate, Retry-After); default none. */
  readonly headers: Readonly<Record<string, string>>;
  constructor(message: string, status = 500, headers: Record<string, string> = {}) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.headers = headers;
  }
}

/** The request or parameters are invalid (HTTP 400). */
export class BadRequestError extends LiveViewError {
  constructor(message: string) {
    super(message, 400);
  }
}

/** A named detector, protocol, stream or session does not exist (HTTP 404). */
export class NotFoundError extends LiveViewError {
  constructor(message: string) {
    super(message, 404);
  }
}

/** The request carries no valid credential (HTTP 401, with a Bearer challenge). */
export class UnauthorizedError extends LiveViewError {
  constructor(message: string) {
    super(message, 401, { 'WWW-Authenticate': 'Bearer realm="liveview"' });
  }
}

/** The credential is valid but its role may not do this (HTTP 403). */
export class ForbiddenError extends LiveViewError {
  constructor(message: string) {
    super(message, 403);
  }
}

/** The request conflicts with the current state, e.g. a detector in error (HTTP 409). */
export class ConflictError extends LiveViewError {
  constructor(message: string) {
    super(message, 409);
  }
}

/** One or more configuration errors, each naming its key path; the process exits 1 with them. */
export class ConfigError extends LiveViewError {
  /** The individual messages, each `key.path: what is wrong`. */
  readonly problems: string[];
  constructor(problems: string[]) {
    super(problems.join('\n'), 400);
    this.problems = problems;
  }
}

/** Turns anything thrown into a message a user can read (no stack trace). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
