import type { Container } from 'inversify';
import { DetectorProvider } from './detector.js';
import { Protocol } from './protocol.js';
import { RecordingFormat } from './recording.js';
import { ConfigError, errorMessage } from './errors.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { PROTOCOL_API_VERSION, type LiveViewPlugin } from './plugin.js';

/**
 * The detector providers and protocols the plugins contributed, each remembered with the plugin
 * that brought it; an unknown type or protocol is an error that lists the known ones.
 */
export class PluginRegistry {
  private readonly providers = new Map<string, { provider: DetectorProvider; plugin: string }>();
  private readonly protocols = new Map<string, { protocol: Protocol; plugin: string }>();
  private readonly recordingFormats = new Map<
    string,
    { format: RecordingFormat; plugin: string }
  >();

  /**
   * Loads each plugin's ContainerModule into the container (sync or async modules alike) and
   * collects what it bound; a plugin that fails is reported in `problems` and left out.
   */
  static async fromPlugins(
    container: Container,
    plugins: LoadedPlugin[],
    problems: string[],
  ): Promise<PluginRegistry> {
    const registry = new PluginRegistry();
    for (const { plugin } of plugins) {
      try {
        // loadAsync takes every way a module can be written: a block body, an arrow returning
        // a binding, an async function; plain load() rejects the last two.
        await container.loadAsync(plugin.module);
      } catch (err) {
        problems.push(
          `plugin '${plugin.name}': its ContainerModule failed while binding: ${errorMessage(err)} (fix the plugin's module; liveview's own tokens are DetectorProvider and Protocol)`,
        );
        continue;
      }
      try {
        registry.collect(container, plugin);
      } catch (err) {
        problems.push(
          err instanceof ConfigError
            ? err.message
            : `plugin '${plugin.name}': what it bound cannot be resolved: ${errorMessage(err)} (bind instances with toConstantValue, or classes marked @injectable())`,
        );
      }
    }
    return registry;
  }

  private collect(container: Container, plugin: LiveViewPlugin): void {
    const pluginName = plugin.name;
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
        if (!known && plugin.apiVersion < PROTOCOL_API_VERSION) {
          throw new ConfigError([
            `plugin '${pluginName}': protocol '${protocol.name}' is written for plugin API version ${plugin.apiVersion}; protocols need version ${PROTOCOL_API_VERSION}, where registerRoutes(router, hub) and attach({ hub, websockets }) get a StreamHub instead of the controller: update the protocol and declare apiVersion: PLUGIN_API_VERSION`,
          ]);
        }
        if (!known) this.protocols.set(protocol.name, { protocol, plugin: pluginName });
      }
    }
    if (container.isBound(RecordingFormat)) {
      for (const format of container.getAll<RecordingFormat>(RecordingFormat)) {
        const known = this.recordingFormats.get(format.name);
        if (known && known.format !== format) {
          throw new ConfigError([
            `plugin '${pluginName}': recording format '${format.name}' is already provided by plugin '${known.plugin}'`,
          ]);
        }
        if (!known) this.recordingFormats.set(format.name, { format, plugin: pluginName });
      }
    }
  }

  /** Every recording format the plugins bound (protocols list their own through `recordingFormats()`). */
  allRecordingFormats(): RecordingFormat[] {
    return [...this.recordingFormats.values()].map((f) => f.format);
  }

  /** Known detector types, sorted. */
  get detectorTypes(): string[] {
    return [...this.providers.keys()].sort();
  }

  /** Known protocol names, sorted. */
  get protocolNames(): string[] {
    return [...this.protocols.keys()].sort();
  }

  /** The name of the plugin that brought a protocol (for messages about its hooks). */
  pluginOf(protocol: Protocol): string {
    return this.protocols.get(protocol.name)?.plugin ?? protocol.name;
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
