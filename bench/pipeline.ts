import sharp from 'sharp';
import { createLogger } from '../src/core/logger.js';
import type { Frame } from '../src/core/frame.js';
import { normalize, DEFAULT_NORMALIZE_OPTIONS } from '../src/core/normalize.js';
import { MockDetectorProvider, Scene } from '../src/plugins/mock/index.js';
import { fmt, median, printTable } from './stats.js';

/** Captures `count` frames from a mock detector with these options. */
export async function mockFrames(
  options: Record<string, unknown>,
  count: number,
): Promise<Frame[]> {
  const provider = new MockDetectorProvider();
  const detector = provider.create('Bench', provider.parseOptions(options, 'bench'), {
    logger: createLogger('silent'),
    configDir: process.cwd(),
  });
  const frames: Frame[] = [];
  await new Promise<void>((resolve) => {
    detector.on('frame', (f) => {
      if (frames.length < count) frames.push(f);
      if (frames.length === count) resolve();
    });
    void detector.start();
  });
  await detector.close();
  return frames;
}

/** Normalize + JPEG, one frame at a time (one core): frames per second and ms per stage. */
async function runPipeline(
  frames: Frame[],
  seconds: number,
): Promise<{ fps: number; normMs: number; jpegMs: number }> {
  let n = 0;
  let normTotal = 0;
  let jpegTotal = 0;
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    const frame = frames[n % frames.length];
    const a = performance.now();
    const d = normalize(frame, DEFAULT_NORMALIZE_OPTIONS);
    const b = performance.now();
    await sharp(d.data, { raw: { width: d.width, height: d.height, channels: d.channels } })
      .toColourspace('b-w')
      .jpeg({ quality: 80, optimiseCoding: false })
      .toBuffer();
    jpegTotal += performance.now() - b;
    normTotal += b - a;
    n++;
  }
  const elapsed = (performance.now() - t0) / 1000;
  return { fps: n / elapsed, normMs: normTotal / n, jpegMs: jpegTotal / n };
}

/** Median time the mock camera takes to draw one frame of this size (features pattern, noise). */
function mockFrameMs(width: number, height: number): number {
  const scene = new Scene({
    width,
    height,
    channels: 1,
    dtype: 'uint16',
    bitDepth: 12,
    pattern: 'features',
    seed: 1,
  });
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    scene.render(i / 30, { exposureMs: 10, gain: 1, noisePercent: 2 });
    times.push(performance.now() - t);
  }
  return median(times);
}

/** Benchmarks normalize + JPEG at the sizes; prints a table. */
export async function benchPipeline(runs: number, seconds: number): Promise<void> {
  sharp.concurrency(1); // one core, as the figure is meant
  const rows: string[][] = [];
  for (const [w, h] of [
    [1280, 720],
    [2048, 2048],
  ]) {
    const frames = await mockFrames(
      { width: w, height: h, dtype: 'uint16', bit_depth: 12, fps: 200 },
      8,
    );
    const results = [];
    for (let r = 0; r < runs; r++) results.push(await runPipeline(frames, seconds));
    const mockMs = mockFrameMs(w, h);
    rows.push([
      `${w}x${h} uint16`,
      fmt(median(results.map((x) => x.fps))),
      `${fmt(Math.min(...results.map((x) => x.fps)))}–${fmt(Math.max(...results.map((x) => x.fps)))}`,
      fmt(median(results.map((x) => x.normMs)), 2),
      fmt(median(results.map((x) => x.jpegMs)), 2),
      fmt(mockMs, 2),
    ]);
  }
  sharp.concurrency(0);
  printTable(
    `normalize (minmax) + JPEG q80 on one core, median of ${runs} runs of ${seconds} s`,
    ['frame', 'fps', 'range', 'normalize ms', 'JPEG ms', 'mock frame ms'],
    rows,
  );
}
