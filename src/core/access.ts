import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import { ForbiddenError, UnauthorizedError } from './errors.js';

/** Roles, weakest first: each may do everything the ones before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;

/** `viewer` watches and reads status; `operator` starts, stops and tunes; `admin` does everything. */
export type Role = (typeof ROLES)[number];

/** Who made a request, as the server's authentication found it. */
export interface Principal {
  /** Name of the caller (token name, JWT `sub`, or `anonymous` when authentication is off). */
  readonly subject: string;
  /** What the caller may do. */
  readonly role: Role;
  /** How the caller proved it: `none` when authentication is off. */
  readonly via: 'none' | 'token' | 'jwt' | 'session' | 'signed-url';
}

/** Set by the server's authentication, for REST requests and WebSocket upgrades alike. */
const principals = new WeakMap<IncomingMessage, Principal>();

/** Records who made `req` (the server's authentication does this before any route runs). */
export function setPrincipal(req: IncomingMessage, principal: Principal): void {
  principals.set(req, principal);
}

/** Who made `req`; undefined when nothing authenticated it, which every check treats as no access. */
export function principalOf(req: IncomingMessage): Principal | undefined {
  return principals.get(req);
}

/** Whether `principal` holds `role` or a stronger one. */
export function hasRole(principal: Principal | undefined, role: Role): boolean {
  return principal !== undefined && ROLES.indexOf(principal.role) >= ROLES.indexOf(role);
}

/** Throws 401 without a principal and 403 when its role is weaker than `role`; `action` names what was refused. */
export function checkRole(req: IncomingMessage, role: Role, action: string): Principal {
  const principal = principalOf(req);
  if (!principal)
    throw new UnauthorizedError(`${action} needs a credential: log in or send a token`);
  if (!hasRole(principal, role))
    throw new ForbiddenError(
      `${action} needs the ${role} role; '${principal.subject}' has the ${principal.role} role`,
    );
  return principal;
}

/** Express middleware for a route that needs `role` (protocols use it on routes that change state). */
export function requireRole(role: Role): RequestHandler {
  return (req, _res, next) => {
    checkRole(req, role, `${req.method} ${req.baseUrl}${req.path}`);
    next();
  };
}

/** Prefix of a WebSocket subprotocol that carries a bearer token (browsers cannot set headers on WebSockets). */
export const BEARER_SUBPROTOCOL = 'liveview.bearer.';

/** Picks the subprotocol a WebSocket server echoes (ws's `handleProtocols`), never a bearer one: it holds a credential. */
export function selectSubprotocol(offered: Set<string>): string | false {
  for (const p of offered) if (!p.startsWith(BEARER_SUBPROTOCOL)) return p;
  return false;
}
