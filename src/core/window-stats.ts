import type { Frame } from './frame.js';
import type { NormalizeOptions } from './normalize-options.js';

/** Number of equal-width histogram bins used for uint32/float32 percentiles. */
export const PERCENTILE_BINS = 65536;

/**
 * Most uint8/uint16 values whose percentiles are exact (a 1280x720 RGB or a 1024x1024 frame):
 * larger frames are sampled at every k-th value (see computeWindow), which keeps the window search
 * of a 2048x2048 frame at a fifth of the cost.
 */
export const PERCENTILE_EXACT_LIMIT = 1 << 20;

/** The sampling step for `n` values: 1 up to PERCENTILE_EXACT_LIMIT, else the smallest odd k with n / k <= the limit. */
export function percentileStep(n: number): number {
  if (n <= PERCENTILE_EXACT_LIMIT) return 1;
  // Odd, so that on an image whose width is even the samples still visit every column over the rows.
  const k = Math.ceil(n / PERCENTILE_EXACT_LIMIT);
  return k % 2 === 0 ? k + 1 : k;
}

// Reused across calls so a 30 fps stream does not allocate 256 kB per frame; the window search is
// synchronous, so no two calls can share it at once (each worker thread has its own module).
const hist = new Uint32Array(PERCENTILE_BINS);

/**
 * The [min, max] window mode `o.mode` gives for the first `n` values of an already checked frame
 * (the rules are documented on computeWindow()).
 */
export function windowOf(
  frame: Frame,
  n: number,
  o: NormalizeOptions,
): { min: number; max: number } {
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
    // Two pixels per 32-bit load, each half with its own extremes: comparing the two halves with
    // each other first would be a coin-flip branch on noisy images (5x slower on sensor noise).
    const words = new Uint32Array(a.buffer, a.byteOffset, n >>> 1);
    const m = words.length;
    let lo2 = lo;
    let hi2 = hi;
    for (let k = 0; k < m; k++) {
      const x = words[k];
      const v = x & 0xffff;
      const w = x >>> 16;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
      if (w < lo2) lo2 = w;
      if (w > hi2) hi2 = w;
    }
    if (lo2 < lo) lo = lo2;
    if (hi2 > hi) hi = hi2;
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
    const step = percentileStep(n);
    let total = n;
    if (step > 1) total = histStep(frame.data as Uint8Array | Uint16Array, n, step);
    else if (frame.dtype === 'uint8') histUint8(frame.data as Uint8Array, n);
    else histUint16(frame.data as Uint16Array, n);
    const [lo, hi] = findBin(bins, need(lowPercent, total), need(highPercent, total));
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

/** Counts values 0, k, 2k, … below n; returns how many. */
function histStep(a: Uint8Array | Uint16Array, n: number, step: number): number {
  let count = 0;
  for (let i = 0; i < n; i += step) {
    hist[a[i]]++;
    count++;
  }
  return count;
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
