import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { principalOf } from '../../core/access.js';
import { ForbiddenError } from '../../core/errors.js';

/**
 * ImSwitch stops streams with GET requests. A browser sends the login cookie, and a URL carries its
 * ?token=, with any GET another page makes it do (an <img>), so such a GET is taken only with a
 * credential in a header (or with authentication off).
 */
export function checkHeaderCredential(req: IncomingMessage, action: string): void {
  const via = principalOf(req)?.via;
  if (via === 'session' || via === 'signed-url')
    throw new ForbiddenError(
      `${action} changes state with a GET, as in ImSwitch: send the credential as Authorization: Bearer <token>, not as the login cookie or a ?token= (another page could make a browser send those)`,
    );
}

/** Express middleware of checkHeaderCredential, for a state-changing GET route. */
export function headerCredentialOnly(action: string): RequestHandler {
  return (req, _res, next) => {
    checkHeaderCredential(req, action);
    next();
  };
}
