import { DEFAULT_RECORDING_QUEUE_FRAMES } from '../src/core/frame-recording.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BaseDetector, type DetectorInfo, type ParameterSpec } from '../src/core/detector.js';
import { nowNs, type Frame } from '../src/core/frame.js';
import { FrameSource } from '../src/core/frame-source.js';
import { createLogger, type Logger } from '../src/core/logger.js';
import type { RecordingContext, RecordingFormat } from '../src/core/recording.js';
import { OmeTiffFormat, OmeZarrFormat } from '../src/recording/index.js';
import { envNumber, loadLine, sleep } from './harness.js';
import { mockFrames } from './pipeline.js';
import { cpuSeconds, fmt, median, printTable } from './stats.js';

/** The large sensor of the issue: 2048x2048 uint16 (12 bit) at 30 fps, about 250 MB/s raw. */
const CAMERA = { width: 2048, height: 2048, dtype: 'uint16', bit_depth: 12, pixel_code: false };
const FPS = 30;
const FRAME_BYTES = 2048 * 2048 * 2;
/** Distinct mock frames replayed (different content, so compression sees realistic data). */
const POOL = 8;

const CASES: {
  label: string;
  format: RecordingFormat | undefined;
  params: Record<string, unknown>;
}[] = [
  { label: 'frames only (no recording)', format: undefined, params: {} },
  { label: 'ome-tiff', format: new OmeTiffFormat(), params: {} },
  { label: 'ome-zarr lz4', format: new OmeZarrFormat(), params: { compressor: 'lz4' } },
  {
    label: 'ome-zarr zstd 1',
    format: new OmeZarrFormat(),
    params: { compressor: 'zstd', level: 1 },
  },
  { label: 'ome-zarr none', format: new OmeZarrFormat(), params: { compressor: 'none' } },
];

/**
 * Replays a pool of mock-camera frames at 30 fps on a fixed grid, each as a new Frame with its own
 * number and capture time: the recording path sees a 2048x2048 camera without the mock's
 * rendering on the same event loop, which on a small machine would measure the mock instead.
 */
class ReplayDetector extends BaseDetector {
  private timer: NodeJS.Timeout | undefined;
  private n = 0;

  constructor(
    private readonly pool: Frame[],
    logger: Logger,
  ) {
    super('Bench', 'replay', logger);
  }

  get info(): DetectorInfo {
    const f = this.pool[0];
    return {
      vendor: 'bench',
      model: 'replay',
      serial: '0',
      sensorWidth: f.width,
      sensorHeight: f.height,
      dtypes: [f.dtype],
    };
  }

  protected async startAcquisition(): Promise<void> {
    const start = performance.now();
    const tick = (): void => {
      const f = this.pool[this.n % this.pool.length];
      this.emitFrame({
        ...f,
        frameNumber: this.n,
        timestamp: nowNs(),
        metadata: { exposure_ms: 10 },
      });
      this.n++;
      // On a grid: a late tick does not push the later ones back.
      const due = start + (this.n * 1000) / FPS;
      this.timer = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    this.timer = setTimeout(tick, 0);
  }

  protected async stopAcquisition(): Promise<void> {
    clearTimeout(this.timer);
  }

  getParameterSpecs(): ParameterSpec[] {
    return [];
  }

  getParameters(): Record<string, never> {
    return {};
  }

  protected async applyParameters(): Promise<void> {}
}

interface Result {
  sourceFps: number;
  writtenFps: number;
  dropped: number;
  rawMBs: number;
  diskMBs: number;
  cpuPercent: number;
  loopP99Ms: number;
  stopMs: number;
}

/** One recording of `seconds` of replayed frames into `dir`. */
async function measure(
  c: (typeof CASES)[number],
  pool: Frame[],
  dir: string,
  seconds: number,
): Promise<Result> {
  const logger = createLogger('silent');
  const detector = new ReplayDetector(pool, logger);
  const source = new FrameSource(detector, logger, { graceMs: 0 });
  const file = path.join(dir, `bench${c.format?.extension ?? ''}`);
  const context: RecordingContext = {
    path: file,
    detectorName: 'Bench',
    pixelSizeUm: 6.5,
    params: c.params,
    logger,
    queueFrames: DEFAULT_RECORDING_QUEUE_FRAMES,
    subscribeFrames: (capacity) => source.subscribe(capacity),
  };
  // Without a format, a reader that takes every frame and does nothing: the baseline.
  let drain: { unsubscribe(): void } | undefined;
  let drained = 0;
  const sink = c.format ? await c.format.start(context) : undefined;
  if (!sink) {
    const sub = await source.subscribe(16);
    drain = sub;
    void (async () => {
      while (await sub.queue.next()) drained++;
    })();
  }
  const loop = monitorEventLoopDelay({ resolution: 10 });
  const received0 = source.framesReceived;
  const cpu0 = await cpuSeconds(process.pid);
  const t0 = performance.now();
  loop.enable();
  await sleep(seconds * 1000);
  loop.disable();
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = (await cpuSeconds(process.pid)) - cpu0;
  const stats = sink?.stats;
  const written = stats?.framesWritten ?? drained;
  const received = source.framesReceived - received0;
  const t1 = performance.now();
  await sink?.stop();
  await sink?.ended;
  drain?.unsubscribe();
  const stopMs = performance.now() - t1;
  await detector.close();
  await rm(file, { recursive: true, force: true });
  return {
    sourceFps: received / elapsed,
    writtenFps: written / elapsed,
    dropped: stats?.framesDropped ?? 0,
    rawMBs: (written * FRAME_BYTES) / elapsed / 1e6,
    diskMBs: (stats?.bytesWritten ?? 0) / elapsed / 1e6,
    cpuPercent: (cpu / elapsed) * 100,
    loopP99Ms: loop.percentile(99) / 1e6,
    stopMs,
  };
}

/**
 * Sustained raw recording of the large sensor (mock frames replayed through a FrameSource) to
 * OME-TIFF and OME-Zarr on this machine's disk (`BENCH_RECORDING_DIR`, default the temp folder)
 * for `BENCH_RECORDING_SECONDS` (default 10): written fps, drops, MB/s, CPU of this process.
 */
export async function benchRecording(runs: number): Promise<void> {
  const seconds = envNumber('BENCH_RECORDING_SECONDS', 10);
  const base = process.env.BENCH_RECORDING_DIR ?? tmpdir();
  const dir = await mkdtemp(path.join(base, 'liveview-bench-rec-'));
  const before = loadLine('at start');
  const rows: string[][] = [];
  const pool = await mockFrames(CAMERA, POOL);
  try {
    for (const c of CASES) {
      const results: Result[] = [];
      for (let i = 0; i < runs; i++) results.push(await measure(c, pool, dir, seconds));
      const m = (pick: (r: Result) => number): number => median(results.map(pick));
      rows.push([
        c.label,
        fmt(m((r) => r.sourceFps)),
        fmt(m((r) => r.writtenFps)),
        fmt(
          m((r) => r.dropped),
          0,
        ),
        fmt(
          m((r) => r.rawMBs),
          0,
        ),
        c.format
          ? fmt(
              m((r) => r.diskMBs),
              0,
            )
          : '-',
        fmt(
          m((r) => r.cpuPercent),
          0,
        ),
        fmt(m((r) => r.loopP99Ms)),
        c.format
          ? fmt(
              m((r) => r.stopMs),
              0,
            )
          : '-',
      ]);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  printTable(
    `Recording: ${POOL} mock 2048x2048 uint16 (12 bit) frames replayed at ${FPS} fps ` +
      `(${fmt((FPS * FRAME_BYTES) / 1e6, 0)} MB/s raw) through a FrameSource, ${seconds} s per ` +
      `run, median of ${runs} runs; CPU of this process (event loop and libuv threads) from /proc`,
    [
      'case',
      'source fps',
      'written fps',
      'dropped',
      'raw MB/s',
      'disk MB/s',
      'CPU %',
      'event loop p99 ms',
      'stop ms',
    ],
    rows,
  );
  console.log(
    `\n${before}; ${loadLine('at end')}. Disk MB/s is what reached the file (compressed for ` +
      'zarr); the page cache absorbs short runs, so a long recording is bound by the disk itself.',
  );
}
