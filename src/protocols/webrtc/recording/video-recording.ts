import { rm } from 'node:fs/promises';
import { errorMessage, nowNs, type RecordingSink, type RecordingStats } from '../../../index.js';
import type { VideoAccessUnit, VideoSink } from '../video-sink.js';
import { AccessUnitMuxer, type ContainerSpec } from './access-unit-muxer.js';

/** What a video recording writes and where. */
export interface VideoRecordingTarget {
  /** The file to create. */
  readonly path: string;
  /** The format's name, for messages (`mp4`, `webm`). */
  readonly format: string;
  /** The recorded detector, for messages. */
  readonly detectorName: string;
  /** The container and its muxer options. */
  readonly container: ContainerSpec;
}

/** Reason a sink is closed with when its recording is stopped. */
const STOPPED = 'recording stopped';

/**
 * One running `mp4`/`webm` recording: takes the access units of a WebRTC stream's shared encoder
 * from its sink and muxes them as they are (no second encoder). The file starts at the first
 * keyframe; presentation times are capture times relative to the first frame written. It ends
 * with `stop()` (the frames queued by then are written), when a write fails (disk full: the file
 * keeps every complete fragment), when the stream stops under it, or when the stream's picture
 * size changes (a container track has one size).
 */
export class VideoRecording implements RecordingSink {
  readonly ended: Promise<void>;
  private muxer: AccessUnitMuxer | undefined;
  private framesWritten = 0;
  private firstTimestamp: bigint | undefined;
  private lastTimestamp: bigint | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly sink: VideoSink,
    private readonly target: VideoRecordingTarget,
  ) {
    this.ended = this.pump();
    // The manager may only look at `ended` later: an early failure is not an unhandled rejection.
    this.ended.catch(() => undefined);
  }

  get stats(): RecordingStats {
    return {
      framesWritten: this.framesWritten,
      framesDropped: this.sink.framesSkipped,
      bytesWritten: this.muxer?.bytesWritten ?? 0,
      firstTimestamp: this.firstTimestamp,
      lastTimestamp: this.lastTimestamp,
    };
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Units already queued were captured before the stop: the pump writes them, then finishes.
      this.sink.close(STOPPED);
      await this.ended.catch(() => undefined);
    })();
    return this.stopping;
  }

  private async pump(): Promise<void> {
    const { format, detectorName } = this.target;
    try {
      for (;;) {
        const unit = await this.sink.next();
        if (!unit) break;
        await this.write(unit);
      }
    } catch (err) {
      this.sink.close('recording failed');
      await this.muxer?.close().catch(() => undefined);
      throw new Error(`${format} recording failed: ${errorMessage(err)}`, { cause: err });
    }
    try {
      await this.muxer?.close();
    } catch (err) {
      throw new Error(`${format} recording failed: ${errorMessage(err)}`, { cause: err });
    }
    if (!this.muxer) {
      // The empty file made at the start: a file with no frame would not be a video.
      await rm(this.target.path, { force: true }).catch(() => undefined);
      throw new Error(
        `nothing was recorded: no keyframe came from the webrtc stream of detector '${detectorName}' before the ${format} recording ended (${this.sink.reason}); no file was written`,
      );
    }
    const reason = this.sink.reason;
    if (reason !== STOPPED) {
      throw new Error(
        `the webrtc stream of detector '${detectorName}' ended the ${format} recording (${reason}); the file holds what was recorded until then`,
      );
    }
  }

  private async write(unit: VideoAccessUnit): Promise<void> {
    // A frame without a capture time is placed at the time it arrived.
    const timestamp = unit.timestamp > 0n ? unit.timestamp : nowNs();
    if (!this.muxer) {
      // The sink's first unit is a keyframe.
      this.muxer = await AccessUnitMuxer.open(this.target.path, this.target.container, unit);
      this.firstTimestamp = timestamp;
    } else if (unit.width !== this.muxer.width || unit.height !== this.muxer.height) {
      throw new Error(
        `the stream's picture size changed from ${this.muxer.width}x${this.muxer.height} to ${unit.width}x${unit.height} (new stream params or a new region of interest); the file ends before it, start a new recording`,
      );
    }
    await this.muxer.write(unit, (timestamp - this.firstTimestamp!) / 1000n);
    this.framesWritten++;
    this.lastTimestamp = timestamp;
  }
}
