/**
 * GenICam PFNC pixel formats (the codes GigE Vision leaders carry) and their conversion to frame
 * pixels: 8-bit formats stay bytes, 10–16-bit formats become uint16 values, packed formats are
 * unpacked, Bayer mosaics are passed raw or demosaiced (bilinear) to RGB.
 */

import os from 'node:os';

/** How a format's bytes hold its values. */
type Packing =
  /** One byte per value. */
  | 'u8'
  /** Little-endian 16-bit containers. */
  | 'u16le'
  /** GigE Vision 1.x "Packed": 2 pixels in 3 bytes, the middle byte holding the low bits. */
  | 'gev10'
  | 'gev12'
  /** PFNC "p": an LSB-first bit stream (Mono10p: 4 pixels in 5 bytes, Mono12p: 2 in 3). */
  | 'p10'
  | 'p12';

/** What liveview knows about one pixel format. */
export interface PixelFormatInfo {
  /** PFNC name, e.g. Mono12Packed, BayerRG8, RGB8. */
  name: string;
  /** Element type of the frame it becomes (before any demosaicing). */
  dtype: 'uint8' | 'uint16';
  /** 1 (gray or raw Bayer mosaic) or 3 (RGB). */
  channels: 1 | 3;
  /** Significant bits per value. */
  bitDepth: number;
  /** Bytes an image of this format takes on the wire, without line or image padding. */
  bytesForImage(width: number, height: number): number;
}

interface FormatEntry extends PixelFormatInfo {
  code: number;
  packing: Packing;
  /** Bits per pixel on the wire. */
  bitsPerPixel: number;
  /** Colour of each 2x2 cell position (row-major), for Bayer formats; 0 = R, 1 = G, 2 = B. */
  bayer?: readonly [number, number, number, number];
  /** Channel order on the wire is B, G, R. */
  bgr?: boolean;
  /** Other names devices use for the same code (GigE Vision 1.x names). */
  aliases?: string[];
  /** Name of the unpacked data (Mono12Packed → Mono12). */
  unpackedName: string;
}

const FORMATS: FormatEntry[] = [];

function add(
  code: number,
  name: string,
  packing: Packing,
  bitDepth: number,
  extra: Partial<FormatEntry> = {},
): void {
  const channels = extra.channels ?? 1;
  const bitsPerPixel = (code >>> 16) & 0xff;
  FORMATS.push({
    code,
    name,
    packing,
    bitDepth,
    bitsPerPixel,
    channels,
    dtype: packing === 'u8' ? 'uint8' : 'uint16',
    unpackedName: name,
    bytesForImage: (width, height) => Math.ceil((width * bitsPerPixel) / 8) * height,
    ...extra,
  });
}

add(0x01080001, 'Mono8', 'u8', 8);
add(0x01100003, 'Mono10', 'u16le', 10);
add(0x01100005, 'Mono12', 'u16le', 12);
add(0x01100025, 'Mono14', 'u16le', 14);
add(0x01100007, 'Mono16', 'u16le', 16);
add(0x010c0004, 'Mono10Packed', 'gev10', 10, { unpackedName: 'Mono10' });
add(0x010c0006, 'Mono12Packed', 'gev12', 12, { unpackedName: 'Mono12' });
add(0x010a0046, 'Mono10p', 'p10', 10, { unpackedName: 'Mono10' });
add(0x010c0047, 'Mono12p', 'p12', 12, { unpackedName: 'Mono12' });
add(0x02180014, 'RGB8', 'u8', 8, { channels: 3, aliases: ['RGB8Packed'] });
add(0x02180015, 'BGR8', 'u8', 8, { channels: 3, bgr: true, aliases: ['BGR8Packed'] });

const R = 0;
const G = 1;
const B = 2;
const BAYER: [string, readonly [number, number, number, number]][] = [
  ['GR', [G, R, B, G]],
  ['RG', [R, G, G, B]],
  ['GB', [G, B, R, G]],
  ['BG', [B, G, G, R]],
];
/** Bayer codes in GR, RG, GB, BG order, per variant. */
const BAYER_CODES: [string, Packing, number, number[]][] = [
  ['8', 'u8', 8, [0x01080008, 0x01080009, 0x0108000a, 0x0108000b]],
  ['10', 'u16le', 10, [0x0110000c, 0x0110000d, 0x0110000e, 0x0110000f]],
  ['12', 'u16le', 12, [0x01100010, 0x01100011, 0x01100012, 0x01100013]],
  ['16', 'u16le', 16, [0x0110002e, 0x0110002f, 0x01100030, 0x01100031]],
  ['10Packed', 'gev10', 10, [0x010c0026, 0x010c0027, 0x010c0028, 0x010c0029]],
  ['12Packed', 'gev12', 12, [0x010c002a, 0x010c002b, 0x010c002c, 0x010c002d]],
  ['10p', 'p10', 10, [0x010a0056, 0x010a0058, 0x010a0054, 0x010a0052]],
  ['12p', 'p12', 12, [0x010c0057, 0x010c0059, 0x010c0055, 0x010c0053]],
];
for (const [suffix, packing, bitDepth, codes] of BAYER_CODES)
  BAYER.forEach(([pattern, cells], i) =>
    add(codes[i], `Bayer${pattern}${suffix}`, packing, bitDepth, {
      bayer: cells,
      unpackedName: `Bayer${pattern}${bitDepth}`,
    }),
  );

const BY_CODE = new Map(FORMATS.map((f) => [f.code, f]));
const BY_NAME = new Map<string, FormatEntry>();
for (const f of FORMATS) for (const n of [f.name, ...(f.aliases ?? [])]) BY_NAME.set(n, f);

/** Names of every supported format, for error messages and feature lists. */
export const SUPPORTED_PIXEL_FORMATS: readonly string[] = FORMATS.map((f) => f.name);

const hex = (code: number): string => `0x${(code >>> 0).toString(16).padStart(8, '0')}`;

function entry(code: number): FormatEntry {
  const f = BY_CODE.get(code >>> 0);
  if (!f)
    throw new Error(
      `pixel format ${hex(code)} is not supported (supported: ${SUPPORTED_PIXEL_FORMATS.join(', ')})`,
    );
  return f;
}

/** Describes a supported PFNC code; throws, naming the code, for others. */
export function pixelFormatInfo(code: number): PixelFormatInfo {
  const { name, dtype, channels, bitDepth, bytesForImage } = entry(code);
  return { name, dtype, channels, bitDepth, bytesForImage };
}

/** PFNC name of a code (the supported ones), e.g. 0x01080001 → Mono8; throws for others. */
export function pixelFormatName(code: number): string {
  return entry(code).name;
}

/** PFNC code of a name (or its GigE Vision 1.x alias, e.g. RGB8Packed); throws for others. */
export function pixelFormatCode(name: string): number {
  const f = BY_NAME.get(name);
  if (!f)
    throw new Error(
      `pixel format '${name}' is not supported (supported: ${SUPPORTED_PIXEL_FORMATS.join(', ')})`,
    );
  return f.code;
}

/** True when liveview can unpack the code. */
export function isSupportedPixelFormat(code: number): boolean {
  return BY_CODE.has(code >>> 0);
}

/** A converted image, ready to become a Frame. */
export interface UnpackedImage {
  /** Pixels, row-major, channels interleaved (RGB). */
  data: Uint8Array | Uint16Array;
  /** 1 (gray or raw mosaic) or 3 (RGB). */
  channels: 1 | 3;
  /** Element type of `data`. */
  dtype: 'uint8' | 'uint16';
  /** Significant bits per value. */
  bitDepth: number;
  /**
   * Name of the data as delivered: the device's name for unchanged layouts, the unpacked name
   * for packed ones (Mono12Packed → Mono12), RGB8/RGB12… after demosaicing.
   */
  pixelFormat: string;
}

const LITTLE_ENDIAN_HOST = os.endianness() === 'LE';

/**
 * Converts one image's bytes (as the stream delivered them) to frame pixels. `paddingX` bytes end
 * each line. Bayer formats stay a 1-channel mosaic unless `debayer`, which demosaics bilinearly
 * (each missing colour is the mean of the nearest samples of that colour in the 3x3
 * neighbourhood) to RGB of the same size and dtype. Throws for unknown codes and short data.
 */
export function unpackImage(
  code: number,
  data: Uint8Array,
  width: number,
  height: number,
  paddingX: number,
  debayer: boolean,
): UnpackedImage {
  const f = entry(code);
  const lineBytes = Math.ceil((width * f.bitsPerPixel) / 8);
  const stride = lineBytes + paddingX;
  const needed = height > 0 ? stride * (height - 1) + lineBytes : 0;
  if (data.length < needed)
    throw new Error(
      `${f.name} ${width}x${height} needs ${needed} bytes (line padding ${paddingX}), got ${data.length}`,
    );
  const values = width * height * f.channels;
  let out: Uint8Array | Uint16Array;
  switch (f.packing) {
    case 'u8':
      out = unpackU8(data, values, width * f.channels, height, stride, f.bgr === true);
      break;
    case 'u16le':
      out = unpackU16(data, width, height, stride);
      break;
    default:
      out = unpackBits(f.packing, data, width, height, paddingX === 0 ? 0 : stride);
  }
  if (f.bayer && debayer)
    return {
      data: demosaic(out, width, height, f.bayer),
      channels: 3,
      dtype: f.dtype,
      bitDepth: f.bitDepth,
      pixelFormat: `RGB${f.bitDepth}`,
    };
  return {
    data: out,
    channels: f.channels,
    dtype: f.dtype,
    bitDepth: f.bitDepth,
    pixelFormat: f.unpackedName,
  };
}

function unpackU8(
  data: Uint8Array,
  values: number,
  rowValues: number,
  height: number,
  stride: number,
  bgr: boolean,
): Uint8Array {
  if (!bgr && stride === rowValues)
    // No copy: the frame buffer belongs to this image alone.
    return new Uint8Array(data.buffer, data.byteOffset, values);
  const out = new Uint8Array(values);
  for (let y = 0; y < height; y++) {
    const s = y * stride;
    const o = y * rowValues;
    if (!bgr) {
      out.set(data.subarray(s, s + rowValues), o);
      continue;
    }
    for (let x = 0; x < rowValues; x += 3) {
      out[o + x] = data[s + x + 2];
      out[o + x + 1] = data[s + x + 1];
      out[o + x + 2] = data[s + x];
    }
  }
  return out;
}

function unpackU16(data: Uint8Array, width: number, height: number, stride: number): Uint16Array {
  const values = width * height;
  if (LITTLE_ENDIAN_HOST && stride === width * 2 && (data.byteOffset & 1) === 0)
    return new Uint16Array(data.buffer, data.byteOffset, values);
  const out = new Uint16Array(values);
  for (let y = 0; y < height; y++) {
    const s = y * stride;
    const o = y * width;
    for (let x = 0; x < width; x++) out[o + x] = data[s + 2 * x] | (data[s + 2 * x + 1] << 8);
  }
  return out;
}

/**
 * Packed formats. With `stride` 0 the image is one continuous stream (how devices send it
 * without line padding, whatever the width); otherwise each line starts at a multiple of `stride`.
 */
function unpackBits(
  packing: Packing,
  data: Uint8Array,
  width: number,
  height: number,
  stride: number,
): Uint16Array {
  const out = new Uint16Array(width * height);
  const lines = stride === 0 ? 1 : height;
  const n = stride === 0 ? width * height : width;
  for (let line = 0; line < lines; line++) {
    const s = line * stride;
    const o = line * n;
    switch (packing) {
      case 'gev12':
        for (let i = 0, p = s; i < n; i += 2, p += 3) {
          const b1 = data[p + 1];
          out[o + i] = (data[p] << 4) | (b1 & 0x0f);
          if (i + 1 < n) out[o + i + 1] = (data[p + 2] << 4) | (b1 >> 4);
        }
        break;
      case 'gev10':
        for (let i = 0, p = s; i < n; i += 2, p += 3) {
          const b1 = data[p + 1];
          out[o + i] = (data[p] << 2) | (b1 & 0x03);
          if (i + 1 < n) out[o + i + 1] = (data[p + 2] << 2) | ((b1 >> 4) & 0x03);
        }
        break;
      case 'p12':
        for (let i = 0, p = s; i < n; i += 2, p += 3) {
          const b1 = data[p + 1];
          out[o + i] = data[p] | ((b1 & 0x0f) << 8);
          if (i + 1 < n) out[o + i + 1] = (b1 >> 4) | (data[p + 2] << 4);
        }
        break;
      case 'p10':
        // An LSB-first bit stream: pixel i starts at bit 10 i.
        for (let i = 0; i < n; i++) {
          const bit = i * 10;
          const p = s + (bit >> 3);
          const word = data[p] | (data[p + 1] << 8);
          out[o + i] = (word >> (bit & 7)) & 0x3ff;
        }
        break;
      default:
        throw new Error(`unexpected packing ${packing}`);
    }
  }
  return out;
}

/**
 * Bilinear demosaicing: a sample keeps its own colour; each other colour is the rounded mean of
 * that colour's samples among the 8 neighbours (4 orthogonal for G, 2 or 4 for R and B), which
 * is the bilinear interpolation of a Bayer mosaic. Edges use the neighbours that exist.
 */
function demosaic<T extends Uint8Array | Uint16Array>(
  src: T,
  width: number,
  height: number,
  cells: readonly [number, number, number, number],
): T {
  const out = (
    src instanceof Uint8Array
      ? new Uint8Array(width * height * 3)
      : new Uint16Array(width * height * 3)
  ) as T;
  for (let y = 1; y < height - 1; y++) {
    demosaicPixel(src, out, width, height, cells, 0, y);
    demosaicInterior(src, out, width, y, cells);
    if (width > 1) demosaicPixel(src, out, width, height, cells, width - 1, y);
  }
  for (let x = 0; x < width; x++) {
    demosaicPixel(src, out, width, height, cells, x, 0);
    if (height > 1) demosaicPixel(src, out, width, height, cells, x, height - 1);
  }
  return out;
}

/** One interior row, with the neighbour pattern spelled out: this is the hot loop. */
function demosaicInterior(
  src: Uint8Array | Uint16Array,
  out: Uint8Array | Uint16Array,
  width: number,
  y: number,
  cells: readonly [number, number, number, number],
): void {
  const row = y * width;
  const up = row - width;
  const down = row + width;
  const first = cells[(y & 1) << 1];
  const second = cells[((y & 1) << 1) | 1];
  for (let x = 1; x < width - 1; x++) {
    const i = row + x;
    const o = i * 3;
    const own = x & 1 ? second : first;
    const v = src[i];
    if (own === G) {
      // Left/right are the other colour of this row, up/down the one of the next.
      const across = (src[i - 1] + src[i + 1] + 1) >> 1;
      const along = (src[up + x] + src[down + x] + 1) >> 1;
      const rowColour = x & 1 ? first : second;
      out[o + 1] = v;
      if (rowColour === R) {
        out[o] = across;
        out[o + 2] = along;
      } else {
        out[o] = along;
        out[o + 2] = across;
      }
    } else {
      const g = (src[i - 1] + src[i + 1] + src[up + x] + src[down + x] + 2) >> 2;
      const diagonal =
        (src[up + x - 1] + src[up + x + 1] + src[down + x - 1] + src[down + x + 1] + 2) >> 2;
      out[o + 1] = g;
      out[o + own] = v;
      out[o + 2 - own] = diagonal;
    }
  }
}

/** One pixel from whichever neighbours exist (the edges). */
function demosaicPixel(
  src: Uint8Array | Uint16Array,
  out: Uint8Array | Uint16Array,
  width: number,
  height: number,
  cells: readonly [number, number, number, number],
  x: number,
  y: number,
): void {
  const sum = [0, 0, 0];
  const count = [0, 0, 0];
  for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++)
    for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
      const c = cells[((ny & 1) << 1) | (nx & 1)];
      sum[c] += src[ny * width + nx];
      count[c]++;
    }
  const own = cells[((y & 1) << 1) | (x & 1)];
  const o = (y * width + x) * 3;
  for (let c = 0; c < 3; c++)
    out[o + c] =
      c === own
        ? src[y * width + x]
        : count[c] > 0
          ? Math.floor((sum[c] + (count[c] >> 1)) / count[c])
          : 0;
}
