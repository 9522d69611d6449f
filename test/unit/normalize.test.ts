import { expect } from 'chai';
import { Dtype, Frame, typedArrayFor } from '../../src/core/frame.js';
import {
  computeWindow,
  DEFAULT_NORMALIZE_OPTIONS,
  normalize,
  NormalizeOptions,
  validateNormalizeOptions,
} from '../../src/core/normalize.js';

/** A width x height frame holding exactly `values` (row-major, channels interleaved). */
function makeFrame(
  dtype: Dtype,
  width: number,
  height: number,
  values: number[],
  channels: 1 | 3 = 1,
  bitDepth = 16,
): Frame {
  if (values.length !== width * height * channels) throw new Error('bad test frame size');
  const data = typedArrayFor(dtype, values.length);
  data.set(values);
  return {
    data,
    width,
    height,
    channels,
    dtype,
    bitDepth,
    pixelFormat: 'test',
    frameNumber: 7,
    timestamp: 123n,
    detector: 'test',
    metadata: {},
  };
}

function opts(partial: Partial<NormalizeOptions>): NormalizeOptions {
  return { ...DEFAULT_NORMALIZE_OPTIONS, ...partial };
}

interface Case {
  name: string;
  frame: Frame;
  options: Partial<NormalizeOptions>;
  window: { min: number; max: number };
  out: number[];
}

// Expected bytes are out = round((v - min) * 255 / (max - min)), worked out by hand.
const cases: Case[] = [
  // --- minmax ---
  {
    name: 'minmax uint8 gray',
    frame: makeFrame('uint8', 4, 1, [10, 20, 30, 50], 1, 8),
    options: { mode: 'minmax' },
    window: { min: 10, max: 50 },
    out: [0, 64, 128, 255], // 63.75, 127.5
  },
  {
    name: 'minmax uint16 gray',
    frame: makeFrame('uint16', 4, 1, [1000, 1100, 1300, 2000]),
    options: { mode: 'minmax' },
    window: { min: 1000, max: 2000 },
    out: [0, 26, 77, 255], // 25.5, 76.5
  },
  {
    name: 'minmax uint32 gray',
    frame: makeFrame('uint32', 2, 2, [100000, 200000, 300000, 500000], 1, 32),
    options: { mode: 'minmax' },
    window: { min: 100000, max: 500000 },
    out: [0, 64, 128, 255],
  },
  {
    name: 'minmax float32 gray with negative values',
    frame: makeFrame('float32', 4, 1, [-1, 0, 0.5, 3]),
    options: { mode: 'minmax' },
    window: { min: -1, max: 3 },
    out: [0, 64, 96, 255], // 63.75, 95.625
  },
  {
    // Per-channel stretching would give [0,0,255,255,255,0]: the window must be joint.
    name: 'minmax uint16 RGB uses one window for all channels',
    frame: makeFrame('uint16', 2, 1, [0, 100, 200, 400, 300, 50], 3),
    options: { mode: 'minmax' },
    window: { min: 0, max: 400 },
    out: [0, 64, 128, 255, 191, 32], // 63.75, 127.5, 191.25, 31.875
  },
  {
    name: 'minmax uint8 RGB',
    frame: makeFrame('uint8', 1, 2, [20, 40, 60, 100, 80, 30], 3, 8),
    options: { mode: 'minmax' },
    window: { min: 20, max: 100 },
    out: [0, 64, 128, 255, 191, 32], // 63.75, 127.5, 191.25, 31.875
  },
  {
    name: 'minmax uint32 RGB',
    frame: makeFrame('uint32', 2, 1, [4e9, 3e9, 2e9, 1e9, 0, 5e8], 3, 32),
    options: { mode: 'minmax' },
    window: { min: 0, max: 4e9 },
    out: [255, 191, 128, 64, 0, 32], // 191.25, 127.5, 63.75, 31.875
  },
  {
    name: 'minmax float32 RGB',
    frame: makeFrame('float32', 2, 1, [0.25, 0.5, 1, 2, 1.5, 0.75], 3),
    options: { mode: 'minmax' },
    window: { min: 0.25, max: 2 },
    out: [0, 36, 109, 255, 182, 73], // 36.43, 109.29, 182.14, 72.86
  },
  {
    name: 'minmax uint8 flat image is black',
    frame: makeFrame('uint8', 2, 2, [42, 42, 42, 42], 1, 8),
    options: { mode: 'minmax' },
    window: { min: 42, max: 42 },
    out: [0, 0, 0, 0],
  },
  {
    name: 'minmax uint16 flat image is black',
    frame: makeFrame('uint16', 4, 1, [500, 500, 500, 500]),
    options: { mode: 'minmax' },
    window: { min: 500, max: 500 },
    out: [0, 0, 0, 0],
  },
  {
    name: 'minmax uint32 flat image is black',
    frame: makeFrame('uint32', 4, 1, [7, 7, 7, 7], 1, 32),
    options: { mode: 'minmax' },
    window: { min: 7, max: 7 },
    out: [0, 0, 0, 0],
  },
  {
    name: 'minmax float32 flat image is black',
    frame: makeFrame('float32', 4, 1, [2.5, 2.5, 2.5, 2.5]),
    options: { mode: 'minmax' },
    window: { min: 2.5, max: 2.5 },
    out: [0, 0, 0, 0],
  },
  {
    name: 'minmax float32 ignores NaN, which maps to 0',
    frame: makeFrame('float32', 4, 1, [NaN, 1, 3, 5]),
    options: { mode: 'minmax' },
    window: { min: 1, max: 5 },
    out: [0, 0, 128, 255], // 127.5
  },
  {
    name: 'minmax float32 ignores infinities, which map to 255 and 0',
    frame: makeFrame('float32', 4, 1, [Infinity, -Infinity, 1, 5]),
    options: { mode: 'minmax' },
    window: { min: 1, max: 5 },
    out: [255, 0, 0, 255],
  },
  {
    name: 'minmax float32 all NaN gives window 0..0 and black',
    frame: makeFrame('float32', 2, 1, [NaN, NaN]),
    options: { mode: 'minmax' },
    window: { min: 0, max: 0 },
    out: [0, 0],
  },
  // --- fixed ---
  {
    name: 'fixed uint8 gray clips both ends',
    frame: makeFrame('uint8', 4, 1, [5, 10, 15, 25], 1, 8),
    options: { mode: 'fixed', min: 10, max: 20 },
    window: { min: 10, max: 20 },
    out: [0, 0, 128, 255], // 127.5
  },
  {
    name: 'fixed uint8 with fractional bounds',
    frame: makeFrame('uint8', 4, 1, [0, 1, 2, 3], 1, 8),
    options: { mode: 'fixed', min: 0.5, max: 2.5 },
    window: { min: 0.5, max: 2.5 },
    out: [0, 64, 191, 255], // 63.75, 191.25
  },
  {
    name: 'fixed uint16 gray 12-bit window',
    frame: makeFrame('uint16', 4, 1, [0, 1000, 2047, 4095], 1, 12),
    options: { mode: 'fixed', min: 0, max: 4095 },
    window: { min: 0, max: 4095 },
    out: [0, 62, 127, 255], // 62.27, 127.47
  },
  {
    name: 'fixed uint32 gray',
    frame: makeFrame('uint32', 4, 1, [0, 50, 100, 200], 1, 32),
    options: { mode: 'fixed', min: 0, max: 100 },
    window: { min: 0, max: 100 },
    out: [0, 128, 255, 255], // 127.5
  },
  {
    name: 'fixed float32 gray',
    frame: makeFrame('float32', 4, 1, [-0.5, 0.25, 0.5, 2]),
    options: { mode: 'fixed', min: 0, max: 1 },
    window: { min: 0, max: 1 },
    out: [0, 64, 128, 255], // 63.75, 127.5
  },
  {
    name: 'fixed float32 NaN maps to 0',
    frame: makeFrame('float32', 2, 1, [NaN, 0.5]),
    options: { mode: 'fixed', min: 0, max: 1 },
    window: { min: 0, max: 1 },
    out: [0, 128],
  },
  {
    name: 'fixed uint16 RGB',
    frame: makeFrame('uint16', 2, 1, [100, 150, 200, 300, 50, 250], 3),
    options: { mode: 'fixed', min: 100, max: 300 },
    window: { min: 100, max: 300 },
    out: [0, 64, 128, 255, 0, 191], // 63.75, 127.5, 191.25
  },
  {
    name: 'fixed uint16 with min == max thresholds',
    frame: makeFrame('uint16', 4, 1, [99, 100, 101, 0]),
    options: { mode: 'fixed', min: 100, max: 100 },
    window: { min: 100, max: 100 },
    out: [0, 0, 255, 0],
  },
  {
    name: 'fixed float32 with min == max thresholds',
    frame: makeFrame('float32', 3, 1, [0.5, 1, 1.5]),
    options: { mode: 'fixed', min: 1, max: 1 },
    window: { min: 1, max: 1 },
    out: [0, 0, 255],
  },
  // --- percentile ---
  {
    name: 'percentile uint8 clips the outlier',
    frame: makeFrame('uint8', 10, 1, [10, 20, 30, 40, 50, 60, 70, 80, 90, 250], 1, 8),
    options: { mode: 'percentile', lowPercent: 10, highPercent: 90 },
    window: { min: 10, max: 90 }, // need 1 and 9 values
    out: [0, 32, 64, 96, 128, 159, 191, 223, 255, 255],
  },
  {
    name: 'percentile uint16 clips the outlier',
    frame: makeFrame('uint16', 5, 2, [100, 200, 300, 400, 500, 600, 700, 800, 900, 60000]),
    options: { mode: 'percentile', lowPercent: 10, highPercent: 90 },
    window: { min: 100, max: 900 },
    out: [0, 32, 64, 96, 128, 159, 191, 223, 255, 255],
  },
  {
    // Range 0..1048576 gives 65536 bins of width 16, so edges are multiples of 16.
    name: 'percentile uint32 clips the outlier (bin lower edge)',
    frame: makeFrame(
      'uint32',
      10,
      1,
      [0, 160, 320, 480, 640, 800, 960, 1120, 1290, 1048576],
      1,
      32,
    ),
    options: { mode: 'percentile', lowPercent: 10, highPercent: 90 },
    window: { min: 0, max: 1280 }, // 1290 is in bin 80, whose lower edge is 1280
    out: [0, 32, 64, 96, 128, 159, 191, 223, 255, 255],
  },
  {
    name: 'percentile float32 ignores NaN and clips the outlier',
    frame: makeFrame(
      'float32',
      11,
      1,
      [NaN, 0, 160, 320, 480, 640, 800, 960, 1120, 1290, 1048576],
      1,
      32,
    ),
    options: { mode: 'percentile', lowPercent: 10, highPercent: 90 },
    window: { min: 0, max: 1280 }, // N = 10 finite values
    out: [0, 0, 32, 64, 96, 128, 159, 191, 223, 255, 255],
  },
  {
    name: 'percentile float32 lower edge of a bin',
    frame: makeFrame('float32', 4, 1, [0, 100, 1000.5, 1048576]),
    options: { mode: 'percentile', lowPercent: 0, highPercent: 75 },
    window: { min: 0, max: 992 }, // 1000.5 is in bin 62 -> 62 * 16
    out: [0, 26, 255, 255], // 100 * 255 / 992 = 25.7
  },
  {
    name: 'percentile uint8 RGB uses all channels jointly',
    frame: makeFrame('uint8', 2, 2, [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 255], 3, 8),
    options: { mode: 'percentile', lowPercent: 25, highPercent: 75 },
    window: { min: 20, max: 80 }, // need 3 and 9 of 12 values
    out: [0, 0, 0, 43, 85, 128, 170, 213, 255, 255, 255, 255], // 42.5, 127.5, 212.5
  },
  {
    name: 'percentile uint16 RGB',
    frame: makeFrame('uint16', 2, 1, [1000, 2000, 3000, 4000, 5000, 6000], 3),
    options: { mode: 'percentile', lowPercent: 20, highPercent: 80 },
    window: { min: 2000, max: 5000 }, // need ceil(1.2) = 2 and ceil(4.8) = 5 of 6
    out: [0, 0, 85, 170, 255, 255],
  },
  {
    name: 'percentile 0 and 100 give min and max (uint16)',
    frame: makeFrame('uint16', 4, 1, [3, 5, 9, 1000]),
    options: { mode: 'percentile', lowPercent: 0, highPercent: 100 },
    window: { min: 3, max: 1000 },
    out: [0, 1, 2, 255], // 0.51, 1.54
  },
  {
    name: 'percentile 0 and 100 give min and max exactly (float32)',
    frame: makeFrame('float32', 4, 1, [0.5, 1, 2, 7.25]),
    options: { mode: 'percentile', lowPercent: 0, highPercent: 100 },
    window: { min: 0.5, max: 7.25 },
    out: [0, 19, 57, 255], // 18.89, 56.67
  },
  {
    name: 'percentile 0 and 100 give min and max exactly (uint32)',
    frame: makeFrame('uint32', 3, 1, [12345, 23456, 99999], 1, 32),
    options: { mode: 'percentile', lowPercent: 0, highPercent: 100 },
    window: { min: 12345, max: 99999 },
    out: [0, 32, 255], // 32.32
  },
  {
    name: 'percentile uint16 flat image is black',
    frame: makeFrame('uint16', 2, 2, [300, 300, 300, 300]),
    options: { mode: 'percentile' },
    window: { min: 300, max: 300 },
    out: [0, 0, 0, 0],
  },
  {
    name: 'percentile float32 flat image is black',
    frame: makeFrame('float32', 2, 2, [-3, -3, NaN, -3]),
    options: { mode: 'percentile' },
    window: { min: -3, max: -3 },
    out: [0, 0, 0, 0],
  },
  // --- shift ---
  {
    name: 'shift uint16 bitDepth 12 shifts by 4',
    frame: makeFrame('uint16', 6, 1, [0, 15, 16, 2048, 4095, 65535], 1, 12),
    options: { mode: 'shift' },
    window: { min: 0, max: 4095 },
    out: [0, 0, 1, 128, 255, 255],
  },
  {
    name: 'shift uint16 bitDepth 16 shifts by 8',
    frame: makeFrame('uint16', 4, 1, [0, 255, 256, 65535], 1, 16),
    options: { mode: 'shift' },
    window: { min: 0, max: 65535 },
    out: [0, 0, 1, 255],
  },
  {
    name: 'shift uint16 bitDepth 8 clamps without shifting',
    frame: makeFrame('uint16', 5, 1, [0, 100, 255, 256, 1000], 1, 8),
    options: { mode: 'shift' },
    window: { min: 0, max: 255 },
    out: [0, 100, 255, 255, 255],
  },
  {
    name: 'shift uint8 bitDepth 8 is the identity',
    frame: makeFrame('uint8', 4, 1, [0, 1, 128, 255], 1, 8),
    options: { mode: 'shift' },
    window: { min: 0, max: 255 },
    out: [0, 1, 128, 255],
  },
  {
    name: 'shift uint8 bitDepth 6 does not scale up',
    frame: makeFrame('uint8', 3, 1, [0, 33, 63], 1, 6),
    options: { mode: 'shift' },
    window: { min: 0, max: 63 },
    out: [0, 33, 63],
  },
  {
    name: 'shift uint16 RGB bitDepth 10',
    frame: makeFrame('uint16', 2, 1, [0, 4, 512, 1023, 8, 1024], 3, 10),
    options: { mode: 'shift' },
    window: { min: 0, max: 1023 },
    out: [0, 1, 128, 255, 2, 255],
  },
  {
    name: 'shift uint32 bitDepth 32 shifts unsigned by 24',
    frame: makeFrame('uint32', 4, 1, [0, 16777215, 16777216, 4294967295], 1, 32),
    options: { mode: 'shift' },
    window: { min: 0, max: 4294967295 },
    out: [0, 0, 1, 255],
  },
  {
    name: 'shift uint32 bitDepth 20 clamps',
    frame: makeFrame('uint32', 3, 1, [4096, 2147483648, 1048575], 1, 20),
    options: { mode: 'shift' },
    window: { min: 0, max: 1048575 },
    out: [1, 255, 255],
  },
  {
    name: 'shift float32 bitDepth 12 floors, clamps and maps NaN to 0',
    frame: makeFrame('float32', 6, 1, [-3, 15.9, 16, 2048.5, 5000, NaN], 1, 12),
    options: { mode: 'shift' },
    window: { min: 0, max: 4095 },
    out: [0, 0, 1, 128, 255, 0],
  },
  {
    name: 'shift float32 bitDepth 0 scales [0, 1) to 0..255',
    frame: makeFrame('float32', 4, 1, [0, 0.5, 0.999, 1], 1, 0),
    options: { mode: 'shift' },
    window: { min: 0, max: 0 },
    out: [0, 128, 255, 255],
  },
];

describe('normalize', () => {
  describe('exact output per mode, dtype and channel count', () => {
    for (const c of cases) {
      it(c.name, () => {
        const o = opts(c.options);
        const d = normalize(c.frame, o);
        expect(Array.from(d.data)).to.deep.equal(c.out);
        expect(d.window).to.deep.equal(c.window);
        expect(computeWindow(c.frame, o)).to.deep.equal(c.window);
        expect(d.data).to.be.instanceOf(Uint8Array);
        expect(d.width).to.equal(c.frame.width);
        expect(d.height).to.equal(c.frame.height);
        expect(d.channels).to.equal(c.frame.channels);
        expect(d.source).to.equal(c.frame);
      });
    }
  });

  it('default options are minmax, 0.1 %, 99.9 %', () => {
    expect(DEFAULT_NORMALIZE_OPTIONS).to.deep.equal({
      mode: 'minmax',
      lowPercent: 0.1,
      highPercent: 99.9,
    });
  });

  it('default percentiles clip one outlier among 2000 values', () => {
    const values: number[] = [];
    for (let i = 0; i < 1999; i++) values.push(i);
    values.push(65535);
    const frame = makeFrame('uint16', 100, 20, values);
    const d = normalize(frame, opts({ mode: 'percentile' }));
    // need(0.1 %) = 2 values -> 1; need(99.9 %) = 1998 values -> 1997.
    expect(d.window).to.deep.equal({ min: 1, max: 1997 });
    expect(Array.from(d.data.subarray(0, 3))).to.deep.equal([0, 0, 0]); // 2 -> 0.13
    expect(d.data[999]).to.equal(128); // 998 * 255 / 1996 = 127.5
    expect(Array.from(d.data.subarray(1996))).to.deep.equal([255, 255, 255, 255]); // 1996 -> 254.87
    expect(d.data[1990]).to.equal(254); // 1990 -> 254.11
  });

  it('only reads width * height * channels values of a longer buffer', () => {
    const frame = makeFrame('uint16', 2, 1, [10, 20]);
    const data = new Uint16Array([10, 20, 60000]);
    const d = normalize({ ...frame, data }, opts({ mode: 'minmax' }));
    expect(d.window).to.deep.equal({ min: 10, max: 20 });
    expect(Array.from(d.data)).to.deep.equal([0, 255]);
  });

  it('gives the same bytes for the same values in every dtype (table and direct paths agree)', () => {
    const values: number[] = [];
    let s = 12345;
    for (let i = 0; i < 3000; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      values.push(s % 1024);
    }
    const modes: Partial<NormalizeOptions>[] = [
      { mode: 'minmax' },
      { mode: 'fixed', min: 100.5, max: 900.25 },
      { mode: 'fixed', min: 511, max: 511 },
      { mode: 'shift' },
    ];
    for (const partial of modes) {
      const results = (['uint16', 'uint32', 'float32'] as Dtype[]).map((dtype) =>
        Array.from(normalize(makeFrame(dtype, 100, 10, values, 3, 10), opts(partial)).data),
      );
      expect(results[1], `${partial.mode} uint32`).to.deep.equal(results[0]);
      expect(results[2], `${partial.mode} float32`).to.deep.equal(results[0]);
    }
  });

  describe('uint16 fast paths agree with the plain loops', () => {
    // 5 values: odd length leaves a tail; the minimum sits in the high half of a 32-bit word.
    const values = [7, 3, 11, 5, 19];
    const layouts: [string, () => { data: Uint16Array; out: Uint8Array }][] = [
      ['aligned', () => ({ data: new Uint16Array(values), out: new Uint8Array(5) })],
      [
        'unaligned source',
        () => {
          const data = new Uint16Array(6).subarray(1);
          data.set(values);
          return { data, out: new Uint8Array(5) };
        },
      ],
      [
        'unaligned output',
        () => ({ data: new Uint16Array(values), out: new Uint8Array(6).subarray(1) }),
      ],
    ];
    for (const [name, make] of layouts) {
      it(`minmax, ${name}`, () => {
        const { data, out } = make();
        const frame = { ...makeFrame('uint16', 5, 1, values), data };
        const d = normalize(frame, opts({ mode: 'minmax' }), out);
        expect(d.window).to.deep.equal({ min: 3, max: 19 });
        expect(Array.from(d.data)).to.deep.equal([64, 0, 128, 32, 255]); // 63.75, 127.5, 31.875
      });

      it(`percentile, ${name}`, () => {
        const { data, out } = make();
        const frame = { ...makeFrame('uint16', 5, 1, values), data };
        const d = normalize(
          frame,
          opts({ mode: 'percentile', lowPercent: 20, highPercent: 80 }),
          out,
        );
        expect(d.window).to.deep.equal({ min: 3, max: 11 }); // need 1 and 4 of 5
        expect(Array.from(d.data)).to.deep.equal([128, 0, 255, 64, 255]); // 127.5, 63.75
      });
    }
  });

  describe('out buffer', () => {
    it('is filled and returned as data', () => {
      const out = new Uint8Array(4).fill(99);
      const d = normalize(makeFrame('uint16', 4, 1, [0, 100, 200, 400]), opts({}), out);
      expect(d.data).to.equal(out);
      expect(Array.from(out)).to.deep.equal([0, 64, 128, 255]);
    });

    it('is fully overwritten on reuse, across dtypes and modes', () => {
      const out = new Uint8Array(4);
      normalize(makeFrame('uint16', 4, 1, [0, 100, 200, 400]), opts({}), out);
      const d = normalize(
        makeFrame('uint8', 4, 1, [4, 3, 2, 1], 1, 8),
        opts({ mode: 'fixed', min: 1, max: 3 }),
        out,
      );
      expect(d.data).to.equal(out);
      expect(Array.from(out)).to.deep.equal([255, 255, 128, 0]);
      normalize(makeFrame('float32', 2, 2, [NaN, 1, 2, 3]), opts({}), out);
      expect(Array.from(out)).to.deep.equal([0, 0, 128, 255]);
    });

    it('must have exactly width * height * channels bytes', () => {
      const frame = makeFrame('uint16', 2, 1, [1, 2, 3, 4, 5, 6], 3);
      expect(() => normalize(frame, opts({}), new Uint8Array(2))).to.throw(RangeError, /out/);
      expect(() => normalize(frame, opts({}), new Uint8Array(7))).to.throw(RangeError, /out/);
    });
  });

  describe('validation', () => {
    const frame = makeFrame('uint16', 2, 1, [1, 2]);
    const bad: [string, Partial<NormalizeOptions>, RegExp][] = [
      [
        'lowPercent == highPercent',
        { mode: 'percentile', lowPercent: 50, highPercent: 50 },
        /lowPercent.*smaller/,
      ],
      [
        'lowPercent > highPercent',
        { mode: 'percentile', lowPercent: 60, highPercent: 40 },
        /lowPercent.*smaller/,
      ],
      ['negative lowPercent', { mode: 'percentile', lowPercent: -1 }, /lowPercent.*0 and 100/],
      [
        'highPercent above 100',
        { mode: 'percentile', highPercent: 100.5 },
        /highPercent.*0 and 100/,
      ],
      ['NaN percent', { lowPercent: NaN }, /lowPercent/],
      ['fixed without min and max', { mode: 'fixed' }, /needs min and max/],
      ['fixed without min', { mode: 'fixed', max: 10 }, /needs min$/],
      ['fixed without max', { mode: 'fixed', min: 10 }, /needs max$/],
      [
        'fixed with min > max',
        { mode: 'fixed', min: 10, max: 5 },
        /min \(10\) is greater than max \(5\)/,
      ],
      ['fixed with NaN bound', { mode: 'fixed', min: NaN, max: 5 }, /finite/],
      ['unknown mode', { mode: 'gamma' as NormalizeOptions['mode'] }, /mode must be one of/],
    ];
    for (const [name, partial, message] of bad) {
      it(`rejects ${name}`, () => {
        const o = opts(partial);
        expect(() => validateNormalizeOptions(o)).to.throw(RangeError, message);
        expect(() => normalize(frame, o)).to.throw(RangeError, message);
        expect(() => computeWindow(frame, o)).to.throw(RangeError, message);
      });
    }

    it('accepts fixed with min == max and percentiles 0 and 100', () => {
      expect(() =>
        validateNormalizeOptions(opts({ mode: 'fixed', min: 3, max: 3 })),
      ).not.to.throw();
      expect(() =>
        validateNormalizeOptions(opts({ mode: 'percentile', lowPercent: 0, highPercent: 100 })),
      ).not.to.throw();
    });

    it('rejects a frame whose data does not match its dtype', () => {
      const f = { ...frame, dtype: 'float32' as const };
      expect(() => normalize(f, opts({}))).to.throw(TypeError, /float32/);
    });

    it('rejects a frame whose data is too short', () => {
      const f = { ...frame, width: 3 };
      expect(() => normalize(f, opts({}))).to.throw(RangeError, /needs 3/);
    });

    it('rejects a shift with a non-integer bitDepth', () => {
      const f = { ...frame, bitDepth: 12.5 };
      expect(() => normalize(f, opts({ mode: 'shift' }))).to.throw(RangeError, /bitDepth/);
    });
  });
});
