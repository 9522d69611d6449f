/** Why a feature operation failed, so callers can map it to a status (404, 409, 400, 501). */
export type GenApiErrorCode =
  'not-found' | 'not-writable' | 'not-readable' | 'out-of-range' | 'invalid-value' | 'unsupported';

/** A node map failure whose message names the feature, the value and what would be allowed. */
export class GenApiError extends Error {
  constructor(
    message: string,
    readonly code: GenApiErrorCode,
  ) {
    super(message);
    this.name = 'GenApiError';
  }
}
