import type { Dtype, PixelData } from '../../index.js';

/** Pixel formats liveview converts, by FourCC. */
export const SUPPORTED_FORMATS = [
  'YUYV',
  'UYVY',
  'GREY',
  'Y10 ',
  'Y12 ',
  'Y16 ',
  'NV12',
  'RGB3',
  'BGR3',
  'MJPG',
] as const;

/** How a YUV camera's frames are delivered: colour, or just the luma (what most analyses need). */
export type ColorMode = 'rgb' | 'gray';

/** A converted image, ready to become a Frame. */
export interface Converted {
  data: PixelData;
  channels: 1 | 3;
  dtype: Dtype;
  bitDepth: number;
}

/** Input geometry: the driver's row length in bytes may exceed the visible pixels. */
export interface Geometry {
  width: number;
  height: number;
  bytesPerLine: number;
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

/** BT.601 limited-range YCbCr to RGB, into `out` at `o`. */
function yuvToRgb(y: number, u: number, v: number, out: Uint8Array, o: number): void {
  const c = 298 * (y - 16);
  const d = u - 128;
  const e = v - 128;
  out[o] = clamp((c + 409 * e + 128) >> 8);
  out[o + 1] = clamp((c - 100 * d - 208 * e + 128) >> 8);
  out[o + 2] = clamp((c + 516 * d + 128) >> 8);
}

/** Packed 4:2:2 (YUYV or UYVY). */
function packed422(bytes: Uint8Array, g: Geometry, mode: ColorMode, yFirst: boolean): Converted {
  const { width, height, bytesPerLine } = g;
  const [y0, u, y1, v] = yFirst ? [0, 1, 2, 3] : [1, 0, 3, 2];
  if (mode === 'gray') {
    const out = new Uint8Array(width * height);
    for (let row = 0; row < height; row++) {
      const s = row * bytesPerLine + y0;
      const o = row * width;
      for (let x = 0; x < width; x++) out[o + x] = bytes[s + 2 * x];
    }
    return { data: out, channels: 1, dtype: 'uint8', bitDepth: 8 };
  }
  const out = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const s = row * bytesPerLine;
    const o = row * width * 3;
    for (let x = 0; x < width; x += 2) {
      const p = s + x * 2;
      yuvToRgb(bytes[p + y0], bytes[p + u], bytes[p + v], out, o + x * 3);
      if (x + 1 < width) yuvToRgb(bytes[p + y1], bytes[p + u], bytes[p + v], out, o + x * 3 + 3);
    }
  }
  return { data: out, channels: 3, dtype: 'uint8', bitDepth: 8 };
}

/** NV12: a Y plane, then interleaved U/V at half resolution. */
function nv12(bytes: Uint8Array, g: Geometry, mode: ColorMode): Converted {
  const { width, height, bytesPerLine } = g;
  if (mode === 'gray') return gray8(bytes, g);
  const out = new Uint8Array(width * height * 3);
  const uvBase = bytesPerLine * height;
  for (let row = 0; row < height; row++) {
    const uvRow = uvBase + (row >> 1) * bytesPerLine;
    for (let x = 0; x < width; x++) {
      const uv = uvRow + (x & ~1);
      yuvToRgb(bytes[row * bytesPerLine + x], bytes[uv], bytes[uv + 1], out, (row * width + x) * 3);
    }
  }
  return { data: out, channels: 3, dtype: 'uint8', bitDepth: 8 };
}

function gray8(bytes: Uint8Array, g: Geometry): Converted {
  const { width, height, bytesPerLine } = g;
  const out = new Uint8Array(width * height);
  for (let row = 0; row < height; row++)
    out.set(bytes.subarray(row * bytesPerLine, row * bytesPerLine + width), row * width);
  return { data: out, channels: 1, dtype: 'uint8', bitDepth: 8 };
}

/** Y10/Y12/Y16: little-endian 16-bit containers. */
function gray16(bytes: Uint8Array, g: Geometry, bitDepth: number): Converted {
  const { width, height, bytesPerLine } = g;
  const out = new Uint16Array(width * height);
  for (let row = 0; row < height; row++) {
    const s = row * bytesPerLine;
    for (let x = 0; x < width; x++)
      out[row * width + x] = bytes[s + 2 * x] | (bytes[s + 2 * x + 1] << 8);
  }
  return { data: out, channels: 1, dtype: 'uint16', bitDepth };
}

function rgb24(bytes: Uint8Array, g: Geometry, bgr: boolean): Converted {
  const { width, height, bytesPerLine } = g;
  const out = new Uint8Array(width * height * 3);
  for (let row = 0; row < height; row++) {
    const s = row * bytesPerLine;
    const o = row * width * 3;
    if (!bgr) {
      out.set(bytes.subarray(s, s + width * 3), o);
      continue;
    }
    for (let x = 0; x < width * 3; x += 3) {
      out[o + x] = bytes[s + x + 2];
      out[o + x + 1] = bytes[s + x + 1];
      out[o + x + 2] = bytes[s + x];
    }
  }
  return { data: out, channels: 3, dtype: 'uint8', bitDepth: 8 };
}

/** Converts one raw frame (not MJPG: that one is decoded by the detector). */
export function convertFrame(
  format: string,
  bytes: Uint8Array,
  g: Geometry,
  mode: ColorMode,
): Converted {
  switch (format) {
    case 'YUYV':
      return packed422(bytes, g, mode, true);
    case 'UYVY':
      return packed422(bytes, g, mode, false);
    case 'GREY':
      return gray8(bytes, g);
    case 'Y10 ':
      return gray16(bytes, g, 10);
    case 'Y12 ':
      return gray16(bytes, g, 12);
    case 'Y16 ':
      return gray16(bytes, g, 16);
    case 'NV12':
      return nv12(bytes, g, mode);
    case 'RGB3':
      return rgb24(bytes, g, false);
    case 'BGR3':
      return rgb24(bytes, g, true);
    default:
      throw new Error(
        `pixel format '${format.trim()}' is not supported (supported: ${SUPPORTED_FORMATS.map((f) => f.trim()).join(', ')})`,
      );
  }
}

/** The pixel format name frames carry, e.g. YUYV→RGB8 or Y16 → Mono16. */
export function framePixelFormat(format: string, c: Converted): string {
  if (c.channels === 3) return 'RGB8';
  return `Mono${c.bitDepth}`;
}
