import {
  ConfigError,
  IntegerIn,
  Mapping,
  NumberIn,
  OneOf,
  Text,
  keyPath,
  validateInto,
} from '../../index.js';
import { SUPPORTED_FORMATS, type ColorMode } from './convert.js';

/** Pixel format names as users write them (no trailing spaces). */
export const FORMAT_NAMES = SUPPORTED_FORMATS.map((f) => f.trim());

/** Options of a `type: v4l2` detector (`detectors.<name>.options`). */
export class V4l2Options {
  /** Device path, or a name under /dev/v4l/by-id (default /dev/video0). */
  @Text()
  device = '/dev/video0';

  /** Pixel format FourCC, e.g. YUYV, MJPG, Y16 (default '': the first supported one the device offers). */
  @OneOf(['', ...FORMAT_NAMES])
  pixel_format = '';

  /** Width in pixels (default 0: the device's current width). */
  @IntegerIn(0, 16384)
  width = 0;

  /** Height in pixels (default 0: the device's current height). */
  @IntegerIn(0, 16384)
  height = 0;

  /** Frames per second (default 0: the device's current rate). */
  @NumberIn(0, 1000)
  fps = 0;

  /** Colour cameras: deliver rgb, or gray (the luma only, cheaper) (default rgb). */
  @OneOf(['rgb', 'gray'])
  color: ColorMode = 'rgb';

  /** Controls set at start, by v4l2-ctl name, e.g. {brightness: 140, auto_exposure: Manual Mode} (default none). */
  @Mapping()
  controls: Record<string, unknown> = {};

  /** Driver buffers (default 4). */
  @IntegerIn(2, 32)
  buffers = 4;

  /** Milliseconds between attempts to reopen a device that disappeared (default 1000). */
  @IntegerIn(100, 60000)
  reconnect_ms = 1000;
}

/** Validates a v4l2 `options` block; messages name each wrong key under `path`. */
export function parseV4l2Options(raw: unknown, path: string): V4l2Options {
  const options = validateInto(V4l2Options, raw, path);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(options.controls)) {
    if (!['number', 'boolean', 'string'].includes(typeof value)) {
      problems.push(
        `${keyPath(path, `controls.${name}`)}: must be a number, true/false or a menu item name`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return options;
}

/** The device path for an option value (a bare name is looked up under /dev/v4l/by-id). */
export function devicePath(device: string): string {
  return device.startsWith('/') ? device : `/dev/v4l/by-id/${device}`;
}
