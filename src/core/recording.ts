import type { Frame } from './frame.js';
import type { FrameSubscription } from './frame-source.js';
import type { Logger } from './logger.js';

/** Token under which plugins bind their recording formats (a protocol may also list its own). */
export const RecordingFormat = Symbol.for('liveview.RecordingFormat');

/** What a format is told about the recording it writes. */
export interface RecordingTarget {
  /** Where to write: a file, or a directory for directory formats; nothing exists there yet. */
  readonly path: string;
  /** The recorded detector's name. */
  readonly detectorName: string;
  /** Physical pixel size in micrometres (x = y), when the detector or the request knows it. */
  readonly pixelSizeUm?: number;
  /** The request's `params` for this format (the format validates them; unknown keys are errors). */
  readonly params: Record<string, unknown>;
  /** The recording's own log lines go here. */
  readonly logger: Logger;
}

/** What a running format gets from the recording manager. */
export interface RecordingContext extends RecordingTarget {
  /** Frames a raw recording may queue while its writer is busy (`recordings.queue_frames`, default 16). */
  readonly queueFrames: number;
  /**
   * Subscribes to every frame the detector delivers (not a stream's throttled view), in a queue
   * of `capacity` frames: when the writer falls behind the oldest frames are dropped and counted.
   */
  subscribeFrames(capacity: number): Promise<FrameSubscription>;
}

/** Counters of a running or finished recording, read by the manager while it runs. */
export interface RecordingStats {
  /** Frames in the file. */
  framesWritten: number;
  /** Frames the recording lost because the writer could not keep up. */
  framesDropped: number;
  /** Bytes on disk. */
  bytesWritten: number;
  /** Capture time of the first frame written, ns since the Unix epoch. */
  firstTimestamp?: bigint;
  /** Capture time of the last frame written, ns since the Unix epoch. */
  lastTimestamp?: bigint;
}

/** One running recording as its format runs it. */
export interface RecordingSink {
  /** Live counters. */
  readonly stats: RecordingStats;
  /**
   * Settles when the recording ended by itself: rejects with a message for the user when it
   * failed (disk full, I/O error, the stream it records ended); the file is left readable.
   */
  readonly ended: Promise<void>;
  /** Stops taking frames and finishes the file; idempotent; resolves when the file is complete. */
  stop(): Promise<void>;
}

/** A recording format (`ome-tiff`, `ome-zarr`, `mp4`, `webm`…). */
export interface RecordingFormat {
  /** Name used in the REST API and the config, e.g. `ome-tiff`. */
  readonly name: string;
  /** One-line description for listings. */
  readonly description: string;
  /** Ending of the file or directory name, with its dot, e.g. `.ome.tif`. */
  readonly extension: string;
  /** True when a recording is a directory (downloaded as one zip file). */
  readonly directory: boolean;
  /** MIME type of the file download (a directory format downloads as application/zip). */
  readonly mimeType: string;
  /** Starts a recording; rejects with a LiveViewError for bad params or a failed start. */
  start(context: RecordingContext): Promise<RecordingSink>;
}

/** A writer of raw frames, called with one frame at a time (never concurrently). */
export interface FrameWriter {
  /** Appends one frame; rejects on an I/O error (the recording then ends in state `error`). */
  write(frame: Frame): Promise<void>;
  /** Finishes the file (metadata, index); also after a failed write it leaves a readable file; idempotent. */
  close(): Promise<void>;
  /** Bytes on disk so far. */
  readonly bytesWritten: number;
  /** Frames whole on disk, when the writer knows better than the frames it accepted (it may write several at once). */
  readonly framesWritten?: number;
}
