import type { DisplayFrame } from '../../index.js';

/** A picture in I420 (YUV 4:2:0, planar): what VP8 and H.264 encoders take. */
export interface I420Picture {
  /** Even width in pixels. */
  width: number;
  /** Even height in pixels. */
  height: number;
  /** Y, U and V planes one after the other, no padding (width*height*3/2 bytes). */
  data: Uint8Array;
}

/**
 * Converts an 8-bit display frame to I420. Gray goes straight to Y with U = V = 128 (no RGB
 * round trip); RGB uses BT.601 limited range, as browsers decode it. An odd width or height
 * loses its last column or row, since 4:2:0 needs even sizes. `out`, a picture of the same size
 * that no encoder still reads, is written over and returned instead of a new one (default none).
 */
export function toI420(
  frame: Pick<DisplayFrame, 'data' | 'width' | 'height' | 'channels'>,
  out?: I420Picture,
): I420Picture {
  const width = frame.width & ~1;
  const height = frame.height & ~1;
  if (width === 0 || height === 0) {
    throw new RangeError(
      `a ${frame.width}x${frame.height} frame is too small for video (2x2 at least)`,
    );
  }
  const ySize = width * height;
  const reuse = out !== undefined && out.width === width && out.height === height;
  const data = reuse ? out.data : new Uint8Array(ySize + ySize / 2);
  if (frame.channels === 1) grayToI420(frame.data, frame.width, width, height, data);
  else rgbToI420(frame.data, frame.width, width, height, data);
  return { width, height, data };
}

function grayToI420(
  src: Uint8Array,
  srcWidth: number,
  width: number,
  height: number,
  out: Uint8Array,
): void {
  if (srcWidth === width) out.set(src.subarray(0, width * height), 0);
  else
    for (let y = 0; y < height; y++)
      out.set(src.subarray(y * srcWidth, y * srcWidth + width), y * width);
  out.fill(128, width * height);
}

function rgbToI420(
  src: Uint8Array,
  srcWidth: number,
  width: number,
  height: number,
  out: Uint8Array,
): void {
  const ySize = width * height;
  const cw = width / 2;
  const uBase = ySize;
  const vBase = ySize + ySize / 4;
  for (let y = 0; y < height; y++) {
    const row = y * srcWidth * 3;
    for (let x = 0; x < width; x++) {
      const i = row + x * 3;
      const r = src[i];
      const g = src[i + 1];
      const b = src[i + 2];
      out[y * width + x] = ((66 * r + 129 * g + 25 * b + 128) >> 8) + 16;
    }
  }
  // Chroma from the mean of each 2x2 block.
  for (let cy = 0; cy < height / 2; cy++) {
    const r0 = 2 * cy * srcWidth * 3;
    const r1 = r0 + srcWidth * 3;
    for (let cx = 0; cx < cw; cx++) {
      const a = r0 + cx * 6;
      const b2 = r1 + cx * 6;
      const r = (src[a] + src[a + 3] + src[b2] + src[b2 + 3]) >> 2;
      const g = (src[a + 1] + src[a + 4] + src[b2 + 1] + src[b2 + 4]) >> 2;
      const b = (src[a + 2] + src[a + 5] + src[b2 + 2] + src[b2 + 5]) >> 2;
      out[uBase + cy * cw + cx] = ((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128;
      out[vBase + cy * cw + cx] = ((112 * r - 94 * g - 18 * b + 128) >> 8) + 128;
    }
  }
}
