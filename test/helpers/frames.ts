import type { Detector } from '../../src/core/detector.js';
import type { Frame } from '../../src/core/frame.js';

/** The next `count` frames a detector emits; rejects naming how many came if they take too long. */
export async function captureFrames(
  d: Detector,
  count: number,
  timeoutMs: number,
): Promise<Frame[]> {
  const frames: Frame[] = [];
  await new Promise<void>((resolve, reject) => {
    const onFrame = (f: Frame) => {
      frames.push(f);
      if (frames.length === count) {
        clearTimeout(timer);
        d.off('frame', onFrame);
        resolve();
      }
    };
    const timer = setTimeout(() => {
      d.off('frame', onFrame);
      reject(new Error(`only ${frames.length} of ${count} frames`));
    }, timeoutMs);
    d.on('frame', onFrame);
  });
  return frames;
}
