import { fileURLToPath } from 'node:url';
import express, { type Express, type Request } from 'express';
import type { LiveViewController } from '../core/controller.js';
import type { Logger } from '../core/logger.js';
import type { ServerConfig } from '../core/config.js';
import { JSON_BODY_LIMIT, errorHandler, notFoundHandler } from './errors.js';
import { liveviewRouter } from './liveview-routes.js';
import { rateLimits } from './rate-limits.js';
import { createMetricsRegistry, metricsHandler } from './metrics.js';
import { hostMiddleware, hostPolicy } from './hosts.js';
import { originMiddleware, originPolicy } from './origins.js';
import { securityHeaders } from './security-headers.js';
import { principalOf, requireRole } from '../core/access.js';
import type { Authenticator } from './auth/authenticator.js';
import { authMiddleware } from './auth/middleware.js';
import { authRouter } from './auth/routes.js';
import type { RecordingManager } from '../core/recording-manager.js';
import { recordingRouter } from './recording-routes.js';
import { recordingDownload } from './recording-download.js';

/** Folder of the browser pages. */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));
/** The compiled pixel-code decoder, served to browsers as an ES module. */
const PIXEL_CODE_JS = fileURLToPath(new URL('../core/pixel-code.js', import.meta.url));
/** The binary protocol's decoder with its decompressors, bundled at build time for browsers. */
const UC2F_DECODER_JS = fileURLToPath(new URL('../../web/uc2f-decoder.js', import.meta.url));

/** WHEP endpoints (src/protocols/webrtc): express routes match paths case-insensitively. */
const WHEP_PATH = /^\/liveview\/whep(?:[/?]|$)/i;

/** Builds the express app: hosts, security headers, origins (CORS), rate limits, credentials, JSON bodies, /auth, /health, /metrics, /liveview, the pages, errors. */
export function createApp(
  controller: LiveViewController,
  server: ServerConfig,
  logger: Logger,
  auth: Authenticator,
  recordings: RecordingManager,
): Express {
  const app = express();
  app.disable('x-powered-by');
  // Which X-Forwarded-For hops to believe for req.ip (rate limits, logs); default none.
  app.set('trust proxy', server.trust_proxy);
  // First of all: a page reached through a rebound DNS name must not get past this.
  app.use(hostMiddleware(hostPolicy(server.allowed_hosts, auth.enabled)));
  app.use(securityHeaders(server.cors_origins));
  // CORS and the refusal of foreign origins; protocols may answer OPTIONS themselves (WHEP's
  // Accept-Post), the rest get 204 below.
  app.use(originMiddleware(originPolicy(server.cors_origins)));
  app.use(rateLimits(app, server.rate_limits, logger));
  // Every request's principal is known from here on; routes check roles against it. Before the
  // body parser: a caller without a credential does not get a megabyte of JSON parsed.
  app.use(authMiddleware(auth));
  // WHEP bodies are SDP: the WHEP routes answer other types 415 themselves, JSON included.
  app.use(
    express.json({
      limit: JSON_BODY_LIMIT,
      strict: false,
      type: (req) => !WHEP_PATH.test(req.url ?? '') && Boolean((req as Request).is('json')),
    }),
  );
  app.use('/auth', authRouter(auth));
  const startedAt = Date.now();

  app.get('/health', (req, res) => {
    // Load balancers probe without a credential: they learn that it runs, nothing more.
    if (!principalOf(req)) {
      res.json({ status: 'ok' });
      return;
    }
    res.json({
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      detectors: Object.fromEntries(
        controller.detectors.names.map((n) => [n, controller.detectors.source(n).status]),
      ),
      streams: controller.getActiveStreams().length,
    });
  });
  // Prometheus scrapes (with a bearer token when auth is on); one registry per server.
  app.get(
    '/metrics',
    requireRole(auth.config.metricsRole),
    metricsHandler(createMetricsRegistry(controller)),
  );
  app.use('/liveview/recordings', recordingRouter(recordings, recordingDownload(recordings)));
  app.use('/liveview', liveviewRouter(controller, logger));
  app.get('/lib/pixel-code.js', (_req, res) => {
    res.type('application/javascript').sendFile(PIXEL_CODE_JS, { dotfiles: 'allow' });
  });
  app.get('/lib/uc2f-decoder.js', (_req, res) => {
    res.type('application/javascript').sendFile(UC2F_DECODER_JS, { dotfiles: 'allow' });
  });
  app.use(express.static(WEB_DIR));
  app.options(/.*/, (_req, res) => {
    res.sendStatus(204);
  });
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
