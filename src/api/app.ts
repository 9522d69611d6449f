import { fileURLToPath } from 'node:url';
import cors from 'cors';
import express, { type Express, type Request } from 'express';
import type { LiveViewController } from '../core/controller.js';
import type { Logger } from '../core/logger.js';
import type { ServerConfig } from '../core/config.js';
import { JSON_BODY_LIMIT, errorHandler, notFoundHandler } from './errors.js';
import { liveviewRouter } from './liveview-routes.js';
import { createMetricsRegistry, metricsHandler } from './metrics.js';

/** Folder of the browser pages. */
const WEB_DIR = fileURLToPath(new URL('../../../web/', import.meta.url));
/** The compiled pixel-code decoder, served to browsers as an ES module. */
const PIXEL_CODE_JS = fileURLToPath(new URL('../core/pixel-code.js', import.meta.url));
/** The binary protocol's decoder with its decompressors, bundled at build time for browsers. */
const UC2F_DECODER_JS = fileURLToPath(new URL('../../web/uc2f-decoder.js', import.meta.url));

/** WHEP endpoints (src/protocols/webrtc): express routes match paths case-insensitively. */
const WHEP_PATH = /^\/liveview\/whep(?:[/?]|$)/i;

/** Builds the express app: CORS, JSON bodies, /health, /metrics, /liveview, the pages, errors. */
export function createApp(
  controller: LiveViewController,
  server: ServerConfig,
  logger: Logger,
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(
    cors({
      origin: server.cors_origins.includes('*') ? true : server.cors_origins,
      // WHEP players read these from cross-origin answers.
      exposedHeaders: ['Location', 'Link', 'ETag', 'Accept-Post'],
      // Protocols may answer OPTIONS themselves (WHEP's Accept-Post); the rest get 204 below.
      preflightContinue: true,
    }),
  );
  // WHEP bodies are SDP: the WHEP routes answer other types 415 themselves, JSON included.
  app.use(
    express.json({
      limit: JSON_BODY_LIMIT,
      strict: false,
      type: (req) => !WHEP_PATH.test(req.url ?? '') && Boolean((req as Request).is('json')),
    }),
  );
  const startedAt = Date.now();

  app.get('/health', (_req, res) => {
    res.json({
      status: 'ok',
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      detectors: Object.fromEntries(
        controller.detectors.names.map((n) => [n, controller.detectors.source(n).status]),
      ),
      streams: controller.getActiveStreams().length,
    });
  });
  // Prometheus scrapes; one registry per server. To be role-protected once authentication exists.
  app.get('/metrics', metricsHandler(createMetricsRegistry(controller)));
  app.use('/liveview', liveviewRouter(controller, logger));
  app.get('/lib/pixel-code.js', (_req, res) => {
    res.type('application/javascript').sendFile(PIXEL_CODE_JS);
  });
  app.get('/lib/uc2f-decoder.js', (_req, res) => {
    res.type('application/javascript').sendFile(UC2F_DECODER_JS);
  });
  app.use(express.static(WEB_DIR));
  app.options(/.*/, (_req, res) => {
    res.sendStatus(204);
  });
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  return app;
}
