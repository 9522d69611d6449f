import { expect } from 'chai';
import { ConfigError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import { normalize } from '../../src/core/normalize.js';
import { decodePixelCode } from '../../src/core/pixel-code.js';
import {
  DARK_LEVEL,
  MockDetector,
  MockDetectorProvider,
  SENSITIVITY_PER_MS,
  Scene,
  parseMockOptions,
  type SceneSettings,
} from '../../src/plugins/mock/index.js';

const GRADIENT: SceneSettings = {
  width: 101,
  height: 51,
  channels: 1,
  dtype: 'uint16',
  bitDepth: 12,
  pattern: 'gradient',
  seed: 1,
};
const QUIET = { exposureMs: 10, gain: 1, noisePercent: 0 };

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('mock detector', () => {
  describe('scene', () => {
    it('draws the gradient with the documented sensor model (dark level + flux x exposure x gain)', () => {
      const data = new Scene(GRADIENT).render(0, QUIET);
      const fs = 4095;
      // Top-left flux is 0.1, bottom-right 0.5 (see fillGradient).
      const expected = (flux: number) =>
        Math.round(DARK_LEVEL * fs + flux * 10 * SENSITIVITY_PER_MS * fs);
      expect(data[0]).to.equal(expected(0.1));
      expect(data[data.length - 1]).to.equal(expected(0.5));
      expect(data).to.be.instanceOf(Uint16Array);
    });

    it('brightens linearly with exposure and gain, and saturates at full scale', () => {
      const scene = new Scene(GRADIENT);
      const base = scene.render(0, QUIET);
      const double = scene.render(0, { ...QUIET, exposureMs: 20 });
      const gained = scene.render(0, { ...QUIET, gain: 2 });
      const dark = DARK_LEVEL * 4095;
      for (const i of [0, 500, 2000]) {
        expect(double[i] - dark).to.be.closeTo(2 * (base[i] - dark), 2);
        expect(gained[i]).to.equal(double[i]);
      }
      const saturated = scene.render(0, { ...QUIET, exposureMs: 1000 });
      expect(Math.max(...saturated)).to.equal(4095);
      expect(Math.min(...saturated)).to.equal(4095);
    });

    it('noise has the configured spread and changes from frame to frame', () => {
      const settings = { ...GRADIENT, width: 400, height: 300 };
      const clean = new Scene(settings).render(0, QUIET);
      const scene = new Scene(settings);
      const a = scene.render(0, { ...QUIET, noisePercent: 2 });
      const b = scene.render(0, { ...QUIET, noisePercent: 2 });
      let sum = 0;
      let sumSq = 0;
      let differ = 0;
      for (let i = 0; i < a.length; i++) {
        const d = a[i] - clean[i];
        sum += d;
        sumSq += d * d;
        if (a[i] !== b[i]) differ++;
      }
      const mean = sum / a.length;
      const sd = Math.sqrt(sumSq / a.length - mean * mean);
      expect(mean).to.be.closeTo(0, 1);
      expect(sd).to.be.closeTo(0.02 * 4095, 0.1 * 0.02 * 4095);
      expect(differ / a.length).to.be.greaterThan(0.9);
    });

    it('is reproducible for a seed', () => {
      const settings: SceneSettings = { ...GRADIENT, pattern: 'features' };
      const a = new Scene(settings).render(1.5, { ...QUIET, noisePercent: 3 });
      const b = new Scene(settings).render(1.5, { ...QUIET, noisePercent: 3 });
      const c = new Scene({ ...settings, seed: 2 }).render(1.5, { ...QUIET, noisePercent: 3 });
      expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).to.equal(true);
      expect(Buffer.from(a.buffer).equals(Buffer.from(c.buffer))).to.equal(false);
    });

    it('features move: the image at 1 s differs from the image at 0 s beyond noise', () => {
      const scene = new Scene({ ...GRADIENT, width: 320, height: 240, pattern: 'features' });
      const a = scene.render(0, QUIET);
      const b = scene.render(1, QUIET);
      let moved = 0;
      for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 100) moved++;
      expect(moved).to.be.greaterThan(200);
    });

    it('delivers uint8, float32 and RGB', () => {
      const u8 = new Scene({ ...GRADIENT, dtype: 'uint8', bitDepth: 8 }).render(0, QUIET);
      expect(u8).to.be.instanceOf(Uint8Array);
      expect(u8[0]).to.equal(Math.round(DARK_LEVEL * 255 + 0.1 * 10 * SENSITIVITY_PER_MS * 255));
      const f32 = new Scene({ ...GRADIENT, dtype: 'float32', bitDepth: 16 }).render(0, QUIET);
      expect(f32).to.be.instanceOf(Float32Array);
      expect(f32[0]).to.be.closeTo(
        DARK_LEVEL * 65535 + 0.1 * 10 * SENSITIVITY_PER_MS * 65535,
        0.01,
      );
      const rgb = new Scene({ ...GRADIENT, channels: 3 }).render(0, QUIET);
      expect(rgb).to.have.length(101 * 51 * 3);
      // Red grows to the right, blue downwards: the right end of the first row is redder than blue.
      const last = (101 - 1) * 3;
      expect(rgb[last]).to.be.greaterThan(rgb[last + 2]);
    });
  });

  describe('options', () => {
    it('fills the documented defaults', () => {
      const o = parseMockOptions(undefined, 'detectors.Camera.options');
      expect({ ...o }).to.deep.equal({
        width: 1280,
        height: 720,
        dtype: 'uint16',
        bit_depth: 12,
        channels: 1,
        fps: 30,
        pattern: 'features',
        noise: 2,
        exposure_ms: 10,
        gain: 1,
        pixel_code: true,
        seed: 1,
        fault: 'none',
        fault_after_frames: 0,
      });
    });

    const cases: [string, Record<string, unknown>, string][] = [
      ['width too large', { width: 20000 }, 'width: must be an integer between 1 and 16384'],
      ['bad dtype', { dtype: 'int8' }, 'dtype: must be one of: uint8, uint16, float32'],
      ['bad channels', { channels: 2 }, 'channels: must be one of: 1, 3'],
      [
        'bit depth beyond the dtype',
        { dtype: 'uint8', bit_depth: 12 },
        'bit_depth: must be an integer between 1 and 8 for dtype uint8',
      ],
      ['fps out of range', { fps: 0 }, 'fps: must be a number between 0.1 and 1000'],
      ['bad pattern', { pattern: 'stars' }, 'pattern: must be one of: features, gradient, noise'],
      ['bad fault', { fault: 'boom' }, 'fault: must be one of: none, stall, throw, fail_start'],
      [
        'too narrow for the pixel code',
        { width: 32 },
        'width: must be at least 64 with pixel_code: true (or set pixel_code: false)',
      ],
      [
        'too low for the pixel code',
        { width: 400, height: 20 },
        'height: must be at least 30 for width 400 with pixel_code: true (or set pixel_code: false)',
      ],
      ['unknown key', { colour: true }, 'colour: unknown key (known keys: width, height, dtype, '],
    ];
    for (const [name, raw, message] of cases) {
      it(`rejects ${name} with the key path`, () => {
        const problems = problemsOf(() => parseMockOptions(raw, 'detectors.Cam.options'));
        expect(problems).to.have.length(1);
        expect(problems[0]).to.include(`detectors.Cam.options.${message}`);
      });
    }

    it('accepts a tiny image without the pixel code', () => {
      const o = parseMockOptions({ width: 8, height: 4, pixel_code: false }, 'x');
      expect(o.width).to.equal(8);
    });
  });

  describe('detector', () => {
    const detectors: MockDetector[] = [];
    const make = (raw: Record<string, unknown>, name = 'Mock'): MockDetector => {
      const provider = new MockDetectorProvider();
      const options = provider.parseOptions(raw, 'options');
      const d = provider.create(name, options, {
        logger: createLogger('silent'),
        configDir: '.',
      }) as MockDetector;
      detectors.push(d);
      return d;
    };
    const collect = (d: MockDetector): Frame[] => {
      const frames: Frame[] = [];
      d.on('frame', (f) => frames.push(f));
      return frames;
    };
    const until = async (check: () => boolean, ms = 3000): Promise<void> => {
      const end = Date.now() + ms;
      while (!check()) {
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    afterEach(async () => {
      for (const d of detectors.splice(0)) await d.close();
    });

    it('delivers frames at the configured rate with increasing numbers and a readable pixel code', async () => {
      const d = make({ width: 320, height: 240, fps: 50 });
      const frames = collect(d);
      await d.start();
      const t0 = Date.now();
      await until(() => frames.length >= 25);
      const elapsed = Date.now() - t0;
      expect(elapsed).to.be.within(400, 1500);
      expect(frames.map((f) => f.frameNumber)).to.deep.equal(
        Array.from({ length: frames.length }, (_, i) => i),
      );
      const f = frames[10];
      expect(f).to.include({ width: 320, height: 240, channels: 1, dtype: 'uint16' });
      expect(f.pixelFormat).to.equal('Mono12');
      expect(d.getLatestFrame()).to.equal(frames[frames.length - 1]);
      const display = normalize(f, { mode: 'minmax', lowPercent: 0.1, highPercent: 99.9 });
      const code = decodePixelCode(display.data, display.width, display.height, 1);
      expect(code?.frameNumber).to.equal(10);
      expect(code?.timestampMs).to.equal(Number(f.timestamp / 1_000_000n));
    });

    it('exposure and gain set at run time change the next frames', async () => {
      const d = make({ width: 128, height: 96, pattern: 'gradient', noise: 0, pixel_code: false });
      const frames = collect(d);
      await d.start();
      await until(() => frames.length >= 1);
      const before = frames[frames.length - 1].data[0];
      await d.setParameters({ exposure_ms: 20 });
      const n = frames.length;
      await until(() => frames.length >= n + 2);
      const after = frames[frames.length - 1].data[0];
      const dark = Math.round(DARK_LEVEL * 4095);
      expect(after - dark).to.be.closeTo(2 * (before - dark), 1);
      expect(frames[frames.length - 1].metadata).to.include({ exposure_ms: 20 });
    });

    it('rejects out-of-range and read-only parameters with clear messages', async () => {
      const d = make({});
      await expectRejected(
        d.setParameters({ gain: 1000 }),
        "parameter 'gain' must be a number between 0.1 and 64",
      );
      await expectRejected(d.setParameters({ dtype: 'uint8' }), "parameter 'dtype' is read-only");
      await expectRejected(
        d.setParameters({ width: 100, height: 2 }),
        'parameter height: must be at least 7 for width 100',
      );
      expect(d.getParameters()).to.include({ gain: 1, width: 1280, height: 720 });
    });

    it('a new width applies to the next frames', async () => {
      const d = make({ width: 320, height: 240, fps: 100 });
      const frames = collect(d);
      await d.start();
      await until(() => frames.length >= 1);
      await d.setParameters({ width: 200, height: 100 });
      const n = frames.length;
      await until(() => frames.length >= n + 1);
      expect(frames[frames.length - 1]).to.include({ width: 200, height: 100 });
      expect(frames[frames.length - 1].data).to.have.length(200 * 100);
    });

    it("fault 'stall' stops delivering frames but stays running", async () => {
      const d = make({ width: 128, height: 96, fps: 100, fault: 'stall', fault_after_frames: 5 });
      const frames = collect(d);
      await d.start();
      await new Promise((r) => setTimeout(r, 300));
      expect(frames).to.have.length(5);
      expect(d.state).to.equal('running');
      await d.setParameters({ fault: 'none' });
      await until(() => frames.length >= 7);
    });

    it("fault 'throw' puts the detector in error with a message, and clearing it recovers", async () => {
      const d = make({ width: 128, height: 96, fps: 100, fault: 'throw', fault_after_frames: 3 });
      const frames = collect(d);
      const states: string[] = [];
      d.on('state', (s) => states.push(s));
      await d.start();
      await until(() => d.state === 'error');
      expect(frames).to.have.length(3);
      expect(d.error).to.match(/simulated capture error/);
      await d.setParameters({ fault: 'none' });
      expect(d.state).to.equal('running');
      await until(() => frames.length >= 5);
      expect(states).to.deep.equal(['starting', 'running', 'error', 'running']);
    });

    it("fault 'fail_start' makes start() reject with a clear message", async () => {
      const d = make({ fault: 'fail_start' });
      await expectRejected(d.start(), "mock camera 'Mock' failed to start");
      expect(d.state).to.equal('error');
    });

    it('stops delivering after stop()', async () => {
      const d = make({ width: 128, height: 96, fps: 100 });
      const frames = collect(d);
      await d.start();
      await until(() => frames.length >= 2);
      await d.stop();
      const n = frames.length;
      await new Promise((r) => setTimeout(r, 100));
      expect(frames).to.have.length(n);
      expect(d.state).to.equal('idle');
    });
  });
});

async function expectRejected(p: Promise<unknown>, message: string): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).message).to.include(message);
    return;
  }
  throw new Error(`expected a rejection with: ${message}`);
}
