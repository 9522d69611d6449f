import { BadRequestError } from './errors.js';

/** What a recording's own name may hold: it becomes part of a file name. */
export const RECORDING_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

/** Fields of a recording's file name. */
export interface NameFields {
  /** Detector name. */
  detector: string;
  /** Format name. */
  format: string;
  /** Start time. */
  time: Date;
  /** The request's name, if any. */
  name?: string;
}

/** `20261130T204512Z`: sortable, no characters that file systems or shells treat specially. */
export function compactUtc(time: Date): string {
  return time
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

/**
 * The file name (without extension) of a recording from the configured pattern. Every field is
 * reduced to file-name-safe characters, so that no name can leave the recordings folder.
 */
export function recordingBaseName(pattern: string, fields: NameFields): string {
  if (fields.name !== undefined && !RECORDING_NAME.test(fields.name))
    throw new BadRequestError(
      `name: '${fields.name.slice(0, 100)}' is not a valid recording name: use 1 to 100 letters, digits, '_', '-' or '.', starting with a letter or digit`,
    );
  const values: Record<string, string> = {
    detector: fields.detector,
    format: fields.format,
    time: compactUtc(fields.time),
    name: fields.name ?? fields.detector,
  };
  const filled = pattern.replace(/\{(\w+)\}/g, (all, key: string) => values[key] ?? all);
  const safe = filled
    .replace(/[^A-Za-z0-9_.-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, 150);
  return safe.length > 0 ? safe : compactUtc(fields.time);
}
