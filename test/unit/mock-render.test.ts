import { expect } from 'chai';
import type { Frame } from '../../src/core/frame.js';
import { nowNs } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import { MockDetectorProvider, Scene, type SceneSettings } from '../../src/plugins/mock/index.js';
import type { MockDetector } from '../../src/plugins/mock/index.js';
import { Scene as OldScene } from './reference/old-scene.js';

const QUIET = { exposureMs: 10, gain: 1, noisePercent: 0 };

describe('mock render (fast path)', () => {
  const cases: SceneSettings[] = [
    {
      width: 101,
      height: 51,
      channels: 1,
      dtype: 'uint16',
      bitDepth: 12,
      pattern: 'features',
      seed: 1,
    },
    {
      width: 97,
      height: 40,
      channels: 3,
      dtype: 'uint8',
      bitDepth: 8,
      pattern: 'features',
      seed: 2,
    },
    {
      width: 64,
      height: 33,
      channels: 1,
      dtype: 'uint8',
      bitDepth: 6,
      pattern: 'gradient',
      seed: 3,
    },
    {
      width: 75,
      height: 20,
      channels: 3,
      dtype: 'uint16',
      bitDepth: 16,
      pattern: 'features',
      seed: 4,
    },
    {
      width: 80,
      height: 60,
      channels: 1,
      dtype: 'float32',
      bitDepth: 16,
      pattern: 'features',
      seed: 5,
    },
  ];
  for (const settings of cases) {
    const name = `${settings.width}x${settings.height}x${settings.channels} ${settings.dtype} ${settings.pattern}`;
    it(`${name}: without noise equals the scene before issue 14, frame after frame and across exposures`, () => {
      const fresh = new Scene(settings);
      const old = new OldScene(settings);
      for (const [t, exposure] of [
        [0, QUIET],
        [0.7, QUIET],
        [1.9, { ...QUIET, exposureMs: 25 }],
        [2.5, { ...QUIET, exposureMs: 25 }],
        [3.1, { ...QUIET, gain: 30 }],
        [4, QUIET],
      ] as const) {
        const got = fresh.render(t, exposure);
        const want = old.render(t, exposure);
        if (settings.dtype === 'float32') {
          for (let i = 0; i < want.length; i++) expect(got[i]).to.be.closeTo(want[i], 0.01);
        } else {
          expect(Array.from(got)).to.deep.equal(Array.from(want));
        }
      }
    });

    it(`${name}: noise stays within the sensor model (clean image + noise, clipped) and changes each frame`, () => {
      const noisy = new Scene(settings);
      const clean = new OldScene(settings);
      const fs = 2 ** settings.bitDepth - 1;
      const sigma = 0.05 * fs;
      let previous: ArrayLike<number> | undefined;
      for (let f = 0; f < 4; f++) {
        const t = f * 0.5;
        const a = noisy.render(t, { ...QUIET, noisePercent: 5 });
        const ref = clean.render(t, QUIET);
        let sumSq = 0;
        let changed = 0;
        for (let i = 0; i < a.length; i++) {
          expect(a[i]).to.be.within(0, fs);
          const d = a[i] - ref[i];
          // A carry between packed lanes would show as an error of 256 or 65536 here.
          expect(Math.abs(d)).to.be.at.most(6 * sigma + 1);
          sumSq += d * d;
          if (previous && previous[i] !== a[i]) changed++;
        }
        expect(Math.sqrt(sumSq / a.length)).to.be.within(0.7 * sigma, 1.1 * sigma);
        if (previous) expect(changed / a.length).to.be.greaterThan(0.5);
        previous = a;
      }
    });
  }

  it('the noise pattern responds to gain like a sensor (mean and spread grow)', () => {
    const settings: SceneSettings = { ...cases[0], pattern: 'noise' };
    const scene = new Scene(settings);
    const stats = (gain: number): [number, number] => {
      const a = scene.render(0, { exposureMs: 2, gain, noisePercent: 0 });
      let sum = 0;
      let sumSq = 0;
      for (const v of a) {
        sum += v;
        sumSq += v * v;
      }
      const mean = sum / a.length;
      return [mean, Math.sqrt(sumSq / a.length - mean * mean)];
    };
    const [m1, s1] = stats(1);
    const [m2, s2] = stats(2);
    expect(m2 - 0.01 * 4095).to.be.closeTo(2 * (m1 - 0.01 * 4095), 0.1 * m1);
    expect(s2).to.be.closeTo(2 * s1, 0.2 * s1);
  });

  it('every call returns a new array: a frame a consumer keeps is never overwritten', () => {
    const scene = new Scene(cases[0]);
    const a = scene.render(0, { ...QUIET, noisePercent: 2 });
    const copy = Array.from(a);
    const b = scene.render(0.1, { ...QUIET, noisePercent: 2 });
    expect(b.buffer).not.to.equal(a.buffer);
    expect(Array.from(a)).to.deep.equal(copy);
  });
});

describe('mock detector timing', () => {
  const detectors: MockDetector[] = [];
  const originalRender = Scene.prototype.render;
  afterEach(async () => {
    Scene.prototype.render = originalRender;
    for (const d of detectors.splice(0)) await d.close();
  });
  const make = (raw: Record<string, unknown>): MockDetector => {
    const provider = new MockDetectorProvider();
    const d = provider.create('Mock', provider.parseOptions(raw, 'options'), {
      logger: createLogger('silent'),
      configDir: '.',
    }) as MockDetector;
    detectors.push(d);
    return d;
  };
  const busy = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };

  it('stamps the capture time when the frame is complete, after rendering', async () => {
    const renderEnds: bigint[] = [];
    Scene.prototype.render = function (this: Scene, ...args) {
      busy(15);
      const data = originalRender.apply(this, args);
      renderEnds.push(nowNs());
      return data;
    };
    const d = make({ width: 128, height: 96, fps: 20 });
    const frames: Frame[] = [];
    d.on('frame', (f) => frames.push(f));
    await d.start();
    while (frames.length < 3) await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 3; i++) expect(frames[i].timestamp >= renderEnds[i]).to.equal(true);
  });

  it('drops the slots a slow frame missed instead of catching up with a burst', async () => {
    let calls = 0;
    Scene.prototype.render = function (this: Scene, ...args) {
      // The third frame takes 25 ms of a 20 ms period: the next slot is gone, the one after is 15 ms away.
      if (++calls === 3) busy(25);
      return originalRender.apply(this, args);
    };
    const d = make({ width: 128, height: 96, fps: 50 });
    const times: number[] = [];
    d.on('frame', () => times.push(performance.now()));
    await d.start();
    while (times.length < 8) await new Promise((r) => setTimeout(r, 5));
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    // A catch-up would deliver the missed frame at once, a gap of well under a millisecond.
    expect(Math.min(...gaps)).to.be.greaterThan(5);
  });
});
