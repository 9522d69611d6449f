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

const MODES: readonly NormalizationMode[] = ['minmax', 'fixed', 'percentile', 'shift'];

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
