/**
 * The UC2F packet: ImSwitch's binary frame format, so that its decoders read ours. No Node APIs
 * here: the same compiled module is served to browsers as /lib/uc2f.js.
 *
 * Layout (little-endian): a 32-byte header (magic 'UC2F', version u8, 3 padding bytes, width
 * u32, height u32, stride u32, bit depth u16, channels u8, pixel format u8, timestamp u64 ns),
 * the payload size u32, the payload (raw, LZ4 frame or Zstandard), then our 16-byte trailer
 * (magic 'UC2X', frame number u64, compression code u8, 3 reserved bytes) that ImSwitch's
 * decoders ignore because they read exactly `payload size` bytes.
 */

/** Bytes of the UC2F header. */
export const UC2F_HEADER_BYTES = 32;
/** Bytes of the header plus the payload size field. */
export const UC2F_PREFIX_BYTES = UC2F_HEADER_BYTES + 4;
/** Bytes of liveview's trailer. */
export const UC2F_TRAILER_BYTES = 16;
/** Format version written (ImSwitch's decoders accept 1). */
export const UC2F_VERSION = 1;

const MAGIC = [0x55, 0x43, 0x32, 0x46]; // 'UC2F'
const TRAILER_MAGIC = [0x55, 0x43, 0x32, 0x58]; // 'UC2X'

/** Pixel format codes: 0-2 are ImSwitch's, the others liveview's. */
export const PIXEL_FORMATS = {
  /** uint16 gray (ImSwitch PIXFMT_GRAY16). */
  GRAY16: 0,
  /** uint16 Bayer RG mosaic (ImSwitch PIXFMT_BAYER_RG16). */
  BAYER_RG16: 1,
  /** uint16 RGB, interleaved (ImSwitch PIXFMT_RGB48). */
  RGB48: 2,
  /** uint8 gray. */
  GRAY8: 3,
  /** uint8 RGB, interleaved. */
  RGB24: 4,
  /** float32 gray, IEEE 754 little-endian. */
  GRAY32F: 5,
  /** float32 RGB, interleaved. */
  RGB96F: 6,
  /** uint32 gray. */
  GRAY32: 7,
} as const;

/** Name of a pixel format code. */
export type PixelFormatName = keyof typeof PIXEL_FORMATS;

/** Compression codes of the trailer. */
export const COMPRESSIONS = ['none', 'lz4', 'zstd'] as const;
/** A payload compression. */
export type Compression = (typeof COMPRESSIONS)[number];

/** Element type of a packet's pixels. */
export type PacketDtype = 'uint8' | 'uint16' | 'uint32' | 'float32';

const FORMAT_OF: Record<string, number> = {
  'uint16/1': PIXEL_FORMATS.GRAY16,
  'uint16/3': PIXEL_FORMATS.RGB48,
  'uint8/1': PIXEL_FORMATS.GRAY8,
  'uint8/3': PIXEL_FORMATS.RGB24,
  'float32/1': PIXEL_FORMATS.GRAY32F,
  'float32/3': PIXEL_FORMATS.RGB96F,
  'uint32/1': PIXEL_FORMATS.GRAY32,
};

const DTYPE_OF: Record<number, { dtype: PacketDtype; channels: number }> = {
  [PIXEL_FORMATS.GRAY16]: { dtype: 'uint16', channels: 1 },
  [PIXEL_FORMATS.BAYER_RG16]: { dtype: 'uint16', channels: 1 },
  [PIXEL_FORMATS.RGB48]: { dtype: 'uint16', channels: 3 },
  [PIXEL_FORMATS.GRAY8]: { dtype: 'uint8', channels: 1 },
  [PIXEL_FORMATS.RGB24]: { dtype: 'uint8', channels: 3 },
  [PIXEL_FORMATS.GRAY32F]: { dtype: 'float32', channels: 1 },
  [PIXEL_FORMATS.RGB96F]: { dtype: 'float32', channels: 3 },
  [PIXEL_FORMATS.GRAY32]: { dtype: 'uint32', channels: 1 },
};

const BYTES_PER_VALUE: Record<PacketDtype, number> = {
  uint8: 1,
  uint16: 2,
  uint32: 4,
  float32: 4,
};

/** What the header says about an image. */
export interface PacketHeader {
  /** Format version. */
  version: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Bytes per row of the uncompressed payload. */
  stride: number;
  /** Significant bits per value. */
  bitDepth: number;
  /** 1 or 3. */
  channels: number;
  /** Pixel format code (PIXEL_FORMATS). */
  pixelFormat: number;
  /** Capture time, ns since the Unix epoch. */
  timestamp: bigint;
}

/** A parsed packet: header, payload (still compressed) and the trailer's fields if present. */
export interface ParsedPacket extends PacketHeader {
  /** The payload as sent (compressed unless `compression` is `none`). */
  payload: Uint8Array;
  /** Frame number from the trailer (undefined for a packet without trailer). */
  frameNumber: number | undefined;
  /** Compression from the trailer (undefined for a packet without trailer). */
  compression: Compression | undefined;
}

/** The pixel format code for a dtype and channel count; throws if there is none. */
export function pixelFormatCode(dtype: PacketDtype, channels: number): number {
  const code = FORMAT_OF[`${dtype}/${channels}`];
  if (code === undefined) {
    throw new RangeError(`UC2F has no pixel format for ${channels}-channel ${dtype} images`);
  }
  return code;
}

/** Dtype and channels of a pixel format code. */
export function dtypeOfPixelFormat(code: number): { dtype: PacketDtype; channels: number } {
  const found = DTYPE_OF[code];
  if (!found) throw new RangeError(`unknown UC2F pixel format code ${code}`);
  return found;
}

/** Bytes per row for an image. */
export function strideOf(width: number, channels: number, dtype: PacketDtype): number {
  return width * channels * BYTES_PER_VALUE[dtype];
}

/** Writes the header, payload size, payload and trailer into one new buffer. */
export function buildPacket(
  header: Omit<PacketHeader, 'version'>,
  payload: Uint8Array,
  frameNumber: number,
  compression: Compression,
): Uint8Array {
  const out = new Uint8Array(UC2F_PREFIX_BYTES + payload.length + UC2F_TRAILER_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint8(4, UC2F_VERSION);
  view.setUint32(8, header.width, true);
  view.setUint32(12, header.height, true);
  view.setUint32(16, header.stride, true);
  view.setUint16(20, header.bitDepth, true);
  view.setUint8(22, header.channels);
  view.setUint8(23, header.pixelFormat);
  view.setBigUint64(24, header.timestamp, true);
  view.setUint32(32, payload.length, true);
  out.set(payload, UC2F_PREFIX_BYTES);
  const t = UC2F_PREFIX_BYTES + payload.length;
  out.set(TRAILER_MAGIC, t);
  view.setBigUint64(t + 4, BigInt(frameNumber), true);
  view.setUint8(t + 12, COMPRESSIONS.indexOf(compression));
  return out;
}

/** Reads a packet; throws a RangeError naming what is wrong with a malformed one. */
export function parsePacket(bytes: Uint8Array): ParsedPacket {
  if (bytes.length < UC2F_PREFIX_BYTES) {
    throw new RangeError(
      `UC2F packet too short: ${bytes.length} bytes, the header needs ${UC2F_PREFIX_BYTES}`,
    );
  }
  for (let i = 0; i < 4; i++) {
    if (bytes[i] !== MAGIC[i]) throw new RangeError('not a UC2F packet (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint8(4);
  if (version !== UC2F_VERSION) throw new RangeError(`unsupported UC2F version ${version}`);
  const size = view.getUint32(32, true);
  const end = UC2F_PREFIX_BYTES + size;
  if (bytes.length < end) {
    throw new RangeError(
      `UC2F packet truncated: payload of ${size} bytes, ${bytes.length - UC2F_PREFIX_BYTES} present`,
    );
  }
  let frameNumber: number | undefined;
  let compression: Compression | undefined;
  if (
    bytes.length >= end + UC2F_TRAILER_BYTES &&
    TRAILER_MAGIC.every((b, i) => bytes[end + i] === b)
  ) {
    frameNumber = Number(view.getBigUint64(end + 4, true));
    const code = view.getUint8(end + 12);
    compression = COMPRESSIONS[code];
    // A decoder must not guess: an unknown algorithm is an error, not "the last one announced".
    if (compression === undefined)
      throw new RangeError(
        `UC2F trailer: unknown compression code ${code} (known: 0..${COMPRESSIONS.length - 1})`,
      );
  }
  return {
    version,
    width: view.getUint32(8, true),
    height: view.getUint32(12, true),
    stride: view.getUint32(16, true),
    bitDepth: view.getUint16(20, true),
    channels: view.getUint8(22),
    pixelFormat: view.getUint8(23),
    timestamp: view.getBigUint64(24, true),
    payload: bytes.subarray(UC2F_PREFIX_BYTES, end),
    frameNumber,
    compression,
  };
}

/** Views decompressed payload bytes as the typed array of the packet's pixel format (copies if unaligned). */
export function pixelsOf(
  header: Pick<PacketHeader, 'pixelFormat' | 'width' | 'height' | 'stride'>,
  raw: Uint8Array,
): Uint8Array | Uint16Array | Uint32Array | Float32Array {
  const { dtype, channels } = dtypeOfPixelFormat(header.pixelFormat);
  const bytes = BYTES_PER_VALUE[dtype];
  const rowBytes = header.width * channels * bytes;
  if (header.stride !== rowBytes) {
    throw new RangeError(
      `UC2F stride ${header.stride} differs from ${rowBytes} (padded rows are not supported)`,
    );
  }
  const expected = rowBytes * header.height;
  if (raw.length !== expected) {
    throw new RangeError(
      `UC2F payload has ${raw.length} bytes, ${header.width}x${header.height} needs ${expected}`,
    );
  }
  // Typed arrays need aligned offsets; a copy is the price of an odd offset (new Uint8Array copies
  // also a Node Buffer, whose slice() would be a view).
  const aligned = raw.byteOffset % bytes === 0 ? raw : new Uint8Array(raw);
  const count = expected / bytes;
  switch (dtype) {
    case 'uint8':
      return aligned;
    case 'uint16':
      return new Uint16Array(aligned.buffer, aligned.byteOffset, count);
    case 'uint32':
      return new Uint32Array(aligned.buffer, aligned.byteOffset, count);
    case 'float32':
      return new Float32Array(aligned.buffer, aligned.byteOffset, count);
  }
}
