/** Why a feature operation failed, so callers can map it (404, 409, 400). */
export type GenApiErrorCode =
  'not-found' | 'not-writable' | 'not-readable' | 'out-of-range' | 'invalid-value' | 'unsupported';

/** A node map error with a message that names the feature and what is allowed. */
export class GenApiError extends Error {
  constructor(
    message: string,
    /** What kind of failure. */
    readonly code: GenApiErrorCode,
  ) {
    super(message);
  }
}
