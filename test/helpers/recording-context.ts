import { DEFAULT_RECORDING_QUEUE_FRAMES } from '../../src/core/frame-recording.js';
import type { Frame } from '../../src/core/frame.js';
import type { FrameSubscription } from '../../src/core/frame-source.js';
import { FrameSource } from '../../src/core/frame-source.js';
import { LatestQueue } from '../../src/core/latest-queue.js';
import { createLogger } from '../../src/core/logger.js';
import type { RecordingContext } from '../../src/core/recording.js';
import { MockDetectorProvider } from '../../src/plugins/mock/index.js';

/** A recording context whose frames the test pushes by hand. */
export function manualContext(
  path: string,
  params: Record<string, unknown> = {},
): { context: RecordingContext; push(frame: Frame): void } {
  let queue: LatestQueue<Frame> | undefined;
  const context: RecordingContext = {
    path,
    detectorName: 'Test',
    params,
    logger: createLogger('silent'),
    queueFrames: DEFAULT_RECORDING_QUEUE_FRAMES,
    subscribeFrames: async (capacity: number): Promise<FrameSubscription> => {
      const q = new LatestQueue<Frame>(capacity);
      queue = q;
      return { queue: q, unsubscribe: () => q.close() };
    },
  };
  return {
    context,
    push: (frame) => {
      if (!queue) throw new Error('nothing subscribed yet');
      queue.push(frame);
    },
  };
}

/** A mock camera behind a real FrameSource, and a recording context over it. */
export function mockCameraContext(
  path: string,
  options: Record<string, unknown>,
  extra: { params?: Record<string, unknown>; pixelSizeUm?: number } = {},
): { context: RecordingContext; close(): Promise<void> } {
  const provider = new MockDetectorProvider();
  const logger = createLogger('silent');
  const detector = provider.create('Mock', provider.parseOptions(options, 'test'), {
    logger,
    configDir: process.cwd(),
  });
  const source = new FrameSource(detector, logger, { graceMs: 0 });
  return {
    context: {
      path,
      detectorName: 'Mock',
      pixelSizeUm: extra.pixelSizeUm,
      params: extra.params ?? {},
      logger,
      queueFrames: DEFAULT_RECORDING_QUEUE_FRAMES,
      subscribeFrames: (capacity) => source.subscribe(capacity),
    },
    close: () => detector.close(),
  };
}

/** Waits until `check` is true, polling every 20 ms; rejects after `ms`. */
export async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
