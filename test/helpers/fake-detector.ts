import {
  BaseDetector,
  type DetectorInfo,
  type ParameterSpec,
  type ParameterValue,
} from '../../src/core/detector.js';
import type { Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';

/** A detector driven by the test: `push()` emits a frame; counts starts and stops. */
export class FakeDetector extends BaseDetector {
  starts = 0;
  stops = 0;
  failStart: Error | undefined;
  /** When set, startAcquisition waits for it (to stop a detector in the middle of its start). */
  startGate: Promise<void> | undefined;
  private n = 0;
  private gain = 1;

  constructor(name = 'Fake') {
    super(name, 'fake', createLogger('silent'));
  }

  get info(): DetectorInfo {
    return {
      vendor: 'test',
      model: 'fake',
      serial: '0',
      sensorWidth: 4,
      sensorHeight: 2,
      dtypes: ['uint16'],
    };
  }

  protected async startAcquisition(): Promise<void> {
    this.starts++;
    await this.startGate;
    if (this.failStart) throw this.failStart;
    this.n = 0;
  }

  protected async stopAcquisition(): Promise<void> {
    this.stops++;
  }

  getParameterSpecs(): ParameterSpec[] {
    return [
      { name: 'gain', type: 'number', min: 1, max: 10, description: 'gain' },
      { name: 'model', type: 'string', readOnly: true, description: 'model' },
    ];
  }

  getParameters(): Record<string, ParameterValue> {
    return { gain: this.gain, model: 'fake' };
  }

  protected async applyParameters(values: Record<string, ParameterValue>): Promise<void> {
    if (values.gain !== undefined) this.gain = values.gain as number;
  }

  /** Emits a 4x2 uint16 frame with the next frame number. */
  push(): Frame {
    const frame: Frame = {
      data: new Uint16Array([0, 100, 200, 300, 400, 500, 600, 700]),
      width: 4,
      height: 2,
      channels: 1,
      dtype: 'uint16',
      bitDepth: 12,
      pixelFormat: 'Mono16',
      frameNumber: this.n++,
      timestamp: 0n,
      detector: this.name,
      metadata: {},
    };
    this.emitFrame(frame);
    return frame;
  }

  /** Puts the detector in the error state (a vanished device). */
  vanish(reason: string): void {
    this.setState('error', reason);
  }
}
