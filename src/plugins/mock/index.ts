import {
  ContainerModule,
  DetectorProvider,
  PLUGIN_API_VERSION,
  definePlugin,
  type Detector,
  type DetectorContext,
} from '../../index.js';
import { MockDetector } from './mock-detector.js';
import { parseMockOptions, type MockOptions } from './options.js';

export { MockDetector, pixelFormatOf } from './mock-detector.js';
export * from './options.js';
export { Scene, seededRandom, SENSITIVITY_PER_MS, DARK_LEVEL } from './scene.js';
export type { SceneSettings, Exposure } from './scene.js';

/** Creates `type: mock` detectors: simulated cameras that need no hardware. */
export class MockDetectorProvider implements DetectorProvider<MockOptions> {
  readonly type = 'mock';
  readonly description = 'Simulated camera: moving scene, exposure/gain, pixel code, faults';

  parseOptions(raw: unknown, path: string): MockOptions {
    return parseMockOptions(raw, path);
  }

  create(name: string, options: MockOptions, context: DetectorContext): Detector {
    return new MockDetector(name, options, context.logger);
  }
}

/** The built-in mock detector plugin. */
export default definePlugin({
  name: 'mock',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    bind(DetectorProvider).toConstantValue(new MockDetectorProvider());
  }),
});
