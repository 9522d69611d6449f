import { Router, type Request, type Response } from 'express';
import { parseCookie } from 'cookie';
import { checkRole, principalOf } from '../../core/access.js';
import { BadRequestError, UnauthorizedError } from '../../core/errors.js';
import { isMapping } from '../../core/validation.js';
import { jsonBody } from '../requests.js';
import type { Authenticator } from './authenticator.js';
import { SESSION_COOKIE } from './middleware.js';

/**
 * /auth: `POST login` ({token} → HttpOnly session cookie), `POST logout`, `GET whoami`, and
 * `POST url-token` (a short-lived token for `?token=` on `<img>` and WebSocket URLs).
 */
export function authRouter(auth: Authenticator): Router {
  const router = Router();

  router.post('/login', async (req, res) => {
    if (!auth.enabled)
      throw new BadRequestError(
        'authentication is off (auth: none): there is nothing to log in to',
      );
    const body = jsonBody(req);
    const token = isMapping(body) ? body.token : undefined;
    if (typeof token !== 'string' || token.length === 0)
      throw new BadRequestError('request body must be a JSON object {"token": "…"}');
    const { principal, expiresAt: credentialExpiry } = await auth.verifyBearer(token.trim());
    const session = await auth.issue(
      principal,
      'session',
      auth.config.sessionTtlS,
      credentialExpiry,
    );
    if (session.expiresAt <= Date.now()) throw new UnauthorizedError('the token expires now');
    res.cookie(SESSION_COOKIE, session.token, {
      httpOnly: true,
      // Strict: no other site's page can make the browser send it (CSRF).
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
      expires: new Date(session.expiresAt),
    });
    res.json({
      status: 'success',
      subject: principal.subject,
      role: principal.role,
      expiresAt: new Date(session.expiresAt).toISOString(),
    });
  });

  router.post('/logout', async (req, res) => {
    const cookie = req.headers.cookie ? parseCookie(req.headers.cookie)[SESSION_COOKIE] : undefined;
    if (cookie) await auth.revoke(cookie);
    res.clearCookie(SESSION_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: req.secure,
      path: '/',
    });
    res.json({ status: 'success' });
  });

  router.get('/whoami', (req, res) => {
    whoami(auth, req, res);
  });

  router.post('/url-token', async (req, res) => {
    const principal = checkRole(req, 'viewer', 'a URL token');
    const issued = await auth.issue(principal, 'url', auth.config.urlTokenTtlS);
    res.json({
      status: 'success',
      token: issued.token,
      expiresAt: new Date(issued.expiresAt).toISOString(),
    });
  });
  return router;
}

function whoami(auth: Authenticator, req: Request, res: Response): void {
  const principal = principalOf(req);
  res.json({
    status: 'success',
    authEnabled: auth.enabled,
    authenticated: principal !== undefined,
    subject: principal?.subject,
    role: principal?.role,
    via: principal?.via,
  });
}
