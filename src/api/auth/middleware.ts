import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { parseCookie } from 'cookie';
import { BEARER_SUBPROTOCOL, setPrincipal, type Principal } from '../../core/access.js';
import { UnauthorizedError } from '../../core/errors.js';
import type { UpgradeGuard } from '../upgrade-router.js';
import type { Authenticator, Verified } from './authenticator.js';

/** Name of the HttpOnly cookie a login sets. */
export const SESSION_COOKIE = 'liveview_session';

/** Who may do everything when authentication is off. */
const ANONYMOUS: Principal = { subject: 'anonymous', role: 'admin', via: 'none' };

/** Paths anyone may fetch: the login page and what it needs, the login itself, the health probe. */
const PUBLIC_PATHS = new Set([
  '/login.html',
  '/login.js',
  '/style.css',
  '/favicon.ico',
  '/auth/login',
  '/auth/logout',
  '/auth/whoami',
  '/health',
]);

/** Pages a browser navigates to: without a credential they lead to the login page. */
const PAGES = /^\/(?:$|[\w-]+\.html$)/;

/**
 * Finds and checks the request's credential, in this order: `Authorization: Bearer`, a
 * `liveview.bearer.<token>` WebSocket subprotocol, a signed `?token=` (GET and upgrades only),
 * the login cookie. Undefined when there is none; throws 401/403 when there is a bad one.
 */
export async function authenticate(
  auth: Authenticator,
  req: IncomingMessage,
  url: URL,
): Promise<Verified | undefined> {
  if (!auth.enabled) return { principal: ANONYMOUS };
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new UnauthorizedError("Authorization header must be 'Bearer <token>'");
    return auth.verifyBearer(match[1]);
  }
  const subprotocol = bearerSubprotocol(req);
  if (subprotocol !== undefined) return auth.verifyBearer(subprotocol);
  const urlToken = url.searchParams.get('token');
  if (urlToken !== null) {
    // URL tokens end up in logs and histories, so only short-lived read tokens are accepted there.
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new UnauthorizedError('a ?token= is accepted on GET requests and WebSockets only');
    return auth.verifyIssued(urlToken, 'url');
  }
  const cookie = req.headers.cookie ? parseCookie(req.headers.cookie)[SESSION_COOKIE] : undefined;
  if (cookie) return auth.verifyIssued(cookie, 'session');
  return undefined;
}

/** The token of a `liveview.bearer.<token>` subprotocol the client offered, if any. */
function bearerSubprotocol(req: IncomingMessage): string | undefined {
  const offered = req.headers['sec-websocket-protocol'];
  if (typeof offered !== 'string') return undefined;
  for (const p of offered.split(',')) {
    const name = p.trim();
    if (name.startsWith(BEARER_SUBPROTOCOL)) return name.slice(BEARER_SUBPROTOCOL.length);
  }
  return undefined;
}

/**
 * Express middleware: records the principal of every request; without a credential, public
 * paths pass, pages redirect to the login page and the rest get 401.
 */
export function authMiddleware(auth: Authenticator): RequestHandler {
  return (req, res, next) => {
    authenticate(auth, req, queryUrl(req.originalUrl)).then(
      (verified) => {
        if (verified) {
          setPrincipal(req, verified.principal);
          next();
        } else if (PUBLIC_PATHS.has(req.path) || req.method === 'OPTIONS') next();
        else if (isPageVisit(req)) res.redirect(303, loginUrl(req.originalUrl));
        else
          next(
            new UnauthorizedError(
              'this needs a credential: send Authorization: Bearer <token>, or log in at /login.html',
            ),
          );
      },
      (err: unknown) => {
        // A stale cookie (expired, or signed before a restart) must not lock the user out of
        // the login page, nor show a page's visitor a JSON error instead of the login form.
        if (PUBLIC_PATHS.has(req.path) || req.method === 'OPTIONS') next();
        else if (isPageVisit(req)) {
          res.clearCookie(SESSION_COOKIE, { path: '/' });
          res.redirect(303, loginUrl(req.originalUrl));
        } else next(err);
      },
    );
  };
}

/** A browser navigating to one of the pages (not a script fetching the API). */
function isPageVisit(req: Request): boolean {
  return req.method === 'GET' && PAGES.test(req.path) && Boolean(req.accepts('html'));
}

/** The login page, coming back to `target` afterwards. */
function loginUrl(target: string): string {
  return `/login.html?next=${encodeURIComponent(target)}`;
}

/**
 * The request's query as a URL (only `?token=` is read from it): a target such as `//[` is no
 * valid URL against a base, and an unauthenticated request must not get a 500 for it.
 */
function queryUrl(target: string): URL {
  const q = target.indexOf('?');
  return new URL(`http://localhost/${q >= 0 ? target.slice(q) : ''}`);
}

/** Upgrade guard: a WebSocket needs a credential like any other request (at least viewer). */
export function authUpgradeGuard(auth: Authenticator): UpgradeGuard {
  return async (req, url) => {
    const verified = await authenticate(auth, req, url);
    if (!verified)
      throw new UnauthorizedError(
        `a WebSocket needs a credential: a '${BEARER_SUBPROTOCOL}<token>' subprotocol, a signed ?token= from POST /auth/url-token, or the login cookie`,
      );
    setPrincipal(req, verified.principal);
  };
}
