import type { Dtype } from '../index.js';
import { isoDate, type FrameFormat } from './frame-format.js';
import type { PlaneLog } from './plane-log.js';

/**
 * The Zarr v2 documents of an OME-NGFF 0.4 recording, without I/O: a group whose one array
 * (`0`, axes t, c, y, x) holds one chunk per frame.
 */

/** Path of the image array inside the group. */
export const ARRAY_PATH = '0';

/** Zarr v2 (numpy) dtype of each frame dtype, little-endian. */
export const ZARR_DTYPE: Record<Dtype, string> = {
  uint8: '|u1',
  uint16: '<u2',
  uint32: '<u4',
  float32: '<f4',
};

/** The group's `.zgroup`. */
export function zgroupJson(): string {
  return json({ zarr_format: 2 });
}

/** The array's `.zarray` with `frames` frames along t, one chunk per frame. */
export function zarrayJson(
  f: FrameFormat,
  frames: number,
  compressor: Record<string, unknown> | null,
): string {
  return json({
    zarr_format: 2,
    shape: [frames, f.channels, f.height, f.width],
    chunks: [1, f.channels, f.height, f.width],
    dtype: ZARR_DTYPE[f.dtype],
    compressor,
    fill_value: 0,
    order: 'C',
    filters: null,
    // OME-NGFF 0.4 asks for nested chunk keys.
    dimension_separator: '/',
  });
}

/** Key of frame `t`'s chunk, relative to the group. */
export function chunkKey(t: number): string {
  return `${ARRAY_PATH}/${t}/0/0/0`;
}

/** What the group's attributes describe. */
export interface ZarrImage {
  /** Image name (the detector's). */
  name: string;
  /** The frames' format. */
  format: FrameFormat;
  /** Pixel size in micrometres, when known. */
  pixelSizeUm?: number;
  /** Per-frame times, exposures and frame numbers. */
  planes: PlaneLog;
  /** Frames in the array (the first `count` of `planes`). */
  count: number;
}

/**
 * The group's `.zattrs`: OME-NGFF 0.4 `multiscales` (one level; scale t = mean frame interval in
 * s, y and x = the pixel size in µm when known, else 1 without a unit) and `liveview`: the first
 * frame's capture time (exact ns as a string) and, per frame, `delta_t` (s since the first
 * frame), `frame_numbers` and `exposure_ms` (when frames carried one).
 */
export function groupAttributes(image: ZarrImage): Record<string, unknown> {
  const space = image.pixelSizeUm !== undefined ? { unit: 'micrometer' } : {};
  const pixel = image.pixelSizeUm ?? 1;
  const { planes, count } = image;
  const liveview: Record<string, unknown> = {
    detector: image.name,
    dtype: image.format.dtype,
    bit_depth: image.format.bitDepth,
    pixel_format: image.format.pixelFormat,
    frames: count,
  };
  if (planes.firstTimestamp !== undefined) {
    liveview.first_timestamp_ns = planes.firstTimestamp.toString();
    liveview.first_timestamp = isoDate(planes.firstTimestamp);
  }
  liveview.delta_t = planes.deltaT.slice(0, count);
  liveview.frame_numbers = planes.frameNumbers.slice(0, count);
  if (planes.hasExposure) liveview.exposure_ms = planes.exposureMs.slice(0, count);
  return {
    multiscales: [
      {
        version: '0.4',
        name: image.name,
        axes: [
          { name: 't', type: 'time', unit: 'second' },
          { name: 'c', type: 'channel' },
          { name: 'y', type: 'space', ...space },
          { name: 'x', type: 'space', ...space },
        ],
        datasets: [
          {
            path: ARRAY_PATH,
            coordinateTransformations: [
              { type: 'scale', scale: [planes.meanInterval(count) ?? 1, 1, pixel, pixel] },
            ],
          },
        ],
      },
    ],
    liveview,
  };
}

/** An attributes document as `.zattrs` text. */
export function attributesJson(attributes: Record<string, unknown>): string {
  return json(attributes);
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}
