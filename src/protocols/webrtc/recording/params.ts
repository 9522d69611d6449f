import { IsOptional } from 'class-validator';
import { BadRequestError, ConfigError, IntegerIn, validateInto } from '../../../index.js';

/** Params of an `mp4` or `webm` recording (the `params` of its start request). */
export class VideoRecordingParams {
  /**
   * Lowest bitrate in bit/s, 50 000..100 000 000, that the stream's shared encoder keeps while
   * this recording runs, above what weak viewers report (default none: the stream's own policy;
   * never above its `max_bitrate`).
   */
  @IsOptional()
  @IntegerIn(50_000, 100_000_000)
  bitrate?: number;
}

/** Validates a recording's params; BadRequestError naming each wrong or unknown key. */
export function parseVideoRecordingParams(raw: unknown): VideoRecordingParams {
  try {
    return validateInto(VideoRecordingParams, raw, 'params');
  } catch (err) {
    if (err instanceof ConfigError) throw new BadRequestError(err.problems.join('; '));
    throw err;
  }
}
