import { ValidateIf } from 'class-validator';
import { ConfigError } from './errors.js';
import { FiniteNumber, IntegerIn, NumberIn, OneOf, keyPath, validateInto } from './validation.js';
import type { ValidatedClass } from './validation.js';
import type { NormalizationMode, NormalizeOptions } from './normalize.js';
import type { SubsampleOptions } from './subsample.js';

/** The normalization modes a stream may use. */
export const NORMALIZATION_MODES: readonly NormalizationMode[] = [
  'minmax',
  'fixed',
  'percentile',
  'shift',
];

/**
 * Parameters every stream has (protocols extend this class with their own). Snake case, as in
 * the REST API and the YAML config.
 */
export class StreamParams {
  /**
   * Milliseconds between two processed frames, on average (default 33, about 30 fps): frames are
   * paced on the camera's own timeline, one may come up to min(4, throttle_ms / 4) ms early.
   */
  @IntegerIn(0, 60000)
  throttle_ms = 33;

  /** Keep every n-th pixel of every n-th row (default 1: full size). */
  @IntegerIn(1, 64)
  subsampling_factor = 1;

  /** Largest width sent; the frame is subsampled further to fit (default 0: no limit). */
  @IntegerIn(0, 16384)
  max_width = 0;

  /** Largest height sent; the frame is subsampled further to fit (default 0: no limit). */
  @IntegerIn(0, 16384)
  max_height = 0;

  /** How values are mapped to 8 bit for display (default minmax, per frame). */
  @OneOf(NORMALIZATION_MODES)
  normalization: NormalizationMode = 'minmax';

  /** Value shown black with `normalization: fixed` (required then). */
  @ValidateIf((p: StreamParams) => p.normalization === 'fixed' || p.norm_min !== undefined)
  @FiniteNumber()
  norm_min?: number;

  /** Value shown white with `normalization: fixed` (required then). */
  @ValidateIf((p: StreamParams) => p.normalization === 'fixed' || p.norm_max !== undefined)
  @FiniteNumber()
  norm_max?: number;

  /** Percent of the darkest values clipped with `normalization: percentile` (default 0.1). */
  @NumberIn(0, 100)
  clip_low_percent = 0.1;

  /** Percentile shown white with `normalization: percentile` (default 99.9). */
  @NumberIn(0, 100)
  clip_high_percent = 99.9;
}

/**
 * Validates stream params of a protocol's params class over `base` (the current defaults), with
 * the cross-field checks class-validator does not express; errors name `path.key`.
 */
export function parseStreamParams<P extends StreamParams>(
  cls: ValidatedClass<P>,
  raw: unknown,
  path: string,
  base?: P,
): P {
  const p = validateInto(cls, raw, path, base);
  const problems: string[] = [];
  if (p.normalization === 'fixed' && p.norm_min !== undefined && p.norm_max !== undefined) {
    if (p.norm_max <= p.norm_min) {
      problems.push(`${keyPath(path, 'norm_max')}: must be greater than norm_min`);
    }
  }
  if (p.clip_high_percent <= p.clip_low_percent) {
    problems.push(`${keyPath(path, 'clip_high_percent')}: must be greater than clip_low_percent`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return p;
}

/** The subsampling options of a stream's params. */
export function subsampleOptionsOf(p: StreamParams): SubsampleOptions {
  return { factor: p.subsampling_factor, maxWidth: p.max_width, maxHeight: p.max_height };
}

/** The normalization options of a stream's params. */
export function normalizeOptionsOf(p: StreamParams): NormalizeOptions {
  return {
    mode: p.normalization,
    min: p.norm_min,
    max: p.norm_max,
    lowPercent: p.clip_low_percent,
    highPercent: p.clip_high_percent,
  };
}
