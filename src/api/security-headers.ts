import type { TLSSocket } from 'node:tls';
import type { RequestHandler } from 'express';
import helmet from 'helmet';
import { normalizeOrigin } from './origins.js';

/** HSTS lifetime: one year, helmet's default; without includeSubDomains, which is the domain owner's call. */
const HSTS = 'max-age=31536000';

/** Endpoints a page embeds with `<img src>`: the MJPEG stream and the snapshot. */
const EMBEDDABLE = /^\/liveview\/(?:mjpeg|snapshot\.jpg)(?:[/?]|$)/i;

/**
 * The Content-Security-Policy of the pages: everything from this server only, no inline script or
 * style, no plugins, no foreign framing. `connect-src 'self'` covers the page's ws:/wss: too
 * (CSP 3). Pictures may be blobs and data: URLs (the favicon, canvases); media may be blobs.
 * Origins listed in `server.cors_origins` may frame the pages: they may already call the API.
 */
export function contentSecurityPolicy(corsOrigins: readonly string[]): Record<string, string[]> {
  const framers = corsOrigins
    .map((o) => (o === '*' ? undefined : normalizeOrigin(o)))
    .filter((o): o is string => o !== undefined && o !== 'null');
  return {
    'default-src': ["'self'"],
    'script-src': ["'self'"],
    'script-src-attr': ["'none'"],
    'style-src': ["'self'"],
    'img-src': ["'self'", 'blob:', 'data:'],
    'media-src': ["'self'", 'blob:'],
    'connect-src': ["'self'"],
    'font-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'self'"],
    'form-action': ["'self'"],
    'frame-ancestors': ["'self'", ...framers],
  };
}

/**
 * Security headers (helmet) on every HTTP answer. Cross-Origin-Resource-Policy is `same-origin`,
 * except for the MJPEG stream and snapshot when `server.cors_origins` lists other origins: a page
 * of such an origin (ImSwitch's frontend on another port) shows them with a plain `<img src>`,
 * which CORS does not cover. HSTS only on TLS connections, where a browser heeds it.
 */
export function securityHeaders(corsOrigins: readonly string[]): RequestHandler {
  const embeddable = corsOrigins.length > 0 ? 'cross-origin' : 'same-origin';
  const headers = helmet({
    // No defaults: helmet's add upgrade-insecure-requests, which breaks plain-HTTP LAN addresses.
    contentSecurityPolicy: { useDefaults: false, directives: contentSecurityPolicy(corsOrigins) },
    crossOriginResourcePolicy: false,
    strictTransportSecurity: false,
    // Not helmet's no-referrer: with it a same-origin form POST would carry `Origin: null`.
    referrerPolicy: { policy: 'same-origin' },
  });
  return (req, res, next) => {
    res.setHeader(
      'Cross-Origin-Resource-Policy',
      EMBEDDABLE.test(req.url) ? embeddable : 'same-origin',
    );
    if ((req.socket as Partial<TLSSocket>).encrypted)
      res.setHeader('Strict-Transport-Security', HSTS);
    headers(req, res, next);
  };
}
