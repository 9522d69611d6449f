import { DisplayFrame, Dtype, Frame, PixelData } from './frame.js';

/**
 * How values are mapped to 0..255.
 * - `minmax`: window = smallest and largest value of the frame, all channels jointly (keeps RGB balance).
 * - `fixed`: window = the configured `min`/`max`.
 * - `percentile`: window = the `lowPercent` and `highPercent` percentiles of all values (see computeWindow).
 * - `shift`: no window search; `v >> (bitDepth - 8)` so a sensor's full range fills the display.
 */
export type NormalizationMode = 'minmax' | 'fixed' | 'percentile' | 'shift';

/** Options of the 8-bit mapping. */
export interface NormalizeOptions {
  /** How the window is chosen (default 'minmax'). */
  mode: NormalizationMode;
  /** Value mapped to 0 in 'fixed' mode (required there, ignored otherwise; no default). */
  min?: number;
  /** Value mapped to 255 in 'fixed' mode (required there, ignored otherwise; no default). */
  max?: number;
  /** Lower percentile (percent, 0..100) in 'percentile' mode (default 0.1). */
  lowPercent: number;
  /** Upper percentile (percent, 0..100, > lowPercent) in 'percentile' mode (default 99.9). */
  highPercent: number;
}

/** Default options (minmax, 0.1 %, 99.9 %). */
export const DEFAULT_NORMALIZE_OPTIONS: NormalizeOptions = Object.freeze({
  mode: 'minmax',
  lowPercent: 0.1,
  highPercent: 99.9,
});

/** Number of equal-width histogram bins used for uint32/float32 percentiles. */
export const PERCENTILE_BINS = 65536;

const MODES: readonly NormalizationMode[] = ['minmax', 'fixed', 'percentile', 'shift'];

// Reused across calls so a 30 fps stream does not allocate 320 kB per frame; normalize() is
// synchronous, so no two calls can share them at once (each worker thread has its own module).
const lut = new Uint8Array(65536);
const hist = new Uint32Array(PERCENTILE_BINS);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws a RangeError naming the first invalid option. */
export function validateNormalizeOptions(o: NormalizeOptions): void {
  if (!MODES.includes(o.mode)) {
    throw new RangeError(`normalization mode must be one of ${MODES.join(', ')}, got '${o.mode}'`);
  }
  checkPercent('lowPercent', o.lowPercent);
  checkPercent('highPercent', o.highPercent);
  if (o.lowPercent >= o.highPercent) {
    throw new RangeError(
      `lowPercent (${o.lowPercent}) must be smaller than highPercent (${o.highPercent})`,
    );
  }
  if (o.mode === 'fixed') {
    const missing = [o.min === undefined && 'min', o.max === undefined && 'max'].filter(Boolean);
    if (missing.length > 0) {
      throw new RangeError(`'fixed' normalization needs ${missing.join(' and ')}`);
    }
    if (!Number.isFinite(o.min) || !Number.isFinite(o.max)) {
      throw new RangeError(
        `'fixed' normalization needs finite min and max, got ${o.min}..${o.max}`,
      );
    }
    if ((o.min as number) > (o.max as number)) {
      throw new RangeError(`'fixed' normalization min (${o.min}) is greater than max (${o.max})`);
    }
  }
}

function checkPercent(name: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 100)) {
    throw new RangeError(`${name} must be a number between 0 and 100, got ${p}`);
  }
}

/**
 * Computes the [min, max] window a mode gives for a frame.
 * - `minmax`: extreme values over all channels. NaN and ±Infinity (float32) are ignored; a frame
 *   without finite values gives {min: 0, max: 0}.
 * - `percentile`: with N values (finite ones for float32) and need(p) = max(1, ceil(p/100 * N)),
 *   the low/high value is the smallest v with count(values <= v) >= need(lowPercent/highPercent).
 *   uint8/uint16: exact, from a full 256/65536-bin histogram. uint32/float32: 65536 equal bins over
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
  const { data } = frame;

  if (o.mode === 'shift') {
    const shift = Math.max(0, frame.bitDepth - 8);
    switch (frame.dtype) {
      case 'uint8':
      case 'uint16': {
        const size = frame.dtype === 'uint8' ? 256 : 65536;
        for (let v = 0; v < size; v++) {
          const s = v >>> shift;
          lut[v] = s > 255 ? 255 : s;
        }
        applyLut(data as Uint8Array | Uint16Array, dst, n, frame.dtype === 'uint8');
        break;
      }
      case 'uint32':
        shiftUint32(data as Uint32Array, dst, n, shift);
        break;
      case 'float32':
        // Multiplying by a power of two is exact, so this equals the documented division.
        shiftFloat32(data as Float32Array, dst, n, 2 ** (8 - frame.bitDepth));
        break;
    }
  } else {
    const { min, max } = window;
    switch (frame.dtype) {
      case 'uint8':
      case 'uint16': {
        // The table uses the same expression as the direct loops, so results do not depend on dtype.
        const size = frame.dtype === 'uint8' ? 256 : 65536;
        const range = max - min;
        for (let v = 0; v < size; v++) {
          if (range > 0) {
            const x = ((v - min) * 255) / range + 0.5;
            lut[v] = x > 0 ? (x < 255 ? x : 255) : 0;
          } else {
            lut[v] = v > min ? 255 : 0;
          }
        }
        applyLut(data as Uint8Array | Uint16Array, dst, n, frame.dtype === 'uint8');
        break;
      }
      case 'uint32':
        linearUint32(data as Uint32Array, dst, n, min, max);
        break;
      case 'float32':
        linearFloat32(data as Float32Array, dst, n, min, max);
        break;
    }
  }

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

function windowOf(frame: Frame, n: number, o: NormalizeOptions): { min: number; max: number } {
  switch (o.mode) {
    case 'fixed':
      return { min: o.min as number, max: o.max as number };
    case 'shift': {
      const b = frame.bitDepth;
      if (!Number.isInteger(b) || b < 0 || b > 32) {
        throw new RangeError(`'shift' normalization needs a bitDepth between 0 and 32, got ${b}`);
      }
      return { min: 0, max: 2 ** b - 1 };
    }
    case 'minmax':
      return minMax(frame, n);
    case 'percentile':
      return percentileWindow(frame, n, o.lowPercent, o.highPercent);
  }
}

// Separate loops per array type keep every element access monomorphic for V8.
function minMax(frame: Frame, n: number): { min: number; max: number } {
  if (frame.dtype === 'float32') return minMaxFloat32(frame.data as Float32Array, n);
  if (n === 0) return { min: 0, max: 0 };
  if (frame.dtype === 'uint16') return minMaxUint16(frame.data as Uint16Array, n);
  if (frame.dtype === 'uint8') return minMaxUint8(frame.data as Uint8Array, n);
  return minMaxUint32(frame.data as Uint32Array, n);
}

function minMaxUint8(a: Uint8Array, n: number): { min: number; max: number } {
  let lo = a[0];
  let hi = lo;
  for (let i = 1; i < n; i++) {
    const v = a[i];
    // lo <= hi always holds, so a value below lo cannot also be above hi.
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  return { min: lo, max: hi };
}

function minMaxUint16(a: Uint16Array, n: number): { min: number; max: number } {
  let lo = a[0];
  let hi = lo;
  let i = 1;
  if ((a.byteOffset & 3) === 0) {
    // Reading two pixels per 32-bit load is ~1.5x faster; which half is which does not matter here.
    const words = new Uint32Array(a.buffer, a.byteOffset, n >>> 1);
    const m = words.length;
    for (let k = 0; k < m; k++) {
      const x = words[k];
      const v = x & 0xffff;
      const w = x >>> 16;
      if (v < w) {
        if (v < lo) lo = v;
        if (w > hi) hi = w;
      } else {
        if (w < lo) lo = w;
        if (v > hi) hi = v;
      }
    }
    i = m * 2;
  }
  for (; i < n; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  return { min: lo, max: hi };
}

function minMaxUint32(a: Uint32Array, n: number): { min: number; max: number } {
  let lo = a[0];
  let hi = lo;
  for (let i = 1; i < n; i++) {
    const v = a[i];
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
  }
  return { min: lo, max: hi };
}

function minMaxFloat32(a: Float32Array, n: number): { min: number; max: number } {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    // Comparisons with NaN are false, and ±Infinity is excluded explicitly: neither may widen the window.
    if (v < lo && v !== -Infinity) lo = v;
    if (v > hi && v !== Infinity) hi = v;
  }
  return lo <= hi ? { min: lo, max: hi } : { min: 0, max: 0 };
}

/** need(p) of the percentile rule; the epsilon absorbs binary rounding of decimal percents
 * (99.9 % of 1000 values must be 999, not 1000). */
function need(percent: number, total: number): number {
  return Math.max(1, Math.ceil((percent * total) / 100 - 1e-6));
}

/** Smallest bin indices whose cumulative counts reach targetLow and targetHigh. */
function findBin(bins: number, targetLow: number, targetHigh: number): [number, number] {
  let cum = 0;
  let low = -1;
  for (let i = 0; i < bins; i++) {
    cum += hist[i];
    if (low < 0 && cum >= targetLow) low = i;
    if (cum >= targetHigh) return [low, i];
  }
  // Unreachable while the targets do not exceed the histogram's total.
  return [low < 0 ? bins - 1 : low, bins - 1];
}

function percentileWindow(
  frame: Frame,
  n: number,
  lowPercent: number,
  highPercent: number,
): { min: number; max: number } {
  if (n === 0) return { min: 0, max: 0 };
  if (frame.dtype === 'uint8' || frame.dtype === 'uint16') {
    const bins = frame.dtype === 'uint8' ? 256 : 65536;
    hist.fill(0, 0, bins);
    if (frame.dtype === 'uint8') histUint8(frame.data as Uint8Array, n);
    else histUint16(frame.data as Uint16Array, n);
    const [lo, hi] = findBin(bins, need(lowPercent, n), need(highPercent, n));
    return { min: lo, max: hi };
  }

  const { min, max } = minMax(frame, n);
  if (max === min) return { min, max };
  hist.fill(0);
  const total =
    frame.dtype === 'float32'
      ? histFloat32(frame.data as Float32Array, n, min, max)
      : histUint32(frame.data as Uint32Array, n, min, max);
  if (total === 0) return { min: 0, max: 0 };
  const needLow = need(lowPercent, total);
  const needHigh = need(highPercent, total);
  const [lo, hi] = findBin(PERCENTILE_BINS, needLow, needHigh);
  const range = max - min;
  const edge = (i: number): number => min + (i / PERCENTILE_BINS) * range;
  return {
    min: needLow >= total ? max : edge(lo),
    max: needHigh >= total ? max : edge(hi),
  };
}

function histUint8(a: Uint8Array, n: number): void {
  for (let i = 0; i < n; i++) hist[a[i]]++;
}

function histUint16(a: Uint16Array, n: number): void {
  let i = 0;
  if ((a.byteOffset & 3) === 0) {
    // Two pixels per 32-bit load; the order of the halves does not matter for counting.
    const words = new Uint32Array(a.buffer, a.byteOffset, n >>> 1);
    const m = words.length;
    for (let k = 0; k < m; k++) {
      const x = words[k];
      hist[x & 0xffff]++;
      hist[x >>> 16]++;
    }
    i = m * 2;
  }
  for (; i < n; i++) hist[a[i]]++;
}

function histUint32(a: Uint32Array, n: number, min: number, max: number): number {
  // Multiplying is faster than dividing per value; the scale stays finite because a float32 or
  // uint32 range is at least 1.4e-45.
  const scale = PERCENTILE_BINS / (max - min);
  const last = PERCENTILE_BINS - 1;
  for (let i = 0; i < n; i++) {
    // | 0 is floor here: the operand is in [0, 65536].
    const b = ((a[i] - min) * scale) | 0;
    hist[b > last ? last : b]++;
  }
  return n;
}

/** Bins the finite values and returns how many there were. */
function histFloat32(a: Float32Array, n: number, min: number, max: number): number {
  // Multiplying is faster than dividing per value; the scale stays finite because a float32 or
  // uint32 range is at least 1.4e-45.
  const scale = PERCENTILE_BINS / (max - min);
  const last = PERCENTILE_BINS - 1;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = a[i];
    // The window holds only finite values, so this also skips NaN and ±Infinity.
    if (v >= min && v <= max) {
      const b = ((v - min) * scale) | 0;
      hist[b > last ? last : b]++;
      total++;
    }
  }
  return total;
}

function applyLut(src: Uint8Array | Uint16Array, dst: Uint8Array, n: number, u8: boolean): void {
  const t = lut;
  // Two copies of the loop so each sees a single source array type.
  if (u8) {
    const a = src as Uint8Array;
    for (let i = 0; i < n; i++) dst[i] = t[a[i]];
    return;
  }
  const a = src as Uint16Array;
  let i = 0;
  if (LITTLE_ENDIAN && (a.byteOffset & 3) === 0 && (dst.byteOffset & 3) === 0) {
    // Four pixels per iteration with 32-bit loads and stores roughly halves the time of the
    // byte-by-byte loop; the packing below assumes little-endian memory order.
    const m = n >>> 2;
    const src32 = new Uint32Array(a.buffer, a.byteOffset, m * 2);
    const dst32 = new Uint32Array(dst.buffer, dst.byteOffset, m);
    for (let j = 0, k = 0; j < m; j++, k += 2) {
      const x = src32[k];
      const y = src32[k + 1];
      dst32[j] = t[x & 0xffff] | (t[x >>> 16] << 8) | (t[y & 0xffff] << 16) | (t[y >>> 16] << 24);
    }
    i = m * 4;
  }
  for (; i < n; i++) dst[i] = t[a[i]];
}

// The linear loops store x = (v - min) * 255 / range + 0.5 clamped to [0, 255] and let the
// Uint8Array store truncate it: that is round-half-up, about 1.5x faster than Math.round and
// branch-free; NaN fails `x > 0` and becomes 0. A flat window (range 0) never reaches the division.

function linearUint32(a: Uint32Array, dst: Uint8Array, n: number, min: number, max: number): void {
  const range = max - min;
  if (!(range > 0)) {
    for (let i = 0; i < n; i++) dst[i] = a[i] > min ? 255 : 0;
    return;
  }
  for (let i = 0; i < n; i++) {
    const x = ((a[i] - min) * 255) / range + 0.5;
    dst[i] = x > 0 ? (x < 255 ? x : 255) : 0;
  }
}

function linearFloat32(
  a: Float32Array,
  dst: Uint8Array,
  n: number,
  min: number,
  max: number,
): void {
  const range = max - min;
  if (!(range > 0)) {
    for (let i = 0; i < n; i++) dst[i] = a[i] > min ? 255 : 0;
    return;
  }
  for (let i = 0; i < n; i++) {
    const x = ((a[i] - min) * 255) / range + 0.5;
    dst[i] = x > 0 ? (x < 255 ? x : 255) : 0;
  }
}

function shiftUint32(a: Uint32Array, dst: Uint8Array, n: number, shift: number): void {
  for (let i = 0; i < n; i++) {
    // >>> keeps values above 2^31 unsigned.
    const s = a[i] >>> shift;
    dst[i] = s > 255 ? 255 : s;
  }
}

function shiftFloat32(a: Float32Array, dst: Uint8Array, n: number, scale: number): void {
  for (let i = 0; i < n; i++) {
    // The store truncates, which is floor for x >= 0; NaN fails `x > 0` and becomes 0.
    const x = a[i] * scale;
    dst[i] = x > 0 ? (x < 255 ? x : 255) : 0;
  }
}
