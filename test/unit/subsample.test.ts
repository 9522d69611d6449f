import { expect } from 'chai';
import { Dtype, Frame, typedArrayFor } from '../../src/core/frame.js';
import {
  DEFAULT_SUBSAMPLE_OPTIONS,
  effectiveFactor,
  subsample,
  SubsampleOptions,
} from '../../src/core/subsample.js';

/** A width x height frame holding exactly `values` (row-major, channels interleaved). */
function makeFrame(
  dtype: Dtype,
  width: number,
  height: number,
  values: number[],
  channels: 1 | 3 = 1,
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
    bitDepth: 12,
    pixelFormat: 'Mono12',
    frameNumber: 42,
    timestamp: 1234567890n,
    detector: 'cam1',
    metadata: { exposure: 0.01 },
  };
}

/** A frame whose value at index i is i * scale (so each output value names the pixel it came from). */
function ramp(dtype: Dtype, width: number, height: number, channels: 1 | 3 = 1, scale = 1): Frame {
  const values: number[] = [];
  for (let i = 0; i < width * height * channels; i++) values.push(i * scale);
  return makeFrame(dtype, width, height, values, channels);
}

function opts(partial: Partial<SubsampleOptions>): SubsampleOptions {
  return { ...DEFAULT_SUBSAMPLE_OPTIONS, ...partial };
}

describe('subsample', () => {
  describe('effectiveFactor', () => {
    const cases: [string, number, number, Partial<SubsampleOptions>, number][] = [
      ['defaults', 2048, 2048, {}, 1],
      ['factor alone', 2048, 2048, { factor: 4 }, 4],
      ['maxWidth', 2048, 2048, { maxWidth: 1000 }, 3], // ceil(2.048)
      ['maxHeight', 1920, 1080, { maxHeight: 500 }, 3], // ceil(2.16)
      ['exact fit needs no decimation', 1000, 1000, { maxWidth: 1000, maxHeight: 1000 }, 1],
      ['one pixel too wide', 1001, 10, { maxWidth: 1000 }, 2],
      ['factor larger than the limits need', 1920, 1080, { factor: 4, maxWidth: 1000 }, 4],
      ['the stricter limit wins', 4000, 1000, { maxWidth: 1000, maxHeight: 100 }, 10],
      ['limits larger than the frame', 640, 480, { maxWidth: 4096, maxHeight: 4096 }, 1],
    ];
    for (const [name, w, h, partial, expected] of cases) {
      it(`${name}: ${w}x${h} -> ${expected}`, () => {
        expect(effectiveFactor(w, h, opts(partial))).to.equal(expected);
      });
    }

    it('keeps the output within the limits', () => {
      for (const [w, mw] of [
        [2048, 1000],
        [1001, 1000],
        [1999, 7],
        [5, 2],
      ]) {
        const f = effectiveFactor(w, 1, opts({ maxWidth: mw }));
        expect(Math.ceil(w / f)).to.be.at.most(mw);
      }
    });

    it('rejects bad options', () => {
      expect(() => effectiveFactor(10, 10, opts({ factor: 0 }))).to.throw(RangeError, /factor/);
      expect(() => effectiveFactor(10, 10, opts({ factor: 1.5 }))).to.throw(RangeError, /factor/);
      expect(() => effectiveFactor(10, 10, opts({ maxWidth: -1 }))).to.throw(
        RangeError,
        /maxWidth/,
      );
      expect(() => effectiveFactor(10, 10, opts({ maxHeight: NaN }))).to.throw(
        RangeError,
        /maxHeight/,
      );
    });
  });

  describe('decimation', () => {
    const cases: {
      name: string;
      frame: Frame;
      options: Partial<SubsampleOptions>;
      width: number;
      height: number;
      out: number[];
    }[] = [
      {
        // 0  1  2  3  4
        // 5  6  7  8  9
        // 10 11 12 13 14
        name: 'factor 2 on 5x3 uint16 gray',
        frame: ramp('uint16', 5, 3),
        options: { factor: 2 },
        width: 3,
        height: 2,
        out: [0, 2, 4, 10, 12, 14],
      },
      {
        name: 'factor 3 on 7x5 uint8 gray',
        frame: ramp('uint8', 7, 5),
        options: { factor: 3 },
        width: 3,
        height: 2,
        out: [0, 3, 6, 21, 24, 27],
      },
      {
        name: 'factor 3 on 4x4 uint32 gray',
        frame: ramp('uint32', 4, 4, 1, 100000000),
        options: { factor: 3 },
        width: 2,
        height: 2,
        out: [0, 300000000, 1200000000, 1500000000],
      },
      {
        name: 'factor 2 on 3x3 float32 gray',
        frame: ramp('float32', 3, 3, 1, 0.5),
        options: { factor: 2 },
        width: 2,
        height: 2,
        out: [0, 1, 3, 4],
      },
      {
        name: 'factor 2 on 3x3 uint8 RGB keeps the channels of each pixel together',
        frame: ramp('uint8', 3, 3, 3),
        options: { factor: 2 },
        width: 2,
        height: 2,
        // pixels 0, 2, 6, 8 -> values 3p, 3p+1, 3p+2
        out: [0, 1, 2, 6, 7, 8, 18, 19, 20, 24, 25, 26],
      },
      {
        name: 'factor 3 on 5x4 uint16 RGB',
        frame: ramp('uint16', 5, 4, 3),
        options: { factor: 3 },
        width: 2,
        height: 2,
        // pixels 0, 3, 15, 18
        out: [0, 1, 2, 9, 10, 11, 45, 46, 47, 54, 55, 56],
      },
      {
        name: 'factor 2 on 3x1 float32 RGB',
        frame: makeFrame('float32', 3, 1, [0.5, 1.5, 2.5, 9, 9, 9, -1, NaN, 7.25], 3),
        options: { factor: 2 },
        width: 2,
        height: 1,
        out: [0.5, 1.5, 2.5, -1, NaN, 7.25],
      },
      {
        name: 'factor 2 on 2x2 uint32 RGB',
        frame: ramp('uint32', 2, 2, 3, 1000000),
        options: { factor: 2 },
        width: 1,
        height: 1,
        out: [0, 1000000, 2000000],
      },
      {
        name: 'maxWidth 2 on 5x3 gives factor 3',
        frame: ramp('uint16', 5, 3),
        options: { maxWidth: 2 },
        width: 2,
        height: 1,
        out: [0, 3],
      },
      {
        name: 'maxHeight 2 on 3x5 gives factor 3',
        frame: ramp('uint16', 3, 5),
        options: { maxHeight: 2 },
        width: 1,
        height: 2,
        out: [0, 9],
      },
      {
        name: 'factor larger than the frame keeps the first pixel',
        frame: ramp('uint8', 2, 2),
        options: { factor: 5 },
        width: 1,
        height: 1,
        out: [0],
      },
      {
        name: 'factor 4 on a single 6-pixel row',
        frame: ramp('uint16', 6, 1),
        options: { factor: 4 },
        width: 2,
        height: 1,
        out: [0, 4],
      },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const out = subsample(c.frame, opts(c.options));
        expect(out).not.to.equal(c.frame);
        expect(out.width).to.equal(c.width);
        expect(out.height).to.equal(c.height);
        expect(out.data.constructor).to.equal(c.frame.data.constructor);
        expect(out.data.length).to.equal(c.width * c.height * c.frame.channels);
        expect(Array.from(out.data)).to.deep.equal(c.out);
      });
    }
  });

  it('returns the same frame object when the factor is 1', () => {
    const frame = ramp('uint16', 5, 3);
    expect(subsample(frame, opts({}))).to.equal(frame);
    expect(subsample(frame, opts({ maxWidth: 5, maxHeight: 3 }))).to.equal(frame);
  });

  it('keeps every other field and leaves the input alone', () => {
    const frame = ramp('uint16', 4, 4, 3);
    const before = Array.from(frame.data);
    const out = subsample(frame, opts({ factor: 2 }));
    expect(out.data).not.to.equal(frame.data);
    expect(Array.from(frame.data)).to.deep.equal(before);
    expect(out.channels).to.equal(3);
    expect(out.dtype).to.equal('uint16');
    expect(out.bitDepth).to.equal(12);
    expect(out.pixelFormat).to.equal('Mono12');
    expect(out.frameNumber).to.equal(42);
    expect(out.timestamp).to.equal(1234567890n);
    expect(out.detector).to.equal('cam1');
    expect(out.metadata).to.deep.equal({ exposure: 0.01 });
    expect(frame.width).to.equal(4);
  });

  it('rejects a frame whose data is too short', () => {
    const frame = { ...ramp('uint8', 2, 2), width: 4 };
    expect(() => subsample(frame, opts({ factor: 2 }))).to.throw(RangeError, /needs 8/);
  });
});
