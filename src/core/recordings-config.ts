import { IsOptional } from 'class-validator';
import { IntegerIn, Text, isMapping, validateInto } from './validation.js';
import { ConfigError } from './errors.js';

/** `recordings.retention:` what the server deletes by itself (finished recordings only). */
export class RetentionConfig {
  /** Delete finished recordings older than this many days (default 0: keep). */
  @IntegerIn(0, 36_500)
  max_age_days = 0;

  /** Delete the oldest finished recordings while all of them together take more bytes than this (default 0: no limit). */
  @IntegerIn(0, Number.MAX_SAFE_INTEGER)
  max_total_bytes = 0;
}

/** `recordings:` where and how recordings are written. */
export class RecordingsConfig {
  /** Folder of the recordings, relative to the config file's folder (default ./recordings). */
  @Text()
  dir = './recordings';

  /** File name without extension: `{detector}`, `{format}`, `{time}` (UTC, 20261130T204512Z) and `{name}` (the request's name, else the detector) (default {name}_{time}). */
  @Text()
  name_pattern = '{name}_{time}';

  /** Seconds after which a recording stops by itself unless the request says otherwise (default 3600; 0: no limit). */
  @IntegerIn(0, 31_536_000)
  max_duration_s = 3600;

  /** Bytes after which a recording stops by itself unless the request says otherwise (default 0: no limit). */
  @IntegerIn(0, Number.MAX_SAFE_INTEGER)
  max_bytes = 0;

  /** Frames a raw recording (ome-tiff, ome-zarr) may queue in memory while the disk is busy; beyond, frames are dropped and counted (default 16). */
  @IntegerIn(1, 1024)
  queue_frames = 16;

  /** Automatic deletion of finished recordings (default: keep everything). */
  @IsOptional()
  retention: RetentionConfig = new RetentionConfig();
}

/** Checks `recordings:`; the nested `retention:` on its own so that problems name `recordings.retention.<key>`. */
export function parseRecordingsConfig(raw: unknown, problems: string[]): RecordingsConfig {
  let retention: unknown;
  let rest = raw;
  if (isMapping(raw)) ({ retention, ...rest } = raw);
  let config = new RecordingsConfig();
  try {
    config = validateInto(RecordingsConfig, rest, 'recordings');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  try {
    config.retention = validateInto(RetentionConfig, retention, 'recordings.retention');
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
  }
  if (!/\{(?:time|name)\}/.test(config.name_pattern) && !config.name_pattern.includes('{detector}'))
    problems.push(
      'recordings.name_pattern: must contain {time}, {name} or {detector} so that recordings get distinct names',
    );
  return config;
}
