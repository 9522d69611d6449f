import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import type { Protocol } from '../core/protocol.js';
import type { PluginRegistry } from '../core/registry.js';

/** The hooks a protocol plugin's code runs in. */
type HookName = 'registerRoutes' | 'attach' | 'close';

/** What the server still offers when a hook failed, for the log line. */
const CONSEQUENCE: Record<HookName, string> = {
  registerRoutes: 'its HTTP routes may be missing',
  attach: 'its WebSocket endpoints may be missing',
  close: 'some of its resources may stay open until the process exits',
};

/**
 * Runs one protocol hook so that a faulty plugin is reported by name and never takes the server
 * down: a throw (or a rejection) is logged with the plugin and protocol, and the server goes on.
 */
export async function runProtocolHook(
  logger: Logger,
  registry: PluginRegistry,
  protocol: Protocol,
  hook: HookName,
  call: () => unknown,
): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (err) {
    logger.error(
      {
        plugin: registry.pluginOf(protocol),
        protocol: protocol.name,
        hook,
        err: errorMessage(err),
      },
      `plugin '${registry.pluginOf(protocol)}': protocol '${protocol.name}' failed in ${hook}: ${errorMessage(err)}; ${CONSEQUENCE[hook]}`,
    );
    return false;
  }
}
