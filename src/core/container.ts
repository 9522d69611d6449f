import { Container } from 'inversify';
import type { ResolvedConfig } from './config.js';
import { resolveConfig, type BaseConfig } from './config.js';
import { LiveViewController } from './controller.js';
import { DetectorManager } from './detector-manager.js';
import type { Logger } from './logger.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { PluginRegistry } from './registry.js';
import { ConfigToken, LoggerToken } from './tokens.js';

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
 * services. Throws ConfigError naming the key path or plugin at fault.
 */
export function assemble(base: BaseConfig, plugins: LoadedPlugin[], logger: Logger): Assembled {
  const container = new Container({ defaultScope: 'Singleton' });
  const registry = PluginRegistry.fromPlugins(container, plugins);
  const config = resolveConfig(base, registry);
  container.bind(ConfigToken).toConstantValue(config);
  container.bind(LoggerToken).toConstantValue(logger);
  container.bind(PluginRegistry).toConstantValue(registry);
  container.bind(DetectorManager).toSelf();
  container.bind(LiveViewController).toSelf();
  return { container, config, registry };
}
