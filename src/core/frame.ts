/** Element type of a frame's pixel data. */
export type Dtype = 'uint8' | 'uint16' | 'uint32' | 'float32';

/** Typed array that holds a frame's pixels, row-major, channels interleaved. */
export type PixelData = Uint8Array | Uint16Array | Uint32Array | Float32Array;

/** Every dtype a frame may carry, in the order they are documented. */
export const DTYPES: readonly Dtype[] = ['uint8', 'uint16', 'uint32', 'float32'];

/** One image from a detector, as it travels from the detector to the stream workers. */
export interface Frame {
  /** Pixels, row-major, `channels` values per pixel, interleaved (RGB order for 3 channels). */
  data: PixelData;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (gray) or 3 (RGB). */
  channels: 1 | 3;
  /** Element type of `data`. */
  dtype: Dtype;
  /** Significant bits per value (e.g. 12 for a 12-bit sensor in uint16); for float32 the nominal range is [0, 2^bitDepth). */
  bitDepth: number;
  /** Detector-specific pixel format name (e.g. Mono16, RGB8, YUYV). */
  pixelFormat: string;
  /** Number of the frame since acquisition started, increasing by one per captured frame. */
  frameNumber: number;
  /** Capture time in nanoseconds since the Unix epoch. */
  timestamp: bigint;
  /** Name of the detector that produced the frame. */
  detector: string;
  /** Free-form detector metadata (exposure, gain, sequence numbers…). */
  metadata: Record<string, unknown>;
  /**
   * When the FrameSource received the frame, ms since the Unix epoch (`nowMs`). The source sets
   * it; detectors leave it out. A number on the frame, not a wrapper: nothing is allocated for it.
   */
  receivedAtMs?: number;
}

/** An 8-bit frame ready for a display encoder (JPEG, VP8…). */
export interface DisplayFrame {
  /** 8-bit pixels, row-major, channels interleaved. */
  data: Uint8Array;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** 1 (gray) or 3 (RGB). */
  channels: 1 | 3;
  /** The input values mapped to 0 and 255. */
  window: { min: number; max: number };
  /** The frame this one was made from (its pixel data may be larger). */
  source: Frame;
}

/** The typed array constructor for a dtype. */
export function typedArrayFor(dtype: Dtype, length: number): PixelData {
  switch (dtype) {
    case 'uint8':
      return new Uint8Array(length);
    case 'uint16':
      return new Uint16Array(length);
    case 'uint32':
      return new Uint32Array(length);
    case 'float32':
      return new Float32Array(length);
  }
}

/** Now on the clock of capture times, in ms since the Unix epoch: a double, so no bigint is made. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Capture time now, in nanoseconds since the Unix epoch. */
export function nowNs(): bigint {
  // timeOrigin + now() is monotonic within the process, unlike Date.now().
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}
