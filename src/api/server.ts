import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container } from 'inversify';
import { loadConfig } from '../core/container.js';
import { parseYaml, readConfigFile, type ResolvedConfig } from '../core/config.js';
import { LiveViewController } from '../core/controller.js';
import { DetectorManager } from '../core/detector-manager.js';
import { RecordingManager } from '../core/recording-manager.js';
import { errorMessage } from '../core/errors.js';
import { createLogger, type Logger, type LogLevel } from '../core/logger.js';
import { createApp } from './app.js';
import { runProtocolHook } from './plugin-hooks.js';
import { Authenticator } from './auth/authenticator.js';
import { authUpgradeGuard } from './auth/middleware.js';
import { TlsRuntime } from './tls.js';
import { hostGuard, hostPolicy } from './hosts.js';
import { originGuard, originPolicy } from './origins.js';
import { upgradeRateLimit } from './rate-limits.js';
import { UpgradeRouter } from './upgrade-router.js';
import { ImswitchCompat } from './imswitch/compat.js';

/** How to start a server. */
export interface StartOptions {
  /** Path of a YAML config file. */
  configFile?: string;
  /** YAML text (used when there is no file; relative plugin paths resolve against `configDir`). */
  configText?: string;
  /** Folder relative paths in `configText` resolve against (default: the working directory). */
  configDir?: string;
  /** Overrides `server.port`. */
  port?: number;
  /** Overrides `server.host`. */
  host?: string;
  /** Overrides `logging.level`. */
  logLevel?: LogLevel;
  /** A logger to use instead of creating one. */
  logger?: Logger;
}

/** A running liveview server. */
export class LiveViewServer {
  private stopping: Promise<void> | undefined;

  constructor(
    /** The DI container. */
    readonly container: Container,
    /** The checked config. */
    readonly config: ResolvedConfig,
    /** The HTTP server. */
    readonly http: Server,
    /** The root logger. */
    readonly logger: Logger,
    /** Certificate reloader and HTTP redirect when `server.tls` is set. */
    readonly tls?: TlsRuntime,
  ) {}

  /** The stream owner. */
  get controller(): LiveViewController {
    return this.container.get(LiveViewController);
  }

  /** Port actually bound. */
  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Base URL for clients on this machine, e.g. http://127.0.0.1:8001 (https:// with `server.tls`). */
  get url(): string {
    const host = this.config.server.host;
    const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    const scheme = this.tls ? 'https' : 'http';
    return `${scheme}://${shown.includes(':') ? `[${shown}]` : shown}:${this.port}`;
  }

  /** Stops streams, closes protocols, sockets and devices; idempotent. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    await releaseAll(this.container, this.http, this.logger, this.tls);
    this.logger.info('stopped');
  }
}

/**
 * Stops streams, closes the protocols (each reported by name if it fails), the HTTP server and
 * the detectors: the one teardown for a stop and for a start that failed half way.
 */
async function releaseAll(
  container: Container,
  http: Server,
  logger: Logger,
  tls?: TlsRuntime,
): Promise<void> {
  const controller = container.get(LiveViewController);
  // Recordings first: their files are completed while the streams they read still run.
  await container.get(RecordingManager).close();
  await controller.stopAll();
  for (const protocol of controller.registry.allProtocols()) {
    if (protocol.close)
      await runProtocolHook(logger, controller.registry, protocol, 'close', () =>
        protocol.close?.(),
      );
  }
  if (container.isBound(ImswitchCompat)) await container.get(ImswitchCompat).close();
  await tls?.close();
  if (http.listening) {
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
  }
  await container.get(DetectorManager).closeAll();
}

/**
 * Reads and checks the config, loads the plugins, creates the detectors and listens. Config
 * problems reject with ConfigError before any port is opened.
 */
export async function startServer(options: StartOptions): Promise<LiveViewServer> {
  const { raw, configDir } = options.configFile
    ? await readConfigFile(options.configFile)
    : {
        raw: parseYaml(options.configText ?? '', '(config text)'),
        configDir: options.configDir ?? process.cwd(),
      };
  const { container, config, logger } = await loadConfig(
    raw,
    configDir,
    { port: options.port, host: options.host, logLevel: options.logLevel },
    (level) => options.logger ?? createLogger(level),
  );
  // Certificate problems are config errors: reported before any port or device is opened.
  const tls =
    config.server.tls &&
    TlsRuntime.load(config.server.tls, config.configDir, config.server.port, logger);
  const controller = container.get(LiveViewController);
  const auth = new Authenticator(config.auth);
  // Before the app: GET /openapi.json lists the WebSocket endpoints the protocols register.
  const upgrades = new UpgradeRouter(logger);
  const imswitch = config.compat.imswitch ? new ImswitchCompat(controller, logger) : undefined;
  if (imswitch) container.bind(ImswitchCompat).toConstantValue(imswitch);
  const app = createApp(
    controller,
    config.server,
    logger,
    auth,
    container.get(RecordingManager),
    upgrades,
    imswitch,
  );
  const http = tls ? tls.createServer(app) : createServer(app);
  // Hosts and origins first: a rebinding or foreign page is refused before credentials are read.
  upgrades.guard(hostGuard(hostPolicy(config.server.allowed_hosts, config.auth.enabled)));
  upgrades.guard(originGuard(originPolicy(config.server.cors_origins)));
  // Counted before the credential is checked, so that guessing tokens is limited too.
  upgrades.guard(upgradeRateLimit(app, http));
  upgrades.guard(authUpgradeGuard(auth));
  upgrades.attach(http);
  imswitch?.attach(upgrades);
  for (const protocol of controller.registry.allProtocols()) {
    if (!protocol.attach) continue;
    await runProtocolHook(logger, controller.registry, protocol, 'attach', () =>
      protocol.attach?.({
        hub: controller.hub(protocol),
        websockets: upgrades.scoped(protocol.name),
      }),
    );
  }
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', (err) =>
        reject(
          new Error(
            `cannot listen on ${config.server.host}:${config.server.port}: ${errorMessage(err)}`,
          ),
        ),
      );
      http.listen(config.server.port, config.server.host, () => resolve());
    });
    await tls?.start(config.server.host);
    await container.get(RecordingManager).open();
  } catch (err) {
    // Nothing the failed start opened may outlive it: protocols, detectors, timers.
    await releaseAll(container, http, logger, tls);
    throw err;
  }
  const server = new LiveViewServer(container, config, http, logger, tls);
  if (!config.auth.enabled && !listensOnLoopbackOnly(config.server.host))
    logger.warn(
      { host: config.server.host },
      `liveview listens on ${config.server.host} (beyond this machine) with auth: none: anyone who reaches the port can watch, start and stop streams and change the detectors; configure auth (README: "Deploying on a network") or set server.host: 127.0.0.1`,
    );
  logger.info(
    { url: server.url, detectors: config.detectors.map((d) => d.name), plugins: config.plugins },
    'liveview listening',
  );
  return server;
}

/** Whether `host` (an address or name to listen on) only accepts connections from this machine. */
export function listensOnLoopbackOnly(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}
