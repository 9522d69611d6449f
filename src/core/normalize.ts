import { DisplayFrame, Dtype, Frame, PixelData } from './frame.js';
import { mapLinear, mapShift } from './lut.js';
import { NormalizeOptions, validateNormalizeOptions } from './normalize-options.js';
import { windowOf } from './window-stats.js';

// The public surface stays here: importers (and src/index.ts) keep importing from normalize.js.
export {
  DEFAULT_NORMALIZE_OPTIONS,
  validateNormalizeOptions,
  type NormalizationMode,
  type NormalizeOptions,
} from './normalize-options.js';
export { PERCENTILE_BINS, PERCENTILE_EXACT_LIMIT, percentileStep } from './window-stats.js';

/**
 * Computes the [min, max] window a mode gives for a frame.
 * - `minmax`: extreme values over all channels. NaN and ±Infinity (float32) are ignored; a frame
 *   without finite values gives {min: 0, max: 0}.
 * - `percentile`: with N values (finite ones for float32) and need(p) = max(1, ceil(p/100 * N)),
 *   the low/high value is the smallest v with count(values <= v) >= need(lowPercent/highPercent).
 *   uint8/uint16: exact, from a full 256/65536-bin histogram, up to PERCENTILE_EXACT_LIMIT (2^20)
 *   values; a larger frame takes the values at indices 0, k, 2k, … (k = percentileStep(N), the
 *   smallest odd k with N/k <= 2^20, e.g. 5 for 2048x2048) as its N values, so the window is the
 *   exact percentile of that sample (within a few hundredths of a percent in rank on camera
 *   images, see the tests). uint32/float32: 65536 equal bins over
 *   [min, max], bin i = min(65535, floor((v - min) * (65536 / (max - min)))), and the answer is the
 *   bin's lower edge min + i * (max - min) / 65536 — except when need == N, which gives max itself
 *   (as the exact rule would). So highPercent 100 returns max exactly, and lowPercent 0 returns min
 *   (need(0) = 1 is met in bin 0, whose lower edge is min).
 * - `shift`: {min: 0, max: 2^bitDepth - 1}.
 */
export function computeWindow(frame: Frame, o: NormalizeOptions): { min: number; max: number } {
  validateNormalizeOptions(o);
  const n = checkFrame(frame);
  return windowOf(frame, n, o);
}

/**
 * Maps a frame to 8 bit with the window of computeWindow():
 * out = clamp(round((v - min) * 255 / (max - min)), 0, 255), rounding halves up (127.5 -> 128).
 * A flat window (max == min) is not divided by: values above it give 255, the rest 0, so a flat
 * image is black. NaN gives 0, +Infinity 255, -Infinity 0. `shift` mode instead gives
 * min(255, v >> (bitDepth - 8)) for integer dtypes (min(255, v) when bitDepth <= 8) and
 * clamp(floor(v / 2^(bitDepth - 8)), 0, 255) for float32.
 * `out` (length width*height*channels) is filled and returned as `data` to spare an allocation.
 */
export function normalize(frame: Frame, o: NormalizeOptions, out?: Uint8Array): DisplayFrame {
  validateNormalizeOptions(o);
  const n = checkFrame(frame);
  if (out !== undefined && out.length !== n) {
    throw new RangeError(`out buffer has length ${out.length}, the frame needs ${n}`);
  }
  const dst = out ?? new Uint8Array(n);
  const window = windowOf(frame, n, o);
  if (o.mode === 'shift') mapShift(frame, dst, n);
  else mapLinear(frame, dst, n, window.min, window.max);

  return {
    data: dst,
    width: frame.width,
    height: frame.height,
    channels: frame.channels,
    window,
    source: frame,
  };
}

/** Validates the frame's shape and returns its number of values (width * height * channels). */
function checkFrame(frame: Frame): number {
  const { width, height, channels, dtype, data } = frame;
  if (channels !== 1 && channels !== 3) {
    throw new RangeError(`frame channels must be 1 or 3, got ${channels}`);
  }
  const expected = ARRAY_OF[dtype];
  if (expected === undefined || !(data instanceof expected)) {
    throw new TypeError(`frame dtype '${dtype}' does not match its ${data.constructor.name} data`);
  }
  const n = width * height * channels;
  if (!Number.isInteger(n) || n < 0 || data.length < n) {
    throw new RangeError(
      `frame data has ${data.length} values, ${width}x${height}x${channels} needs ${n}`,
    );
  }
  return n;
}

const ARRAY_OF: Record<Dtype, new (length: number) => PixelData> = {
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  float32: Float32Array,
};
