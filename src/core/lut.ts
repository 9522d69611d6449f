import type { Frame } from './frame.js';

// Reused across calls so a 30 fps stream does not allocate 64 kB per frame; the mapping is
// synchronous, so no two calls can share it at once (each worker thread has its own module).
const lut = new Uint8Array(65536);

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** What `lut` holds now: a stream's window rarely changes, so the table is rebuilt only when it does. */
let lutKey = '';

/**
 * 'shift' mode: writes min(255, v >> (bitDepth - 8)) of the first `n` values to `dst` for integer
 * dtypes (min(255, v) when bitDepth <= 8), clamp(floor(v / 2^(bitDepth - 8)), 0, 255) for float32.
 */
export function mapShift(frame: Frame, dst: Uint8Array, n: number): void {
  const { data } = frame;
  const shift = Math.max(0, frame.bitDepth - 8);
  switch (frame.dtype) {
    case 'uint8':
    case 'uint16': {
      const size = frame.dtype === 'uint8' ? 256 : 65536;
      const key = `shift ${size} ${shift}`;
      if (key !== lutKey) {
        for (let v = 0; v < size; v++) {
          const s = v >>> shift;
          lut[v] = s > 255 ? 255 : s;
        }
        lutKey = key;
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
}

/**
 * Window modes: writes clamp(round((v - min) * 255 / (max - min)), 0, 255) of the first `n` values
 * to `dst`, rounding halves up; a flat window gives 255 above it and 0 elsewhere (see normalize()).
 */
export function mapLinear(
  frame: Frame,
  dst: Uint8Array,
  n: number,
  min: number,
  max: number,
): void {
  const { data } = frame;
  switch (frame.dtype) {
    case 'uint8':
    case 'uint16': {
      // The table uses the same expression as the direct loops, so results do not depend on dtype.
      const size = frame.dtype === 'uint8' ? 256 : 65536;
      const key = `linear ${size} ${min} ${max}`;
      if (key !== lutKey) {
        const range = max - min;
        for (let v = 0; v < size; v++) {
          if (range > 0) {
            const x = ((v - min) * 255) / range + 0.5;
            lut[v] = x > 0 ? (x < 255 ? x : 255) : 0;
          } else {
            lut[v] = v > min ? 255 : 0;
          }
        }
        lutKey = key;
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
