import { Container } from 'inversify';
import { ConfigError } from './errors.js';
import type { ResolvedConfig } from './config.js';
import { parseBaseConfig, resolveConfig, type BaseConfig } from './config.js';
import { loadPlugins } from './plugin-loader.js';
import { LiveViewController } from './controller.js';
import { DetectorManager } from './detector-manager.js';
import { RecordingManager } from './recording-manager.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { PluginRegistry } from './registry.js';
import { ConfigToken, LoggerToken } from './tokens.js';
import { RelaysSetup } from './relays-config.js';

/** The container with every plugin loaded and the config checked against them. */
export interface Assembled {
  /** The inversify container (tests may rebind fakes in it). */
  container: Container;
  /** The config, fully checked. */
  config: ResolvedConfig;
  /** Providers and protocols. */
  registry: PluginRegistry;
}

/**
 * Loads the plugins' modules, checks the detectors and protocols against them and binds the core
 * services. Problems, each naming the key path or plugin at fault, go to `problems`.
 */
export async function assemble(
  base: BaseConfig,
  plugins: LoadedPlugin[],
  logger: Logger,
  problems: string[],
): Promise<Assembled> {
  const container = new Container({ defaultScope: 'Singleton' });
  // Before the plugins: the WebRTC protocol, created while they load, starts these relays.
  container.bind<RelaysSetup>(RelaysSetup).toConstantValue({ relays: base.relays, logger });
  const registry = await PluginRegistry.fromPlugins(container, plugins, problems);
  const config = resolveConfig(base, registry, problems);
  container.bind(ConfigToken).toConstantValue(config);
  container.bind(LoggerToken).toConstantValue(logger);
  container.bind(PluginRegistry).toConstantValue(registry);
  container.bind(DetectorManager).toSelf();
  container.bind(LiveViewController).toSelf();
  container.bind(RecordingManager).toSelf();
  return { container, config, registry };
}

/** Options of loadConfig that override the file. */
export interface ConfigOverrides {
  /** Overrides `server.port`. */
  port?: number;
  /** Overrides `server.host`. */
  host?: string;
  /** Overrides `logging.level`. */
  logLevel?: LogLevel;
}

/**
 * The whole config pipeline without opening anything: checks the plugin-independent sections,
 * loads the plugins, then checks detectors and protocols against them. Every problem of every
 * stage is reported at once, in one ConfigError.
 */
export async function loadConfig(
  raw: unknown,
  configDir: string,
  overrides: ConfigOverrides = {},
  makeLogger: (level: LogLevel) => Logger = createLogger,
): Promise<Assembled & { logger: Logger }> {
  const problems: string[] = [];
  const base = parseBaseConfig(raw, configDir, problems);
  if (overrides.port !== undefined) base.server.port = overrides.port;
  if (overrides.host !== undefined) base.server.host = overrides.host;
  if (overrides.logLevel !== undefined) base.logging.level = overrides.logLevel;
  const logger = makeLogger(base.logging.level);
  const plugins = await loadPlugins(base.plugins, configDir, problems);
  const assembled = await assemble(base, plugins, logger, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { ...assembled, logger };
}
