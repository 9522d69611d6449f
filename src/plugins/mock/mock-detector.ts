import {
  BadRequestError,
  BaseDetector,
  drawPixelCode,
  errorMessage,
  nowNs,
  type DetectorInfo,
  type Frame,
  type Logger,
  type ParameterSpec,
  type ParameterValue,
} from '../../index.js';
import {
  EXPOSURE_RANGE,
  FPS_RANGE,
  GAIN_RANGE,
  MOCK_FAULTS,
  MOCK_PATTERNS,
  pixelCodeProblems,
  type MockOptions,
} from './options.js';
import { Scene } from './scene.js';

/** Parameters that change the scene's tables (the others are read per frame). */
const SCENE_KEYS = new Set(['width', 'height', 'pattern']);

/**
 * A simulated camera: draws a realistic moving scene at a fixed rate, responds to exposure and
 * gain like a sensor, stamps each frame with the pixel code, and can simulate faults.
 */
export class MockDetector extends BaseDetector {
  private readonly options: MockOptions;
  private scene: Scene | undefined;
  private timer: NodeJS.Timeout | undefined;
  private acquiring = false;
  private startedAtMs = 0;
  private frameNumber = 0;
  private framesBeforeFault = 0;
  private nextDueMs = 0;

  constructor(name: string, options: MockOptions, logger: Logger) {
    super(name, 'mock', logger);
    this.options = { ...options };
  }

  get info(): DetectorInfo {
    const o = this.options;
    return {
      vendor: 'liveview',
      model: 'Mock camera',
      serial: `MOCK-${this.name}`,
      sensorWidth: o.width,
      sensorHeight: o.height,
      dtypes: [o.dtype],
      bitDepth: o.bit_depth,
      channels: o.channels,
    };
  }

  /** Frame period in ms: the frame rate's, or longer when the exposure does not fit in it. */
  get framePeriodMs(): number {
    return Math.max(1000 / this.options.fps, this.options.exposure_ms);
  }

  protected async startAcquisition(): Promise<void> {
    if (this.options.fault === 'fail_start') {
      throw new Error(
        `mock camera '${this.name}' failed to start (simulated fault 'fail_start'; set fault: none)`,
      );
    }
    this.frameNumber = 0;
    this.framesBeforeFault = this.options.fault_after_frames;
    this.startedAtMs = performance.now();
    this.acquiring = true;
    this.schedule(performance.now());
  }

  protected async stopAcquisition(): Promise<void> {
    this.acquiring = false;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  getParameterSpecs(): ParameterSpec[] {
    const o = this.options;
    const minWidth = o.pixel_code ? 64 : 1;
    return [
      {
        name: 'exposure_ms',
        type: 'number',
        min: EXPOSURE_RANGE[0],
        max: EXPOSURE_RANGE[1],
        unit: 'ms',
        description: 'exposure time; brightness grows with it until the pixels saturate',
      },
      {
        name: 'gain',
        type: 'number',
        min: GAIN_RANGE[0],
        max: GAIN_RANGE[1],
        description: 'analog gain; multiplies signal and noise',
      },
      {
        name: 'fps',
        type: 'number',
        min: FPS_RANGE[0],
        max: FPS_RANGE[1],
        unit: 'frames/s',
        description: 'frame rate; a longer exposure lowers it',
      },
      {
        name: 'pattern',
        type: 'enum',
        values: [...MOCK_PATTERNS],
        description: 'what the image shows',
      },
      {
        name: 'noise',
        type: 'number',
        min: 0,
        max: 100,
        unit: '%',
        description: 'read noise in percent of full scale at gain 1',
      },
      {
        name: 'width',
        type: 'integer',
        min: minWidth,
        max: 16384,
        unit: 'px',
        description: 'image width (region of interest)',
      },
      {
        name: 'height',
        type: 'integer',
        min: 1,
        max: 16384,
        unit: 'px',
        description: 'image height (region of interest)',
      },
      { name: 'pixel_code', type: 'boolean', description: 'stamp frame number and capture time' },
      {
        name: 'fault',
        type: 'enum',
        values: [...MOCK_FAULTS],
        description: 'simulated fault, for reliability tests',
      },
      {
        name: 'fault_after_frames',
        type: 'integer',
        min: 0,
        max: 1e9,
        description: 'frames delivered before the fault strikes',
      },
      { name: 'dtype', type: 'string', readOnly: true, description: 'element type' },
      { name: 'bit_depth', type: 'integer', readOnly: true, description: 'significant bits' },
      { name: 'channels', type: 'integer', readOnly: true, description: '1 = gray, 3 = RGB' },
    ];
  }

  getParameters(): Record<string, ParameterValue> {
    const o = this.options;
    return {
      exposure_ms: o.exposure_ms,
      gain: o.gain,
      fps: o.fps,
      pattern: o.pattern,
      noise: o.noise,
      width: o.width,
      height: o.height,
      pixel_code: o.pixel_code,
      fault: o.fault,
      fault_after_frames: o.fault_after_frames,
      dtype: o.dtype,
      bit_depth: o.bit_depth,
      channels: o.channels,
    };
  }

  protected async applyParameters(values: Record<string, ParameterValue>): Promise<void> {
    const next: MockOptions = { ...this.options, ...values };
    if (next.pixel_code) {
      const problem = pixelCodeProblems(next.width, next.height, '')[0];
      if (problem) throw new BadRequestError(`parameter ${problem}`);
    }
    Object.assign(this.options, values);
    if (Object.keys(values).some((k) => SCENE_KEYS.has(k))) this.scene = undefined;
    if ('fault' in values || 'fault_after_frames' in values) this.rearmFault();
    // A new frame rate applies from the next frame, not after the old period.
    if ('fps' in values || 'exposure_ms' in values) this.reschedule();
  }

  private rearmFault(): void {
    this.framesBeforeFault = this.options.fault_after_frames;
    // Setting the fault again is how a test brings a failed camera back, like replugging it.
    if (this.acquiring && this.state === 'error') {
      this.setState('running');
      this.reschedule();
    }
  }

  private reschedule(): void {
    if (!this.acquiring || this.state === 'error') return;
    clearTimeout(this.timer);
    this.schedule(performance.now());
  }

  private schedule(dueMs: number): void {
    this.nextDueMs = dueMs;
    this.timer = setTimeout(() => this.tick(), Math.max(0, dueMs - performance.now()));
  }

  private tick(): void {
    if (!this.acquiring) return;
    try {
      this.captureOne();
    } catch (err) {
      // A camera that fails stops delivering; its state tells the streams why.
      this.setState('error', errorMessage(err));
      return;
    }
    // Frames are due on a fixed grid, so timer lateness never accumulates into drift. A slot that
    // already passed (a slow frame, a busy event loop) is dropped, not caught up with a burst.
    const period = this.framePeriodMs;
    const now = performance.now();
    let due = this.nextDueMs + period;
    if (due <= now) due += Math.ceil((now - due) / period) * period;
    if (due <= now) due += period;
    this.schedule(due);
  }

  private captureOne(): void {
    if (this.options.fault !== 'none' && this.framesBeforeFault <= 0) {
      if (this.options.fault === 'throw') {
        throw new Error(
          `mock camera '${this.name}' stopped with a simulated capture error (fault 'throw'; set fault: none to recover)`,
        );
      }
      // 'stall': stays running but delivers nothing, like a camera waiting for a trigger that never comes.
      return;
    }
    this.framesBeforeFault--;
    this.emitFrame(this.makeFrame());
  }

  private makeFrame(): Frame {
    const o = this.options;
    this.scene ??= new Scene({
      width: o.width,
      height: o.height,
      channels: o.channels,
      dtype: o.dtype,
      bitDepth: o.bit_depth,
      pattern: o.pattern,
      seed: o.seed,
    });
    const seconds = (performance.now() - this.startedAtMs) / 1000;
    const data = this.scene.render(seconds, {
      exposureMs: o.exposure_ms,
      gain: o.gain,
      noisePercent: o.noise,
    });
    // Captured when the frame is complete, as a camera's readout ends: a viewer's latency measured
    // from it must not include the time the scene took to draw.
    const timestamp = nowNs();
    const frameNumber = this.frameNumber++;
    if (o.pixel_code) {
      const white = 2 ** o.bit_depth - 1;
      const ms = Number(timestamp / 1_000_000n);
      drawPixelCode(data, o.width, o.height, o.channels, frameNumber, ms, 0, white);
    }
    return {
      data,
      width: o.width,
      height: o.height,
      channels: o.channels,
      dtype: o.dtype,
      bitDepth: o.bit_depth,
      pixelFormat: pixelFormatOf(o),
      frameNumber,
      timestamp,
      detector: this.name,
      metadata: { exposure_ms: o.exposure_ms, gain: o.gain, pattern: o.pattern },
    };
  }
}

/** GenICam-style pixel format name for the options, e.g. Mono12 or RGB8. */
export function pixelFormatOf(o: Pick<MockOptions, 'channels' | 'dtype' | 'bit_depth'>): string {
  const prefix = o.channels === 1 ? 'Mono' : 'RGB';
  if (o.dtype === 'float32') return `${prefix}32f`;
  return o.channels === 1 ? `${prefix}${o.bit_depth}` : `${prefix}${o.dtype === 'uint8' ? 8 : 16}`;
}
