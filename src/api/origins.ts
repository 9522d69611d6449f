import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import cors from 'cors';
import type { RequestHandler } from 'express';
import { ForbiddenError } from '../core/errors.js';
import type { UpgradeGuard } from './upgrade-router.js';

/** The config key an operator changes to let another origin in; every refusal names it. */
const CONFIG_KEY = 'server.cors_origins';

/** WHEP players read these from cross-origin answers (Location of the session, ICE servers in Link…). */
const EXPOSED_HEADERS = [
  'Location',
  'Link',
  'ETag',
  'Accept-Post',
  'Retry-After',
  'RateLimit',
  'RateLimit-Policy',
];

/** Which origins may call the server besides its own pages; built once from `server.cors_origins`. */
export interface OriginPolicy {
  /** `'*'` was listed: any origin, without credentials (default false). */
  readonly any: boolean;
  /** Listed origins, normalised (`scheme://host[:port]`), `null` only if listed literally (default none). */
  readonly listed: ReadonlySet<string>;
}

/** How a request's `Origin` header relates to the policy. */
export type OriginVerdict =
  | { kind: 'none' }
  | { kind: 'same-origin' }
  | { kind: 'listed'; origin: string }
  | { kind: 'any'; origin: string }
  | { kind: 'refused'; origin: string };

/**
 * The serialized origin (`scheme://host[:port]`: lowercase scheme and host, default port dropped,
 * IDN as punycode) of an http(s) origin or URL, `'null'` for the opaque origin, undefined for
 * anything else.
 */
export function normalizeOrigin(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === 'null') return 'null';
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  // An origin has no user, path, query or fragment: such a value is a URL, not an origin.
  if (url.username || url.password || url.search || url.hash || url.pathname !== '/')
    return undefined;
  return url.origin;
}

/** Builds the policy of `server.cors_origins` (`*`, `null` and origins; unusable entries never match). */
export function originPolicy(corsOrigins: readonly string[]): OriginPolicy {
  const listed = new Set<string>();
  for (const entry of corsOrigins) {
    if (entry === '*') continue;
    const origin = normalizeOrigin(entry);
    if (origin !== undefined) listed.add(origin);
  }
  return { any: corsOrigins.includes('*'), listed };
}

/**
 * True when `origin` is the origin the request was sent to: same host and port as the `Host`
 * header and the scheme of the connection. Behind a TLS-terminating proxy the connection is plain
 * HTTP, so `X-Forwarded-Proto` counts too: a cross-origin page cannot send that header without a
 * preflight, and preflights are judged without it, so it cannot make a foreign origin pass.
 */
export function isSameOrigin(origin: string, req: IncomingMessage): boolean {
  const host = req.headers.host;
  // `@`, `/`, `\` would make the URL parser read a user or a path out of the Host header.
  if (origin === 'null' || !host || /[\s/\\?#@]/.test(host)) return false;
  const schemes = new Set([(req.socket as Partial<TLSSocket>).encrypted ? 'https' : 'http']);
  const forwarded = firstHeaderValue(req.headers['x-forwarded-proto'])?.toLowerCase();
  if (forwarded === 'http' || forwarded === 'https') schemes.add(forwarded);
  for (const scheme of schemes) {
    try {
      if (new URL(`${scheme}://${host}`).origin === origin) return true;
    } catch {
      return false;
    }
  }
  return false;
}

/** Judges the request's `Origin` header against the policy (no header: a non-browser client). */
export function judgeOrigin(req: IncomingMessage, policy: OriginPolicy): OriginVerdict {
  // Not split at commas: a browser sends one origin, and several joined ones are refused whole.
  const header = req.headers.origin?.trim();
  if (!header) return { kind: 'none' };
  // An unparsable Origin is compared as written, so it is refused unless `*` allows anything.
  const origin = normalizeOrigin(header) ?? header;
  if (isSameOrigin(origin, req)) return { kind: 'same-origin' };
  if (policy.listed.has(origin)) return { kind: 'listed', origin };
  // `*` stands for any web origin; the opaque `null` (sandboxed frames, file: pages) must be listed.
  if (policy.any && origin !== 'null') return { kind: 'any', origin };
  return { kind: 'refused', origin };
}

/** The 403 for a request from an origin the policy does not allow. */
export function refusedOriginError(origin: string): ForbiddenError {
  return new ForbiddenError(
    `cross-origin request from ${JSON.stringify(origin)} refused: only this server's own pages ` +
      `and the origins listed in ${CONFIG_KEY} may call it (add the origin there to allow it)`,
  );
}

/**
 * CORS and cross-site request forgery protection for REST: a request whose `Origin` is neither
 * the server's own nor allowed is refused with 403 whatever its method (preflights included),
 * so a foreign page cannot start streams or change parameters, and gets a clear message instead
 * of an opaque CORS failure. Listed origins get their origin echoed with credentials; `*` gets
 * `Access-Control-Allow-Origin: *` without credentials. Preflights continue to the routes, so
 * that a protocol may answer OPTIONS itself (WHEP's Accept-Post).
 */
export function originMiddleware(policy: OriginPolicy): RequestHandler {
  const shared = { exposedHeaders: EXPOSED_HEADERS, preflightContinue: true };
  // Without `allowedHeaders` the cors package allows what the preflight asks for: Authorization
  // for bearer tokens, Content-Type for JSON and SDP, If-Match for WHEP.
  const withCredentials = cors({ ...shared, origin: true, credentials: true });
  const withoutCredentials = cors({ ...shared, origin: true });
  const anyOrigin = cors({ ...shared, origin: '*' });
  return (req, res, next) => {
    // Answers differ by Origin (CORS headers, 403): caches must keep them apart.
    res.vary('Origin');
    const verdict = judgeOrigin(req, policy);
    switch (verdict.kind) {
      case 'refused':
        next(refusedOriginError(verdict.origin));
        return;
      case 'listed':
        // Any sandboxed frame is `null`: it may be listed, but never gets credentials.
        (verdict.origin === 'null' ? withoutCredentials : withCredentials)(req, res, next);
        return;
      case 'any':
        anyOrigin(req, res, next);
        return;
      default:
        next();
    }
  };
}

/**
 * The same rule for WebSocket upgrades, which CORS does not cover: browsers send `Origin` with
 * every WebSocket handshake, so a foreign one is refused with 403; no `Origin` (programs such
 * as the `ws` client) passes.
 */
export function originGuard(policy: OriginPolicy): UpgradeGuard {
  return (req) => {
    const verdict = judgeOrigin(req, policy);
    if (verdict.kind === 'refused') throw refusedOriginError(verdict.origin);
  };
}

/** The first of a header's comma-separated values, trimmed; undefined when absent or empty. */
function firstHeaderValue(value: string | string[] | undefined): string | undefined {
  const first = (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim();
  return first ? first : undefined;
}
