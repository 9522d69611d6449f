import { Frame, typedArrayFor } from './frame.js';

/** How to shrink a frame before display. */
export interface SubsampleOptions {
  /** Integer decimation factor >= 1 (default 1 = full resolution). */
  factor: number;
  /** Maximum output width in pixels, 0 = no limit (default 0). */
  maxWidth: number;
  /** Maximum output height in pixels, 0 = no limit (default 0). */
  maxHeight: number;
}

/** Default options: no decimation, no size limit. */
export const DEFAULT_SUBSAMPLE_OPTIONS: SubsampleOptions = Object.freeze({
  factor: 1,
  maxWidth: 0,
  maxHeight: 0,
});

/** Throws a RangeError naming the first invalid option. */
export function validateSubsampleOptions(o: SubsampleOptions): void {
  if (!Number.isInteger(o.factor) || o.factor < 1) {
    throw new RangeError(`subsample factor must be an integer >= 1, got ${o.factor}`);
  }
  if (!Number.isInteger(o.maxWidth) || o.maxWidth < 0) {
    throw new RangeError(`subsample maxWidth must be an integer >= 0, got ${o.maxWidth}`);
  }
  if (!Number.isInteger(o.maxHeight) || o.maxHeight < 0) {
    throw new RangeError(`subsample maxHeight must be an integer >= 0, got ${o.maxHeight}`);
  }
}

/** The integer decimation factor actually used: max(factor, ceil(width/maxWidth), ceil(height/maxHeight)). */
export function effectiveFactor(width: number, height: number, o: SubsampleOptions): number {
  validateSubsampleOptions(o);
  let f = o.factor;
  // ceil(w / ceil(w / maxW)) <= maxW for integers, so this factor always honours the limit.
  if (o.maxWidth > 0) f = Math.max(f, Math.ceil(width / o.maxWidth));
  if (o.maxHeight > 0) f = Math.max(f, Math.ceil(height / o.maxHeight));
  return f;
}

/**
 * Decimates a frame like numpy `a[::f, ::f]`: keeps every f-th pixel of every f-th row, starting at (0, 0),
 * without averaging. Output is ceil(width/f) x ceil(height/f); the same frame object is returned when f == 1.
 */
export function subsample(frame: Frame, o: SubsampleOptions): Frame {
  const { width, height, channels } = frame;
  const f = effectiveFactor(width, height, o);
  if (f === 1) return frame;
  if (frame.data.length < width * height * channels) {
    throw new RangeError(
      `frame data has ${frame.data.length} values, ${width}x${height}x${channels} needs ${width * height * channels}`,
    );
  }
  const outW = Math.ceil(width / f);
  const outH = Math.ceil(height / f);
  const dst = typedArrayFor(frame.dtype, outW * outH * channels);
  if (channels === 1 && frame.data instanceof Uint16Array) {
    decimateGray16(frame.data, dst as Uint16Array, width, outW, outH, f);
  } else if (channels === 1) decimateGray(frame.data, dst, width, outW, outH, f);
  else decimateRgb(frame.data, dst, width, outW, outH, f);
  return { ...frame, data: dst, width: outW, height: outH };
}

// Typed arrays share indexing semantics, so one loop serves every dtype; the union keeps the call
// sites at most 4-way polymorphic, which V8 still optimises well.
type AnyTyped = Frame['data'];

function decimateGray(
  src: AnyTyped,
  dst: AnyTyped,
  width: number,
  outW: number,
  outH: number,
  f: number,
): void {
  const rowStep = width * f;
  let o = 0;
  for (let y = 0, row = 0; y < outH; y++, row += rowStep) {
    for (let x = 0, i = row; x < outW; x++, i += f) dst[o++] = src[i];
  }
}

// The scientific-sensor case gets a loop of its own: one array type, so V8 emits a plain load.
function decimateGray16(
  src: Uint16Array,
  dst: Uint16Array,
  width: number,
  outW: number,
  outH: number,
  f: number,
): void {
  const rowStep = width * f;
  let o = 0;
  for (let y = 0, row = 0; y < outH; y++, row += rowStep) {
    for (let x = 0, i = row; x < outW; x++, i += f) dst[o++] = src[i];
  }
}

function decimateRgb(
  src: AnyTyped,
  dst: AnyTyped,
  width: number,
  outW: number,
  outH: number,
  f: number,
): void {
  const rowStep = width * f * 3;
  const pixStep = f * 3;
  let o = 0;
  for (let y = 0, row = 0; y < outH; y++, row += rowStep) {
    for (let x = 0, i = row; x < outW; x++, i += pixStep) {
      dst[o++] = src[i];
      dst[o++] = src[i + 1];
      dst[o++] = src[i + 2];
    }
  }
}
