import type { PixelData } from '../index.js';

/**
 * RGB pixels de-interleaved into three planes (all R, all G, all B), as bytes: the layout of a
 * chunk [1, c, y, x]. Gray pixels come back as a view of the frame's own buffer (no copy).
 * Values are moved as integers of their width, so float bit patterns (NaN payloads) survive.
 */
export function planarBytes(data: PixelData, pixels: number, channels: 1 | 3): Buffer {
  const width = data.BYTES_PER_ELEMENT;
  if (channels === 1) return Buffer.from(data.buffer, data.byteOffset, pixels * width);
  const Ints = width === 1 ? Uint8Array : width === 2 ? Uint16Array : Uint32Array;
  const src = new Ints(data.buffer as ArrayBuffer, data.byteOffset, pixels * 3);
  const out = new Ints(pixels * 3);
  const g = pixels;
  const b = 2 * pixels;
  for (let i = 0, j = 0; i < pixels; i++, j += 3) {
    out[i] = src[j];
    out[g + i] = src[j + 1];
    out[b + i] = src[j + 2];
  }
  return Buffer.from(out.buffer, 0, out.byteLength);
}
