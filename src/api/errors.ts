import type { ErrorRequestHandler, RequestHandler } from 'express';
import { LiveViewError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Largest JSON request body, for express.json and the 413 message. */
export const JSON_BODY_LIMIT = '1mb';

/** An error as the client sees it: HTTP status and a message without a stack trace. */
export interface HttpError {
  /** HTTP status (4xx for the client's mistakes, 5xx for ours). */
  status: number;
  /** What is wrong and, where it helps, what to do. */
  message: string;
  /** Headers the answer carries (WWW-Authenticate, Retry-After…). */
  headers?: Readonly<Record<string, string>>;
}

/** The one mapping of anything thrown to an HTTP status and message (REST and WebSocket upgrades). */
export function httpErrorOf(err: unknown): HttpError {
  const e = err as { type?: string; status?: number; limit?: number };
  if (err instanceof LiveViewError)
    return { status: err.status, message: err.message, headers: err.headers };
  if (e?.type === 'entity.parse.failed')
    return { status: 400, message: `invalid JSON in request body: ${errorMessage(err)}` };
  if (e?.type === 'entity.too.large') {
    const limit = typeof e.limit === 'number' ? `${Math.round(e.limit / 1024)} KB` : 'the limit';
    return { status: 413, message: `request body too large (limit ${limit})` };
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return { status: e.status, message: errorMessage(err) };
  return { status: 500, message: `internal error: ${errorMessage(err)}` };
}

/** The JSON body of every error answer. */
export function errorBody(message: string): { status: 'error'; message: string } {
  return { status: 'error', message };
}

/** Answers unknown routes with a JSON 404. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json(errorBody(`no such endpoint: ${req.method} ${req.path}`));
};

/** The express end of httpErrorOf: `{status: "error", message}`; server faults are logged. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    void next;
    const { status, message, headers } = httpErrorOf(err);
    if (status >= 500) logger.error({ err, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (headers) res.set(headers);
    res.status(status).json(errorBody(message));
  };
}
