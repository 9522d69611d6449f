import {
  ConfigError,
  Flag,
  IntegerIn,
  NumberIn,
  OneOf,
  PIXEL_CODE_LAYOUT,
  keyPath,
  pixelCodeHeight,
  validateInto,
} from '../../index.js';

/** Dtypes the mock camera delivers. */
export const MOCK_DTYPES = ['uint8', 'uint16', 'float32'] as const;
/** Element type of the mock camera's frames. */
export type MockDtype = (typeof MOCK_DTYPES)[number];

/** Test images the mock camera draws. */
export const MOCK_PATTERNS = ['features', 'gradient', 'noise'] as const;
/** A test image kind. */
export type MockPattern = (typeof MOCK_PATTERNS)[number];

/** Faults the mock camera can simulate, for reliability tests. */
export const MOCK_FAULTS = ['none', 'stall', 'throw', 'fail_start'] as const;
/** A simulated fault. */
export type MockFault = (typeof MOCK_FAULTS)[number];

/** Largest significant bit depth per dtype (the smallest is 1). */
export const MAX_BIT_DEPTH: Record<MockDtype, number> = { uint8: 8, uint16: 16, float32: 32 };

/** Range of the exposure time in ms. */
export const EXPOSURE_RANGE = [0.01, 10000] as const;
/** Range of the analog gain. */
export const GAIN_RANGE = [0.1, 64] as const;
/** Range of the frame rate in frames per second. */
export const FPS_RANGE = [0.1, 1000] as const;

/** Options of a `type: mock` detector (`detectors.<name>.options`). */
export class MockOptions {
  /** Image width in pixels (default 1280; at least 64 with the pixel code). */
  @IntegerIn(1, 16384)
  width = 1280;

  /** Image height in pixels (default 720). */
  @IntegerIn(1, 16384)
  height = 720;

  /** Element type (default uint16). */
  @OneOf(MOCK_DTYPES)
  dtype: MockDtype = 'uint16';

  /** Significant bits (default 12): values run from 0 to 2^bit_depth - 1. */
  @IntegerIn(1, 32)
  bit_depth = 12;

  /** 1 = gray, 3 = RGB (default 1). */
  @OneOf([1, 3])
  channels: 1 | 3 = 1;

  /** Frames per second (default 30); the exposure time caps it as on a real camera. */
  @NumberIn(FPS_RANGE[0], FPS_RANGE[1])
  fps = 30;

  /** What the image shows (default features: moving spots on a gradient, with noise). */
  @OneOf(MOCK_PATTERNS)
  pattern: MockPattern = 'features';

  /** Read noise, in percent of full scale at gain 1 (default 2). */
  @NumberIn(0, 100)
  noise = 2;

  /** Exposure time in ms (default 10); brightness grows with it until the pixels saturate. */
  @NumberIn(EXPOSURE_RANGE[0], EXPOSURE_RANGE[1])
  exposure_ms = 10;

  /** Analog gain (default 1); multiplies signal and noise. */
  @NumberIn(GAIN_RANGE[0], GAIN_RANGE[1])
  gain = 1;

  /** Stamp frame number and capture time into the top-left pixels (default true). */
  @Flag()
  pixel_code = true;

  /** Seed of the noise generator, for reproducible images (default 1). */
  @IntegerIn(0, 2 ** 31 - 1)
  seed = 1;

  /** Simulated fault (default none). */
  @OneOf(MOCK_FAULTS)
  fault: MockFault = 'none';

  /** Frames delivered normally before the fault strikes (default 0). */
  @IntegerIn(0, 1e9)
  fault_after_frames = 0;
}

/** Validates a mock `options` block; messages name each wrong key under `path`. */
export function parseMockOptions(raw: unknown, path: string): MockOptions {
  const options = validateInto(MockOptions, raw, path);
  const problems: string[] = [];
  const maxBits = MAX_BIT_DEPTH[options.dtype];
  if (options.bit_depth > maxBits) {
    problems.push(
      `${keyPath(path, 'bit_depth')}: must be an integer between 1 and ${maxBits} for dtype ${options.dtype}`,
    );
  }
  if (options.pixel_code) problems.push(...pixelCodeProblems(options.width, options.height, path));
  if (problems.length > 0) throw new ConfigError(problems);
  return options;
}

/** Why an image of this size cannot carry the pixel code (empty if it can). */
export function pixelCodeProblems(width: number, height: number, path: string): string[] {
  const minWidth = PIXEL_CODE_LAYOUT.minWidth;
  if (width < minWidth) {
    return [
      `${keyPath(path, 'width')}: must be at least ${minWidth} with pixel_code: true (or set pixel_code: false)`,
    ];
  }
  const minHeight = pixelCodeHeight(width);
  if (height < minHeight) {
    return [
      `${keyPath(path, 'height')}: must be at least ${minHeight} for width ${width} with pixel_code: true (or set pixel_code: false)`,
    ];
  }
  return [];
}
