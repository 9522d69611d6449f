import {
  ContainerModule,
  DetectorProvider,
  PLUGIN_API_VERSION,
  definePlugin,
  type Detector,
  type DetectorContext,
} from '../../index.js';
import { parseV4l2Options, type V4l2Options } from './options.js';
import { V4l2Detector } from './v4l2-detector.js';
import { listDevices, type DeviceListing } from './devices.js';

export { V4l2Detector } from './v4l2-detector.js';
export { V4l2Device } from './device.js';
export { listDevices } from './devices.js';
export * from './options.js';

/** Creates `type: v4l2` detectors: Linux video devices (USB webcams, Pi cameras, capture cards). */
export class V4l2DetectorProvider implements DetectorProvider<V4l2Options> {
  readonly type = 'v4l2';
  readonly description = 'Linux video device (V4L2): USB/UVC webcams, Raspberry Pi cameras';

  parseOptions(raw: unknown, path: string): V4l2Options {
    return parseV4l2Options(raw, path);
  }

  create(name: string, options: V4l2Options, context: DetectorContext): Detector {
    return new V4l2Detector(name, options, context.logger);
  }

  /** Every /dev/video* device with its formats, whatever the configured detectors name. */
  async discover(): Promise<Record<string, unknown>[]> {
    return listDevices().map((d) => ({ ...d }));
  }

  formatDevice(device: Record<string, unknown>): string {
    const d = device as unknown as DeviceListing;
    if (d.error || !d.capabilities) return `${d.path}: ${d.error ?? 'unreadable'}`;
    const c = d.capabilities;
    const lines = [`${d.path}: ${c.card} (${c.driver}, ${c.busInfo})`];
    for (const f of d.formats ?? []) {
      const sizes = f.sizes
        .map((s) => `${s.width}x${s.height}${s.fps.length > 0 ? `@${s.fps.join('/')}` : ''}`)
        .join(' ');
      lines.push(`  ${f.fourcc.trim().padEnd(4)} ${f.description}: ${sizes}`);
    }
    return lines.join('\n');
  }
}

/** The built-in V4L2 detector plugin. */
export default definePlugin({
  name: 'v4l2',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    bind(DetectorProvider).toConstantValue(new V4l2DetectorProvider());
  }),
});
