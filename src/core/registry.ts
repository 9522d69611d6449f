import type { Container } from 'inversify';
import { DetectorProvider } from './detector.js';
import { Protocol } from './protocol.js';
import { ConfigError, errorMessage } from './errors.js';
import type { LoadedPlugin } from './plugin-loader.js';

/**
 * The detector providers and protocols the plugins contributed, each remembered with the plugin
 * that brought it; an unknown type or protocol is an error that lists the known ones.
 */
export class PluginRegistry {
  private readonly providers = new Map<string, { provider: DetectorProvider; plugin: string }>();
  private readonly protocols = new Map<string, { protocol: Protocol; plugin: string }>();

  /** Loads each plugin's ContainerModule into the container and collects what it bound. */
  static fromPlugins(container: Container, plugins: LoadedPlugin[]): PluginRegistry {
    const registry = new PluginRegistry();
    const problems: string[] = [];
    for (const { plugin } of plugins) {
      try {
        container.load(plugin.module);
        registry.collect(container, plugin.name);
      } catch (err) {
        problems.push(
          err instanceof ConfigError
            ? err.message
            : `plugin '${plugin.name}': failed to register: ${errorMessage(err)}`,
        );
      }
    }
    if (problems.length > 0) throw new ConfigError(problems);
    return registry;
  }

  private collect(container: Container, pluginName: string): void {
    if (container.isBound(DetectorProvider)) {
      for (const provider of container.getAll<DetectorProvider>(DetectorProvider)) {
        const known = this.providers.get(provider.type);
        if (known && known.provider !== provider) {
          throw new ConfigError([
            `plugin '${pluginName}': detector type '${provider.type}' is already provided by plugin '${known.plugin}'`,
          ]);
        }
        if (!known) this.providers.set(provider.type, { provider, plugin: pluginName });
      }
    }
    if (container.isBound(Protocol)) {
      for (const protocol of container.getAll<Protocol>(Protocol)) {
        const known = this.protocols.get(protocol.name);
        if (known && known.protocol !== protocol) {
          throw new ConfigError([
            `plugin '${pluginName}': protocol '${protocol.name}' is already provided by plugin '${known.plugin}'`,
          ]);
        }
        if (!known) this.protocols.set(protocol.name, { protocol, plugin: pluginName });
      }
    }
  }

  /** Known detector types, sorted. */
  get detectorTypes(): string[] {
    return [...this.providers.keys()].sort();
  }

  /** Known protocol names, sorted. */
  get protocolNames(): string[] {
    return [...this.protocols.keys()].sort();
  }

  /** Every protocol. */
  allProtocols(): Protocol[] {
    return [...this.protocols.values()].map((p) => p.protocol);
  }

  /** The provider of a detector type or undefined. */
  findProvider(type: string): DetectorProvider | undefined {
    return this.providers.get(type)?.provider;
  }

  /** The protocol of a name or undefined. */
  findProtocol(name: string): Protocol | undefined {
    return this.protocols.get(name)?.protocol;
  }

  /** Message for an unknown detector type. */
  unknownTypeMessage(type: unknown): string {
    return `unknown detector type '${String(type)}' (known types: ${this.detectorTypes.join(', ')})`;
  }

  /** Message for an unknown protocol. */
  unknownProtocolMessage(name: unknown): string {
    return `unknown protocol '${String(name)}' (known protocols: ${this.protocolNames.join(', ')})`;
  }
}
