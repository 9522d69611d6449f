import type { Dtype, Frame } from '../index.js';

/** The format every frame of one raw recording has: the first frame's. */
export interface FrameFormat {
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (gray) or 3 (RGB, interleaved). */
  channels: 1 | 3;
  /** Element type. */
  dtype: Dtype;
  /** Significant bits of the first frame. */
  bitDepth: number;
  /** The detector's pixel format name of the first frame. */
  pixelFormat: string;
}

/** Bytes per value of each dtype. */
export const DTYPE_BYTES: Record<Dtype, 1 | 2 | 4> = { uint8: 1, uint16: 2, uint32: 4, float32: 4 };

/** The format of a frame. */
export function formatOf(frame: Frame): FrameFormat {
  const { width, height, channels, dtype, bitDepth, pixelFormat } = frame;
  return { width, height, channels, dtype, bitDepth, pixelFormat };
}

/**
 * Why a frame cannot go into a recording of format `f` (its size, channels or dtype changed, or
 * its data is shorter than they say), or undefined when it can.
 */
export function frameMismatch(f: FrameFormat, frame: Frame): string | undefined {
  if (
    frame.width !== f.width ||
    frame.height !== f.height ||
    frame.channels !== f.channels ||
    frame.dtype !== f.dtype
  ) {
    return (
      `frame ${frame.frameNumber} is ${describe(formatOf(frame))}, the recording is ` +
      `${describe(f)}: a recording keeps one frame format (start a new one after changing ` +
      'the size, region of interest or pixel format)'
    );
  }
  const expected = f.width * f.height * f.channels;
  if (frame.data.length < expected) {
    return `frame ${frame.frameNumber} holds ${frame.data.length} values, ${expected} expected`;
  }
  return undefined;
}

/** E.g. `640x480 uint16 gray`. */
export function describe(f: FrameFormat): string {
  return `${f.width}x${f.height} ${f.dtype} ${f.channels === 3 ? 'RGB' : 'gray'}`;
}

/** The frame's pixels as bytes, without a copy (little-endian, as the typed array holds them). */
export function pixelBytes(frame: Frame): Buffer {
  const values = frame.width * frame.height * frame.channels;
  return Buffer.from(frame.data.buffer, frame.data.byteOffset, values * DTYPE_BYTES[frame.dtype]);
}

/** Metadata keys read as the exposure time, with their factor to milliseconds. */
export const EXPOSURE_KEYS: readonly (readonly [key: string, toMs: number])[] = [
  ['exposure_ms', 1],
  ['exposure_us', 1e-3],
  ['exposure_s', 1e3],
];

/**
 * The frame's exposure time in ms from its metadata (`exposure_ms`, as the mock camera gives,
 * `exposure_us` or `exposure_s`), or undefined when it carries none.
 */
export function exposureMs(metadata: Record<string, unknown>): number | undefined {
  for (const [key, toMs] of EXPOSURE_KEYS) {
    const v = metadata[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v * toMs;
  }
  return undefined;
}

/** Seconds from `t0` to `t` (ns timestamps), exact to the nanosecond in a double. */
export function secondsSince(t0: bigint, t: bigint): number {
  return Number(t - t0) / 1e9;
}

/** A capture time (ns since the Unix epoch) as an ISO 8601 date, to the millisecond. */
export function isoDate(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}
