import { rm, writeFile } from 'node:fs/promises';
import {
  LiveViewError,
  errorMessage,
  type RecordingContext,
  type RecordingFormat,
  type RecordingSink,
  type StreamHub,
} from '../../../index.js';
import type { VideoCodec } from '../params.js';
import type { VideoSink } from '../video-sink.js';
import type { WebrtcWorker } from '../worker.js';
import type { ContainerSpec } from './access-unit-muxer.js';
import { parseVideoRecordingParams } from './params.js';
import { VideoRecording } from './video-recording.js';

/** Access units a recording holds while its file is busy (about a second at 30 fps). */
export const VIDEO_RECORDING_QUEUE = 30;

/** What makes one encoded-video recording format. */
export interface VideoFormatSpec {
  /** The format's name (`mp4`, `webm`). */
  readonly name: string;
  /** One-line description. */
  readonly description: string;
  /** File name ending, with its dot. */
  readonly extension: string;
  /** MIME type of the file. */
  readonly mimeType: string;
  /** The codec recorded (the stream's encoder of that codec is shared). */
  readonly codec: VideoCodec;
  /** The container. */
  readonly container: ContainerSpec;
}

/**
 * `mp4`: H.264 in fragmented MP4, a fragment at every keyframe and at least every second (the
 * `moov` up front, each fragment self-contained), so a crash leaves a file that plays up to its
 * last complete fragment.
 */
export const MP4_FORMAT: VideoFormatSpec = {
  name: 'mp4',
  description:
    'H.264 video in fragmented MP4 (the encoder of the WebRTC stream, shared with its viewers); plays everywhere',
  extension: '.mp4',
  mimeType: 'video/mp4',
  codec: 'H264',
  container: {
    muxer: 'mp4',
    // frag_duration (µs) bounds a fragment, held in memory until written, to a second.
    options: { movflags: 'frag_keyframe+empty_moov+default_base_moof', frag_duration: '1000000' },
  },
};

/**
 * `webm`: VP8 in WebM with a cluster per keyframe (`dash`: a cluster starts only at a keyframe,
 * and is held in memory until the next one: the stream's `keyframe_interval_ms`), so a crash
 * leaves a file that plays up to its last complete cluster.
 */
export const WEBM_FORMAT: VideoFormatSpec = {
  name: 'webm',
  description:
    'VP8 video in WebM (the encoder of the WebRTC stream, shared with its viewers); plays in browsers',
  extension: '.webm',
  mimeType: 'video/webm',
  codec: 'VP8',
  container: { muxer: 'webm', options: { dash: '1' } },
};

/**
 * A recording format that writes what a detector's WebRTC stream encodes: `start` ensures the
 * stream (a running one is shared, else one starts on demand and stops after the recording),
 * attaches a sink for the format's codec (sharing the encoder with viewers of that codec) and
 * muxes its access units into the file.
 */
export class EncodedVideoFormat implements RecordingFormat {
  readonly directory = false;

  constructor(
    private readonly spec: VideoFormatSpec,
    /** The WebRTC protocol's streams once it is attached (undefined before). */
    private readonly hub: () => StreamHub<WebrtcWorker> | undefined,
  ) {}

  get name(): string {
    return this.spec.name;
  }

  get description(): string {
    return this.spec.description;
  }

  get extension(): string {
    return this.spec.extension;
  }

  get mimeType(): string {
    return this.spec.mimeType;
  }

  async start(context: RecordingContext): Promise<RecordingSink> {
    const params = parseVideoRecordingParams(context.params);
    const hub = this.hub();
    if (!hub) {
      throw new LiveViewError(
        `the ${this.spec.name} format records the webrtc protocol's streams, which is not running`,
        503,
      );
    }
    // Created now (the muxer writes it at the first keyframe), so that a path that cannot be
    // written fails the start, not the recording later.
    try {
      await writeFile(context.path, '', { flag: 'wx' });
    } catch (err) {
      throw new LiveViewError(
        `cannot create the ${this.spec.name} file: ${errorMessage(err)}`,
        500,
      );
    }
    let sink: VideoSink;
    try {
      const worker = await hub.ensure(context.detectorName);
      try {
        sink = worker.openSink({
          codec: this.spec.codec,
          label: `recording (${this.spec.name})`,
          capacity: VIDEO_RECORDING_QUEUE,
          minBitrate: params.bitrate,
        });
      } finally {
        // The sink now holds the stream; an on-demand stream stops after it leaves.
        hub.release(worker);
      }
    } catch (err) {
      await rm(context.path, { force: true });
      throw err;
    }
    return new VideoRecording(sink, {
      path: context.path,
      format: this.spec.name,
      detectorName: context.detectorName,
      container: this.spec.container,
    });
  }
}

/** The recording formats of the WebRTC protocol: `mp4` (H.264) and `webm` (VP8). */
export function webrtcRecordingFormats(
  hub: () => StreamHub<WebrtcWorker> | undefined,
): RecordingFormat[] {
  return [new EncodedVideoFormat(MP4_FORMAT, hub), new EncodedVideoFormat(WEBM_FORMAT, hub)];
}
