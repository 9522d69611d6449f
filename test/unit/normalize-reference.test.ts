import { expect } from 'chai';
import type { Frame, PixelData } from '../../src/core/frame.js';
import {
  normalize,
  PERCENTILE_EXACT_LIMIT,
  percentileStep,
  type NormalizeOptions,
} from '../../src/core/normalize.js';
import { mapLinear as oldMapLinear, mapShift as oldMapShift } from './reference/old-lut.js';
import { windowOf as oldWindowOf } from './reference/old-window-stats.js';

/** normalize() as it was before issue 14, from the verbatim copies of its two stages. */
function oldNormalize(frame: Frame, o: NormalizeOptions): { data: Uint8Array; window: object } {
  const n = frame.width * frame.height * frame.channels;
  const window = oldWindowOf(frame, n, o);
  const data = new Uint8Array(n);
  if (o.mode === 'shift') oldMapShift(frame, data, n);
  else oldMapLinear(frame, data, n, window.min, window.max);
  return { data, window };
}

function frameOf(data: PixelData, width: number, height: number, channels: 1 | 3): Frame {
  const dtype =
    data instanceof Uint8Array
      ? 'uint8'
      : data instanceof Uint16Array
        ? 'uint16'
        : data instanceof Uint32Array
          ? 'uint32'
          : 'float32';
  return {
    data,
    width,
    height,
    channels,
    dtype,
    bitDepth: dtype === 'uint8' ? 8 : 12,
    pixelFormat: 'test',
    frameNumber: 0,
    timestamp: 0n,
    detector: 'test',
    metadata: {},
  };
}

/** Sensor-like values: a ramp, Gaussian-ish noise and a few hot and dead pixels. */
function sensor(length: number, max: number, seed: number): number[] {
  let s = seed >>> 0;
  const rnd = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 4294967296;
  };
  const values: number[] = [];
  for (let i = 0; i < length; i++) {
    const noise = (rnd() + rnd() + rnd() - 1.5) * 0.1 * max;
    let v = Math.round(0.2 * max + (0.5 * max * (i % 997)) / 997 + noise);
    if (rnd() < 0.0005) v = rnd() < 0.5 ? 0 : max;
    values.push(Math.max(0, Math.min(max, v)));
  }
  return values;
}

const MODES: NormalizeOptions[] = [
  { mode: 'minmax', lowPercent: 0.1, highPercent: 99.9 },
  { mode: 'percentile', lowPercent: 0.1, highPercent: 99.9 },
  { mode: 'percentile', lowPercent: 2, highPercent: 98 },
  { mode: 'fixed', min: 100, max: 3000, lowPercent: 0.1, highPercent: 99.9 },
  { mode: 'fixed', min: 500, max: 500, lowPercent: 0.1, highPercent: 99.9 },
  { mode: 'shift', lowPercent: 0.1, highPercent: 99.9 },
];

describe('normalize against the implementation before issue 14', () => {
  const fixtures: [string, () => Frame][] = [
    [
      'uint16 gray 333x211',
      () => frameOf(Uint16Array.from(sensor(333 * 211, 4095, 1)), 333, 211, 1),
    ],
    ['uint16 RGB 64x48', () => frameOf(Uint16Array.from(sensor(64 * 48 * 3, 65535, 2)), 64, 48, 3)],
    ['uint8 gray 101x77', () => frameOf(Uint8Array.from(sensor(101 * 77, 255, 3)), 101, 77, 1)],
    ['uint8 RGB 50x31', () => frameOf(Uint8Array.from(sensor(50 * 31 * 3, 255, 4)), 50, 31, 3)],
    [
      'uint16 at an odd byte offset (2-byte aligned view)',
      () => {
        const values = sensor(129 * 65 + 1, 4095, 5);
        const all = Uint16Array.from(values);
        return frameOf(all.subarray(1), 129, 65, 1);
      },
    ],
    ['uint16 one pixel', () => frameOf(Uint16Array.of(1234), 1, 1, 1)],
    ['uint16 flat', () => frameOf(new Uint16Array(40 * 30).fill(777), 40, 30, 1)],
    ['float32 gray', () => frameOf(Float32Array.from(sensor(90 * 70, 4095, 6)), 90, 70, 1)],
  ];
  for (const [name, make] of fixtures) {
    it(`${name}: byte-identical in every mode, also when the window repeats or changes`, () => {
      const frame = make();
      // Twice per mode and modes interleaved: the cached lookup table must follow every change.
      for (const o of [...MODES, ...MODES.slice().reverse(), ...MODES]) {
        const want = oldNormalize(frame, o);
        const got = normalize(frame, o);
        expect(got.window, o.mode).to.deep.equal(want.window);
        expect(Buffer.from(got.data).equals(Buffer.from(want.data)), o.mode).to.equal(true);
      }
    });
  }

  it('percentiles stay exact up to PERCENTILE_EXACT_LIMIT values', () => {
    const n = PERCENTILE_EXACT_LIMIT;
    const frame = frameOf(Uint16Array.from(sensor(n, 4095, 7)), 1024, 1024, 1);
    const o = MODES[1];
    expect(percentileStep(n)).to.equal(1);
    expect(normalize(frame, o).window).to.deep.equal(oldNormalize(frame, o).window);
  });

  it('beyond the limit, percentiles come from every k-th value (k odd) and stay within 0.05 % in rank', () => {
    expect(percentileStep(PERCENTILE_EXACT_LIMIT + 1)).to.equal(3);
    expect(percentileStep(2048 * 2048)).to.equal(5);
    expect(percentileStep(2048 * 2048 * 3)).to.equal(13);
    const width = 2048;
    const height = 2048;
    const data = Uint16Array.from(sensor(width * height, 4095, 8));
    const frame = frameOf(data, width, height, 1);
    const sorted = Float64Array.from(data).sort();
    const rankOf = (v: number): [number, number] => {
      // Fraction of values below v and at or below v: the exact percentile has need(p) in between.
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (sorted[mid] < v) lo = mid + 1;
        else hi = mid;
      }
      let end = lo;
      while (end < sorted.length && sorted[end] === v) end++;
      return [(100 * lo) / sorted.length, (100 * end) / sorted.length];
    };
    for (const [low, high] of [
      [0.1, 99.9],
      [1, 99],
      [5, 95],
    ]) {
      const o: NormalizeOptions = { mode: 'percentile', lowPercent: low, highPercent: high };
      const got = normalize(frame, o).window;
      for (const [value, p] of [
        [got.min, low],
        [got.max, high],
      ]) {
        const [below, atOrBelow] = rankOf(value);
        expect(p, `value ${value} for ${p} %`).to.be.within(below - 0.05, atOrBelow + 0.05);
      }
    }
  });
});
