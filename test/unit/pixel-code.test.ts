import { expect } from 'chai';
import sharp from 'sharp';
import {
  PIXEL_CODE_LAYOUT,
  decodePixelCode,
  drawPixelCode,
  pixelCodeHeight,
} from '../../src/core/pixel-code.js';

type Channels = 1 | 3 | 4;

interface Image {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

const MAX_U32 = 2 ** 32 - 1;
const MAX_U48 = 2 ** 48 - 1;
const NOW = Date.now();

/** Deterministic PRNG (mulberry32) so failures are reproducible. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Gradient + texture + strong noise, so JPEG has real work to do around the code. */
function background(width: number, height: number, channels: number, seed = 1): Uint8Array {
  const rnd = random(seed);
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = 30 + (180 * x) / width + 25 * Math.sin(y / 5 + x / 9 + c) + (rnd() - 0.5) * 120;
        data[(y * width + x) * channels + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
    }
  }
  return data;
}

function stamped(
  width: number,
  height: number,
  channels: number,
  frameNumber: number,
  timestampMs: number,
): Image {
  const data = background(width, height, channels);
  drawPixelCode(data, width, height, channels, frameNumber, timestampMs, 0, 255);
  return { data, width, height, channels };
}

function decode(img: Image): ReturnType<typeof decodePixelCode> {
  return decodePixelCode(img.data, img.width, img.height, img.channels);
}

/** Keeps every f-th pixel of every f-th row, starting at (0, 0), like the stream subsampler. */
function decimate(img: Image, f: number): Image {
  const { width, height, channels } = img;
  const w = Math.ceil(width / f);
  const h = Math.ceil(height / f);
  const data = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < channels; c++) {
        data[(y * w + x) * channels + c] = img.data[(y * f * width + x * f) * channels + c];
      }
    }
  }
  return { data, width: w, height: h, channels };
}

async function viaJpeg(img: Image, quality: number, resizeTo?: number): Promise<Image> {
  const raw = { width: img.width, height: img.height, channels: img.channels as Channels };
  let pipeline = sharp(img.data, { raw });
  if (resizeTo !== undefined) pipeline = pipeline.resize(resizeTo);
  const jpeg = await pipeline.jpeg({ quality }).toBuffer();
  const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** Like drawing into a browser canvas: RGBA with opaque alpha. */
function toRgba(img: Image): Image {
  const n = img.width * img.height;
  const data = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) {
      data[i * 4 + c] = img.data[i * img.channels + (img.channels === 1 ? 0 : c)];
    }
    data[i * 4 + 3] = 255;
  }
  return { data, width: img.width, height: img.height, channels: 4 };
}

/** Pixel ranges [start, end) whose centres lie in block (k, r); mirrors the documented layout. */
function blockPixels(width: number, k: number, r: number): { x: number[]; y: number[] } {
  const s = width / PIXEL_CODE_LAYOUT.blocksPerWidth;
  const edge = (i: number): number => Math.max(0, Math.ceil(i * s - 0.5));
  return { x: [edge(k), edge(k + 1)], y: [edge(r), edge(r + 1)] };
}

function invertBlock(img: Image, k: number, r: number): void {
  const { x, y } = blockPixels(img.width, k, r);
  for (let yy = y[0]; yy < y[1]; yy++) {
    for (let xx = x[0]; xx < x[1]; xx++) {
      for (let c = 0; c < img.channels; c++) {
        const i = (yy * img.width + xx) * img.channels + c;
        img.data[i] = 255 - img.data[i];
      }
    }
  }
}

/** The (column, row) of data bit i. */
function dataBlock(i: number): [number, number] {
  const { firstDataColumn, dataColumns } = PIXEL_CODE_LAYOUT;
  return [firstDataColumn + (i % dataColumns), Math.floor(i / dataColumns)];
}

describe('pixel code', () => {
  const cases: [number, number][] = [
    [0, NOW],
    [1, NOW],
    [MAX_U32, NOW],
    [0, MAX_U48],
    [MAX_U32, MAX_U48],
    [123_456_789, 0],
  ];

  it('has a height proportional to the width', () => {
    expect(pixelCodeHeight(160)).to.equal(12);
    expect(pixelCodeHeight(1280)).to.equal(96);
    expect(pixelCodeHeight(4096)).to.equal(307);
    expect(pixelCodeHeight(64)).to.equal(5);
    expect(() => pixelCodeHeight(0)).to.throw(RangeError);
  });

  it('round-trips exactly on uint8 gray, RGB and RGBA images', () => {
    for (const width of [160, 640, 1280, 2048]) {
      const height = Math.round((width * 9) / 16);
      for (const channels of [1, 3, 4]) {
        const data = background(width, height, channels);
        for (const [frameNumber, timestampMs] of cases) {
          drawPixelCode(data, width, height, channels, frameNumber, timestampMs, 0, 255);
          const label = `${width}x${height}x${channels} #${frameNumber} @${timestampMs}`;
          expect(decodePixelCode(data, width, height, channels), label).to.deep.equal({
            frameNumber,
            timestampMs,
          });
        }
      }
    }
  });

  it('decodes from any ArrayLike, e.g. a canvas Uint8ClampedArray', () => {
    const img = stamped(320, 240, 4, 42, NOW);
    const clamped = new Uint8ClampedArray(img.data);
    expect(decodePixelCode(clamped, 320, 240, 4)).to.deep.equal({
      frameNumber: 42,
      timestampMs: NOW,
    });
  });

  it('wraps the frame number to 32 bits and the timestamp to 48 bits, dropping fractions', () => {
    const img = stamped(640, 480, 1, 0, 0);
    const check = (frameNumber: number, timestampMs: number): ReturnType<typeof decode> => {
      drawPixelCode(img.data, 640, 480, 1, frameNumber, timestampMs, 0, 255);
      return decode(img);
    };
    expect(check(2 ** 32 + 7, 2 ** 48 + 5)).to.deep.equal({ frameNumber: 7, timestampMs: 5 });
    expect(check(-1, NOW + 0.9)).to.deep.equal({ frameNumber: MAX_U32, timestampMs: NOW });
  });

  it('draws into Uint16, Uint32 and Float32 buffers, touching only the code area', () => {
    const width = 1000;
    const height = 300;
    const channels = 3;
    const s = width / PIXEL_CODE_LAYOUT.blocksPerWidth;
    const codeWidth = Math.ceil(PIXEL_CODE_LAYOUT.columns * s - 0.5);
    const codeHeight = pixelCodeHeight(width);
    const arrays = [
      new Uint16Array(width * height * channels),
      new Uint32Array(width * height * channels),
      new Float32Array(width * height * channels),
    ];
    for (const data of arrays) {
      data.fill(7);
      drawPixelCode(data, width, height, channels, 5, NOW, 100, 4000);
      const wrong: string[] = [];
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          for (let c = 0; c < channels; c++) {
            const v = data[(y * width + x) * channels + c];
            const ok = x < codeWidth && y < codeHeight ? v === 100 || v === 4000 : v === 7;
            if (!ok && wrong.length < 5) wrong.push(`(${x},${y},${c})=${v}`);
          }
        }
      }
      expect(wrong, data.constructor.name).to.deep.equal([]);
      const gray8 = new Uint8Array(width * height * channels);
      for (let i = 0; i < data.length; i++) gray8[i] = data[i] === 4000 ? 255 : 0;
      expect(decodePixelCode(gray8, width, height, channels)).to.deep.equal({
        frameNumber: 5,
        timestampMs: NOW,
      });
    }
  });

  describe('survives 8-bit normalization of a 12-bit image', () => {
    const width = 1280;
    const height = 720;
    const rnd = random(7);
    const raw = new Uint16Array(width * height);
    for (let i = 0; i < raw.length; i++) {
      raw[i] = 1000 + ((i % width) / width) * 1500 + Math.floor(rnd() * 500);
    }
    drawPixelCode(raw, width, height, 1, 99, NOW, 0, 4095);
    const normalize = (map: (v: number) => number): Image => {
      const data = new Uint8Array(raw.length);
      for (let i = 0; i < raw.length; i++) {
        data[i] = Math.round(Math.max(0, Math.min(255, map(raw[i]))));
      }
      return { data, width, height, channels: 1 };
    };
    const expected = { frameNumber: 99, timestampMs: NOW };

    it('with a linear min/max stretch', () => {
      let min = Infinity;
      let max = -Infinity;
      for (const v of raw) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      expect([min, max]).to.deep.equal([0, 4095]);
      expect(decode(normalize((v) => ((v - min) * 255) / (max - min)))).to.deep.equal(expected);
    });

    it('with a clipping window and with a non-linear monotonic mapping', () => {
      expect(decode(normalize((v) => ((v - 900) * 255) / (3100 - 900)))).to.deep.equal(expected);
      expect(decode(normalize((v) => 255 * Math.sqrt(v / 4095)))).to.deep.equal(expected);
      expect(decode(normalize((v) => v >> 4))).to.deep.equal(expected);
    });
  });

  it('survives decimation by 2, 3 and 4 of a 1280x720 image', () => {
    for (const channels of [1, 3]) {
      const img = stamped(1280, 720, channels, 77, NOW);
      for (const f of [2, 3, 4]) {
        expect(decode(decimate(img, f)), `${channels} channels, factor ${f}`).to.deep.equal({
          frameNumber: 77,
          timestampMs: NOW,
        });
      }
    }
  });

  describe('survives JPEG', () => {
    for (const channels of [1, 3]) {
      for (const quality of [50, 80]) {
        it(`quality ${quality}, ${channels === 1 ? 'gray' : 'RGB'}`, async () => {
          for (const [width, height] of [
            [1280, 720],
            [160, 120],
          ]) {
            for (const [frameNumber, timestampMs] of cases) {
              const img = stamped(width, height, channels, frameNumber, timestampMs);
              const out = await viaJpeg(img, quality);
              expect(out.channels).to.be.oneOf([1, 3]);
              expect(decode(out), `${width}x${height} #${frameNumber}`).to.deep.equal({
                frameNumber,
                timestampMs,
              });
            }
          }
        });
      }
    }

    it('after decimation by 4, and when drawn into an RGBA canvas', async () => {
      const img = stamped(1280, 720, 1, 31, NOW);
      const out = await viaJpeg(decimate(img, 4), 50);
      expect(out.width).to.equal(320);
      expect(decode(out)).to.deep.equal({ frameNumber: 31, timestampMs: NOW });
      expect(decode(toRgba(out))).to.deep.equal({ frameNumber: 31, timestampMs: NOW });
    });

    it('after smooth resampling by sharp (1280 -> 640 and 1280 -> 800)', async () => {
      for (const channels of [1, 3]) {
        for (const [to, quality] of [
          [640, 80],
          [640, 50],
          [800, 80],
        ]) {
          const img = stamped(1280, 720, channels, 1234, NOW);
          const out = await viaJpeg(img, quality, to);
          expect(out.width).to.equal(to);
          expect(decode(out), `${channels} ch -> ${to} q${quality}`).to.deep.equal({
            frameNumber: 1234,
            timestampMs: NOW,
          });
        }
      }
    });
  });

  describe('finds no code', () => {
    it('in noise, flat, black, white or inverted images, or ones too small to hold it', () => {
      const textured = background(640, 480, 1, 3);
      expect(decode({ data: textured, width: 640, height: 480, channels: 1 })).to.equal(null);
      const rnd = random(5);
      const noise = Uint8Array.from({ length: 640 * 480 * 3 }, () => Math.floor(rnd() * 256));
      expect(decodePixelCode(noise, 640, 480, 3)).to.equal(null);
      for (const v of [0, 128, 255]) {
        const flat = new Uint8Array(640 * 480).fill(v);
        expect(decodePixelCode(flat, 640, 480, 1), `flat ${v}`).to.equal(null);
      }
      const inverted = stamped(640, 480, 1, 3, NOW);
      inverted.data.forEach((v, i) => (inverted.data[i] = 255 - v));
      expect(decode(inverted)).to.equal(null);
      const img = stamped(640, 480, 1, 3, NOW);
      expect(decodePixelCode(img.data, 640, pixelCodeHeight(640) - 1, 1)).to.equal(null);
      expect(decodePixelCode(new Uint8Array(39 * 100), 39, 100, 1)).to.equal(null);
    });

    it('when all data blocks are black or all white', () => {
      for (const value of [0, 255]) {
        const img = stamped(640, 480, 1, 0, 0);
        for (let i = 0; i < PIXEL_CODE_LAYOUT.rows * PIXEL_CODE_LAYOUT.dataColumns; i++) {
          const [k, r] = dataBlock(i);
          const { x, y } = blockPixels(640, k, r);
          for (let yy = y[0]; yy < y[1]; yy++)
            img.data.fill(value, yy * 640 + x[0], yy * 640 + x[1]);
        }
        expect(decode(img), `all ${value}`).to.equal(null);
      }
    });

    it('when any one payload block is flipped (CRC)', () => {
      const bits = PIXEL_CODE_LAYOUT.rows * PIXEL_CODE_LAYOUT.dataColumns;
      const img = stamped(640, 480, 1, 0xdeadbeef, NOW);
      expect(decode(img)).to.not.equal(null);
      for (let i = 0; i < bits; i++) {
        const [k, r] = dataBlock(i);
        invertBlock(img, k, r);
        expect(decode(img), `bit ${i} flipped`).to.equal(null);
        invertBlock(img, k, r);
      }
      // CRC-16/CCITT detects every error of up to 3 bits in this payload.
      const rnd = random(11);
      for (let trial = 0; trial < 200; trial++) {
        const flipped = new Set<number>();
        while (flipped.size < 2 + (trial % 2)) flipped.add(Math.floor(rnd() * bits));
        for (const i of flipped) invertBlock(img, ...dataBlock(i));
        expect(decode(img), `bits ${[...flipped].join(',')} flipped`).to.equal(null);
        for (const i of flipped) invertBlock(img, ...dataBlock(i));
      }
      expect(decode(img)).to.deep.equal({ frameNumber: 0xdeadbeef, timestampMs: NOW });
    });

    it('when a reference block is flipped', () => {
      const { whiteColumns, blackColumns, rows } = PIXEL_CODE_LAYOUT;
      const img = stamped(640, 480, 3, 8, NOW);
      for (const k of [...whiteColumns, ...blackColumns]) {
        for (let r = 0; r < rows; r++) {
          invertBlock(img, k, r);
          expect(decode(img), `reference ${k},${r}`).to.equal(null);
          invertBlock(img, k, r);
        }
      }
    });
  });

  it('rejects images too small to hold the code and bad arguments', () => {
    const data = new Uint8Array(4096 * 400);
    expect(() => drawPixelCode(data, 63, 100, 1, 0, NOW, 0, 255)).to.throw(
      RangeError,
      /at least 64 px wide, got 63/,
    );
    expect(() => drawPixelCode(data, 1280, 95, 1, 0, NOW, 0, 255)).to.throw(
      RangeError,
      /1280 px wide must be at least 96 px high, got 95/,
    );
    expect(() => drawPixelCode(data, 1280, 96, 1, 0, NOW, 0, 255)).to.not.throw();
    expect(() => drawPixelCode(data, 4096, 400, 3, 0, NOW, 0, 255)).to.throw(
      RangeError,
      /needs 4915200/,
    );
    expect(() => drawPixelCode(data, 640, 480, 1, NaN, NOW, 0, 255)).to.throw(RangeError);
    expect(() => decodePixelCode(data, 640, 480, 2)).to.throw(RangeError, /1, 3 or 4/);
  });
});
