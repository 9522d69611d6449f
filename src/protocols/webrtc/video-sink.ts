import { BaseSession, type EncodedUnit } from '../../index.js';
import type { VideoCodec } from './params.js';
import type { VideoUnit } from './video-unit.js';

/** Access units a sink holds while its consumer is busy (default of `VideoSinkOptions.capacity`). */
export const DEFAULT_SINK_CAPACITY = 30;

/** One encoded frame of one codec, as a sink's consumer receives it. */
export interface VideoAccessUnit {
  /** The codec. */
  readonly codec: VideoCodec;
  /** H.264 Annex B NAL units (SPS/PPS in-band before each IDR), or one VP8 frame. */
  readonly data: Uint8Array;
  /** True if decoding can start here. */
  readonly keyframe: boolean;
  /** Capture time of the frame, ns since the epoch (0 if the detector gave none). */
  readonly timestamp: bigint;
  /** The detector's frame number. */
  readonly frameNumber: number;
  /** Width of the encoded picture. */
  readonly width: number;
  /** Height of the encoded picture. */
  readonly height: number;
}

/** How a consumer that is not an RTP viewer (a recording, a relay) joins a WebRTC stream. */
export interface VideoSinkOptions {
  /** The codec it wants; that codec's encoder starts if no viewer uses it yet. */
  codec: VideoCodec;
  /** Who consumes, as listings show it in place of a viewer's address (e.g. `recording`). */
  label: string;
  /** Access units held while the consumer is busy (default 30); beyond that frames are skipped. */
  capacity?: number;
  /**
   * Lowest bitrate in bit/s the shared encoder keeps while this sink is there (default none: the
   * stream's own policy); never above the stream's `max_bitrate`.
   */
  minBitrate?: number;
}

/** What a sink needs from its stream. */
export interface VideoSinkHooks {
  /** Asks the stream's encoder for a keyframe (rate-limited there unless `force`). */
  requestKeyframe(codec: VideoCodec, force: boolean): void;
  /** The sink is gone. */
  closed(): void;
}

/**
 * A session of a WebRTC stream that takes the encoder's access units themselves instead of RTP:
 * the consumer pulls them with `next()`, the first one a keyframe. Its queue is bounded; when the
 * consumer falls behind, new frames are skipped (counted in `framesSkipped`) until the next
 * keyframe, asked for at once, because a frame of a reference chain cannot be left out alone.
 */
export class VideoSink extends BaseSession<VideoUnit> {
  /** The codec it receives. */
  readonly codec: VideoCodec;
  /** Lowest bitrate it asks of the encoder (0: none). */
  readonly minBitrate: number;
  private readonly capacity: number;
  private readonly items: VideoAccessUnit[] = [];
  private waiter: ((unit: VideoAccessUnit | undefined) => void) | undefined;
  private waitingForKeyframe = true;
  private started = false;
  private closeReason: string | undefined;

  constructor(
    options: VideoSinkOptions,
    private readonly hooks: VideoSinkHooks,
  ) {
    super('webrtc-sink', options.label, () => hooks.closed());
    this.codec = options.codec;
    this.capacity = options.capacity ?? DEFAULT_SINK_CAPACITY;
    this.minBitrate = options.minBitrate ?? 0;
    if (!Number.isInteger(this.capacity) || this.capacity < 1) {
      throw new RangeError('capacity must be an integer >= 1');
    }
  }

  /** Why the sink was closed (`stream stopped`, the consumer's own reason…); undefined while open. */
  get reason(): string | undefined {
    return this.closeReason;
  }

  /**
   * The oldest access unit not taken yet, or the next one to come; `undefined` once the sink is
   * closed and the units queued before that were taken. One reader at a time.
   */
  next(): Promise<VideoAccessUnit | undefined> {
    const item = this.items.shift();
    if (item) return Promise.resolve(item);
    if (this.closed) return Promise.resolve(undefined);
    if (this.waiter) throw new Error('a VideoSink has one reader');
    return new Promise((resolve) => (this.waiter = resolve));
  }

  protected deliver(unit: EncodedUnit<VideoUnit>): void {
    const video = unit.data.video[this.codec];
    // The encoder produced nothing for this frame (it may drop one under rate control).
    if (!video) return;
    const queueFull = this.items.length >= this.capacity;
    if (queueFull || (this.waitingForKeyframe && !video.keyframe)) {
      // Frames before the first keyframe are not lost frames: the sink had not started yet.
      if (this.started) this.framesSkipped++;
      this.waitingForKeyframe = true;
      this.hooks.requestKeyframe(this.codec, false);
      return;
    }
    this.waitingForKeyframe = false;
    this.started = true;
    const accessUnit: VideoAccessUnit = {
      codec: this.codec,
      data: video.accessUnit,
      keyframe: video.keyframe,
      timestamp: unit.timestamp,
      frameNumber: unit.frameNumber,
      width: unit.width,
      height: unit.height,
    };
    this.framesSent++;
    this.bytesSent += video.accessUnit.byteLength;
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(accessUnit);
    else this.items.push(accessUnit);
  }

  protected release(reason: string): void {
    this.closeReason = reason;
    const waiter = this.waiter;
    this.waiter = undefined;
    // Units queued before the close stay for the reader; a waiting reader has none left.
    waiter?.(undefined);
  }
}
