import type { Request, Response } from 'express';
import { parseCookie } from 'cookie';
import { checkRole, principalOf } from '../../core/access.js';
import { BadRequestError, UnauthorizedError } from '../../core/errors.js';
import type { ApiRoutes } from '../../core/api-routes.js';
import { LoginBody } from '../requests.js';
import type { Authenticator } from './authenticator.js';
import { SESSION_COOKIE } from './middleware.js';

/**
 * /auth: `POST login` ({token} → HttpOnly session cookie), `POST logout`, `GET whoami`, and
 * `POST url-token` (a short-lived token for `?token=` on `<img>` and WebSocket URLs).
 */
export function authRoutes(routes: ApiRoutes, auth: Authenticator): void {
  routes.route({
    method: 'post',
    path: '/login',
    summary: 'Trades a token for an HttpOnly session cookie (what the login page does)',
    role: 'public',
    body: LoginBody,
    responses: {
      200: {
        description: 'Logged in: subject, role and when the session expires.',
        headers: { 'Set-Cookie': `The session cookie ${SESSION_COOKIE}.` },
      },
    },
    handler: async (req, res, { body }) => {
      if (!auth.enabled)
        throw new BadRequestError(
          'authentication is off (auth: none): there is nothing to log in to',
        );
      const { principal, expiresAt: credentialExpiry } = await auth.verifyBearer(body.token.trim());
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
    },
  });

  routes.route({
    method: 'post',
    path: '/logout',
    summary: 'Ends the session of the login cookie and clears the cookie',
    role: 'public',
    responses: { 200: 'Logged out (also when there was no session).' },
    handler: async (req, res) => {
      const cookie = req.headers.cookie
        ? parseCookie(req.headers.cookie)[SESSION_COOKIE]
        : undefined;
      if (cookie) await auth.revoke(cookie);
      res.clearCookie(SESSION_COOKIE, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: '/',
      });
      res.json({ status: 'success' });
    },
  });

  routes.route({
    method: 'get',
    path: '/whoami',
    summary: 'Whether authentication is on, and who the caller is (subject, role, how)',
    role: 'public',
    responses: { 200: 'authEnabled, authenticated, and subject, role and via when authenticated.' },
    handler: (req, res) => {
      whoami(auth, req, res);
    },
  });

  routes.route({
    method: 'post',
    path: '/url-token',
    summary: 'A short-lived token for `?token=` on `<img src>` and WebSocket URLs',
    description: 'It grants what the caller may do, for GET requests and WebSockets only.',
    role: 'viewer',
    responses: { 200: 'The token and when it expires.' },
    handler: async (req, res) => {
      const principal = checkRole(req, 'viewer', 'a URL token');
      const issued = await auth.issue(principal, 'url', auth.config.urlTokenTtlS);
      res.json({
        status: 'success',
        token: issued.token,
        expiresAt: new Date(issued.expiresAt).toISOString(),
      });
    },
  });
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
