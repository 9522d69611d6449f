import {
  ContainerModule,
  DetectorProvider,
  PLUGIN_API_VERSION,
  definePlugin,
  type Detector,
  type DetectorContext,
} from '../../index.js';
import { discoverDevices, type DiscoveredDevice } from './discovery.js';
import { GenicamDetector } from './genicam-detector.js';
import { parseGenicamOptions, type GenicamOptions } from './options.js';

export { GenicamDetector } from './genicam-detector.js';
export { GvcpClient } from './gvcp-client.js';
export { discoverDevices, type DiscoveredDevice } from './discovery.js';
export * from './options.js';

/** Creates `type: genicam` detectors: GigE Vision cameras described by their GenICam XML. */
export class GenicamDetectorProvider implements DetectorProvider<GenicamOptions> {
  readonly type = 'genicam';
  readonly description = 'GigE Vision camera (GenICam), no vendor SDK';

  parseOptions(raw: unknown, path: string): GenicamOptions {
    return parseGenicamOptions(raw, path);
  }

  create(name: string, options: GenicamOptions, context: DetectorContext): Detector {
    return new GenicamDetector(name, options, context.logger);
  }

  /** Broadcasts on the interfaces the configured detectors name and asks their addresses directly. */
  async discover(
    configured: GenicamOptions[],
    timeoutMs?: number,
  ): Promise<Record<string, unknown>[]> {
    const addresses = configured.map((o) => o.address).filter((a) => a !== '');
    const named = configured.flatMap((o) => o.interfaces);
    // A detector without an address is found by broadcast: look where it would.
    const broadcast = configured.some((o) => o.address === '');
    const devices = await discoverDevices({
      interfaces: broadcast ? (named.length > 0 ? [...new Set(named)] : undefined) : [],
      addresses,
      timeoutMs: timeoutMs ?? Math.min(...configured.map((o) => o.discovery_timeout_ms), 300),
    });
    return devices.map((d) => ({ ...d }));
  }

  formatDevice(device: Record<string, unknown>): string {
    const d = device as unknown as DiscoveredDevice;
    const name = d.userName ? ` name '${d.userName}'` : '';
    return `${d.ip}: ${d.vendor} ${d.model} serial ${d.serial}${name} mac ${d.mac} version ${d.version}`;
  }
}

/** The built-in GenICam (GigE Vision) detector plugin. */
export default definePlugin({
  name: 'genicam',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    bind(DetectorProvider).toConstantValue(new GenicamDetectorProvider());
  }),
});
