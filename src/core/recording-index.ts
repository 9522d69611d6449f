import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { errorMessage } from './errors.js';
import type { Logger } from './logger.js';

/** Where a recording is in its life. */
export type RecordingState = 'recording' | 'stopping' | 'finished' | 'error';

/** Why a finished recording stopped. */
export type StopReason = 'requested' | 'max_duration' | 'max_bytes' | 'shutdown' | 'ended';

/** A recording as the API lists it. */
export interface RecordingInfo {
  /** Id (a UUID). */
  id: string;
  /** Recorded detector. */
  detectorName: string;
  /** Format name. */
  format: string;
  /** File (or directory) name inside the recordings folder. */
  file: string;
  /** State. */
  state: RecordingState;
  /** Start, ISO 8601. */
  startedAt: string;
  /** End, ISO 8601, once finished. */
  stoppedAt?: string;
  /** Frames in the file. */
  framesWritten: number;
  /** Frames lost because the disk or muxer could not keep up. */
  framesDropped: number;
  /** Bytes on disk. */
  bytes: number;
  /** Seconds between the capture times of the first and last frames written. */
  durationS: number;
  /** Why it stopped, once finished. */
  stopReason?: StopReason;
  /** What went wrong, in state `error`. */
  error?: string;
}

/** File in the recordings folder that lists the recordings (so the list survives a restart). */
export const INDEX_FILE = '.recordings.json';

/** The persisted list of recordings: loaded at start, rewritten (atomically) after each change. */
export class RecordingIndex {
  private readonly entries = new Map<string, RecordingInfo>();
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /** Reads the list; a recording that was running when the server went away is marked failed. */
  async load(): Promise<void> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path.join(this.dir, INDEX_FILE), 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.logger.warn(
          `cannot read the list of recordings (${INDEX_FILE}): ${errorMessage(err)}; starting with an empty list`,
        );
      return;
    }
    if (!Array.isArray(raw)) return;
    for (const entry of raw as RecordingInfo[]) {
      if (typeof entry?.id !== 'string' || typeof entry.file !== 'string') continue;
      if (entry.state === 'recording' || entry.state === 'stopping') {
        entry.state = 'error';
        entry.error =
          'the server stopped while this recording ran: the file holds what was written until then';
      }
      this.entries.set(entry.id, entry);
    }
  }

  /** Every entry, oldest first. */
  all(): RecordingInfo[] {
    return [...this.entries.values()].filter((e) => e.state === 'finished' || e.state === 'error');
  }

  /** A finished entry by id. */
  find(id: string): RecordingInfo | undefined {
    const entry = this.entries.get(id);
    return entry && (entry.state === 'finished' || entry.state === 'error') ? entry : undefined;
  }

  /** Whether an entry uses this file name. */
  hasFile(file: string): boolean {
    for (const e of this.entries.values()) if (e.file === file) return true;
    return false;
  }

  /** Adds or replaces an entry and saves. */
  put(info: RecordingInfo): Promise<void> {
    this.entries.set(info.id, { ...info });
    return this.save();
  }

  /** Removes an entry and saves. */
  remove(id: string): Promise<void> {
    this.entries.delete(id);
    return this.save();
  }

  /** Resolves once every change so far is on disk (or was reported as failed). */
  flush(): Promise<void> {
    return this.writing;
  }

  private save(): Promise<void> {
    this.writing = this.writing.then(async () => {
      const file = path.join(this.dir, INDEX_FILE);
      try {
        await writeFile(`${file}.tmp`, JSON.stringify([...this.entries.values()], null, 1));
        await rename(`${file}.tmp`, file);
      } catch (err) {
        // A full disk must not fail a recording's stop: the list is rebuilt in memory anyway.
        this.logger.warn(
          `cannot save the list of recordings (${INDEX_FILE}): ${errorMessage(err)}`,
        );
      }
    });
    return this.writing;
  }
}
