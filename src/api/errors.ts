import type { ErrorRequestHandler, RequestHandler } from 'express';
import { LiveViewError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';

/** Answers unknown routes with a JSON 404. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ status: 'error', message: `no such endpoint: ${req.method} ${req.path}` });
};

/** The one place where errors become HTTP answers: `{status: "error", message}`. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, next) => {
    void next;
    let status = 500;
    let message: string;
    const e = err as { type?: string; status?: number; body?: unknown };
    if (err instanceof LiveViewError) {
      status = err.status;
      message = err.message;
    } else if (e?.type === 'entity.parse.failed') {
      status = 400;
      message = `invalid JSON in request body: ${errorMessage(err)}`;
    } else if (e?.type === 'entity.too.large') {
      status = 413;
      message = 'request body too large (limit 1 MB)';
    } else if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      status = e.status;
      message = errorMessage(err);
    } else {
      message = `internal error: ${errorMessage(err)}`;
    }
    if (status >= 500) logger.error({ err, path: req.path }, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ status: 'error', message });
  };
}
