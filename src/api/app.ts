import { fileURLToPath } from 'node:url';
import express, { type Express, type Request } from 'express';
import type { LiveViewController } from '../core/controller.js';
import type { Logger } from '../core/logger.js';
import type { ServerConfig } from '../core/config.js';
import { JSON_BODY_LIMIT, errorHandler, notFoundHandler } from './errors.js';
import { liveviewRoutes } from './liveview-routes.js';
import { rateLimits } from './rate-limits.js';
import { createMetricsRegistry, metricsHandler } from './metrics.js';
import { hostMiddleware, hostPolicy } from './hosts.js';
import { originMiddleware, originPolicy } from './origins.js';
import { securityHeaders } from './security-headers.js';
import { principalOf } from '../core/access.js';
import type { Authenticator } from './auth/authenticator.js';
import { authMiddleware } from './auth/middleware.js';
import { authRoutes } from './auth/routes.js';
import { ApiCatalog } from './openapi/catalog.js';
import { serveOpenApi } from './openapi/endpoint.js';
import type { WebSocketEndpoint } from './upgrade-router.js';
import type { RecordingManager } from '../core/recording-manager.js';
import { recordingRoutes } from './recording-routes.js';
import { recordingDownload } from './recording-download.js';
import {
  IMSWITCH_ROOT,
  IMSWITCH_TAG,
  IMSWITCH_TAG_DESCRIPTION,
  type ImswitchCompat,
} from './imswitch/compat.js';

/** Folder of the browser pages. */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));
/** The compiled pixel-code decoder, served to browsers as an ES module. */
const PIXEL_CODE_JS = fileURLToPath(new URL('../core/pixel-code.js', import.meta.url));
/** The binary protocol's decoder with its decompressors, bundled at build time for browsers. */
const UC2F_DECODER_JS = fileURLToPath(new URL('../../web/uc2f-decoder.js', import.meta.url));

/** WHEP endpoints (src/protocols/webrtc): express routes match paths case-insensitively. */
const WHEP_PATH = /^\/liveview\/whep(?:[/?]|$)/i;

/**
 * Builds the express app: hosts, security headers, origins (CORS), rate limits, credentials, JSON
 * bodies, /auth, /health, /metrics, /liveview, /openapi.json, the pages, errors. Routes are
 * declared (src/api/openapi); `websockets` lists the WebSocket endpoints for the document.
 */
export function createApp(
  controller: LiveViewController,
  server: ServerConfig,
  logger: Logger,
  auth: Authenticator,
  recordings: RecordingManager,
  websockets: { readonly endpoints: readonly WebSocketEndpoint[] } = { endpoints: [] },
  imswitch?: ImswitchCompat,
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
  const api = new ApiCatalog();
  authRoutes(api.mount(app, '/auth', 'auth', 'Logging in and out, who am I, URL tokens'), auth);
  const root = api.scope(app, '', 'server', 'Health, metrics, this document, page modules');
  const startedAt = Date.now();

  root.route({
    method: 'get',
    path: '/health',
    summary: 'Whether the server runs; with a credential also uptime, detectors and streams',
    description:
      'Load balancers probe without a credential: they get `{status: "ok"}` and nothing more.',
    role: 'public',
    responses: { 200: 'It runs.' },
    handler: (req, res) => {
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
    },
  });
  // Prometheus scrapes (with a bearer token when auth is on); one registry per server.
  const metrics = metricsHandler(createMetricsRegistry(controller));
  root.route({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics: streams, frames, sessions, latencies',
    role: auth.config.metricsRole,
    responses: { 200: { description: 'Prometheus text format.', contentType: 'text/plain' } },
    handler: (req, res) => metrics(req, res, () => undefined),
  });
  recordingRoutes(
    api.mount(app, '/liveview/recordings', 'recordings', 'Recording detectors to files'),
    recordings,
    recordingDownload(recordings),
  );
  liveviewRoutes(
    api.mount(app, '/liveview', 'liveview', 'The REST liveview API: streams, params, detectors'),
    controller,
    logger,
  );
  // ImSwitch's live-view API (config compat.imswitch), over the same controller.
  if (imswitch)
    imswitch.declareRoutes(api.mount(app, IMSWITCH_ROOT, IMSWITCH_TAG, IMSWITCH_TAG_DESCRIPTION));
  const browserModule = (path: string, file: string, summary: string) =>
    root.route({
      method: 'get',
      path,
      summary,
      role: 'viewer',
      responses: { 200: { description: 'An ES module.', contentType: 'application/javascript' } },
      handler: (_req, res) => {
        res.type('application/javascript').sendFile(file, { dotfiles: 'allow' });
      },
    });
  browserModule('/lib/pixel-code.js', PIXEL_CODE_JS, "Browser module: reads a frame's pixel code");
  browserModule('/lib/uc2f-decoder.js', UC2F_DECODER_JS, 'Browser module: decodes UC2F packets');
  serveOpenApi(root, () => ({
    routes: api.entries,
    tags: api.tags,
    websockets: websockets.endpoints,
    protocols: controller.registry.allProtocols(),
    authEnabled: auth.enabled,
  }));
  app.use(express.static(WEB_DIR));
  app.options(/.*/, (_req, res) => {
    res.sendStatus(204);
  });
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
