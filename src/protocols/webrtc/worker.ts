import { H264Packetizer, Vp8Packetizer } from 'werift';
import {
  BufferRing,
  LiveViewError,
  MAX_FRAMES_IN_FLIGHT,
  StreamWorker,
  type EncodedUnit,
  type Frame,
  type StageMarks,
  type WorkerContext,
} from '../../index.js';
import { toI420, type I420Picture } from './i420.js';
import type { VideoCodec, WebrtcParams } from './params.js';
import { VideoEncoder, type EncodedPacket } from './video-encoder.js';
import { VideoSink, type VideoSinkHooks, type VideoSinkOptions } from './video-sink.js';
import type { VideoUnit } from './video-unit.js';
import type { WebrtcViewer } from './viewer.js';

/** A client of a WebRTC stream: a peer, or a consumer of the encoded frames themselves. */
export type WebrtcSession = WebrtcViewer | VideoSink;

/** Shortest time between two keyframes asked for by PLI/FIR (a new viewer always gets one). */
export const KEYFRAME_MIN_INTERVAL_MS = 500;
/** How often the target bitrate follows the viewers' estimates. */
const BITRATE_CHECK_MS = 1000;
/** Smallest relative change worth retuning the encoder for. */
const BITRATE_HYSTERESIS = 0.15;
/** VP8 restarts its encoder (and sends a keyframe) to change the rate: not more often than this. */
const VP8_RETUNE_MIN_MS = 3000;
/** Share of the weakest viewer's estimate the encoder aims at, to leave room for RTX and RTCP. */
const ESTIMATE_SHARE = 0.85;

/** One codec's encoder output for a frame, before packetizing. */
interface EncodedAccessUnit {
  codec: VideoCodec;
  keyframe: boolean;
  packets: EncodedPacket[];
  packetizer: Vp8Packetizer | H264Packetizer;
}

interface CodecState {
  encoder: VideoEncoder;
  packetizer: Vp8Packetizer | H264Packetizer;
  keyframeDue: boolean;
  lastKeyframeAt: number;
  lastRetuneAt: number;
  bitrate: number;
}

/**
 * A WebRTC stream: normalizes each frame once, encodes it once per codec in use (one encoder per
 * codec, shared by every viewer and sink) and packetizes it once; viewers only rewrite RTP
 * headers, sinks (recordings, relays) take the access units as they are.
 * Bitrate policy: follow the weakest viewer's estimate down to `min_bitrate` (or the highest
 * `minBitrate` a sink asks for), never above `max_bitrate`.
 */
export class WebrtcWorker extends StreamWorker<WebrtcParams, VideoUnit, WebrtcSession> {
  private readonly codecs = new Map<VideoCodec, CodecState>();
  /** I420 pictures, reused: one per frame in flight and one being written. */
  private readonly pictureBuffers = new BufferRing(MAX_FRAMES_IN_FLIGHT + 1);
  /**
   * Each encoder takes one frame at a time in frame order (its own queue); meanwhile the next
   * frame is normalized and converted.
   */
  protected override readonly framesInFlight = 2;
  private lastBitrateCheck = 0;

  constructor(context: WorkerContext<WebrtcParams>) {
    super(context);
  }

  /** Encoders running for this stream (one per codec in use). */
  get encoderCount(): number {
    return this.codecs.size;
  }

  /** The current target bitrate of a codec's encoder, in bit/s. */
  targetBitrate(codec: VideoCodec): number | undefined {
    return this.codecs.get(codec)?.bitrate;
  }

  /** Viewers connected. */
  get viewers(): WebrtcViewer[] {
    return [...this.sessions].filter((s): s is WebrtcViewer => !(s instanceof VideoSink));
  }

  /** Sinks attached (consumers of the access units: recordings, relays). */
  get sinks(): VideoSink[] {
    return [...this.sessions].filter((s): s is VideoSink => s instanceof VideoSink);
  }

  /** Adds a viewer: its codec's encoder starts if needed and the next frame is a keyframe. */
  addViewer(viewer: WebrtcViewer): void {
    this.useCodec(viewer.codec);
    this.addSession(viewer);
  }

  /**
   * Attaches a consumer of the encoded frames that is not a peer (a recording, a relay): its
   * codec's encoder starts if no viewer or sink uses it yet, else it is shared, and the next frame
   * is a keyframe. `create` makes a sink of a subclass (one that overrides `deliver`, e.g. to send
   * the shared RTP packets) from the hooks it must use; default a plain VideoSink. `close()` on
   * the sink detaches it; the encoder stops with the last viewer or sink of its codec. Throws a
   * LiveViewError (503) if the stream has stopped.
   */
  openSink(options: VideoSinkOptions): VideoSink;
  openSink<T extends VideoSink>(options: VideoSinkOptions, create: (hooks: VideoSinkHooks) => T): T;
  openSink(
    options: VideoSinkOptions,
    create: (hooks: VideoSinkHooks) => VideoSink = (hooks) => new VideoSink(options, hooks),
  ): VideoSink {
    if (!this.running) {
      throw new LiveViewError(`the webrtc stream of '${this.detectorName}' has stopped`, 503);
    }
    const sink: VideoSink = create({
      requestKeyframe: (codec, force) => this.requestKeyframe(codec, force),
      closed: () => this.removeSession(sink),
    });
    this.useCodec(sink.codec);
    this.addSession(sink);
    return sink;
  }

  /** Starts a codec's encoder unless it runs, and has its next frame be a keyframe. */
  private useCodec(codec: VideoCodec): void {
    if (!this.codecs.has(codec)) {
      this.codecs.set(codec, {
        encoder: new VideoEncoder(codec),
        packetizer: codec === 'VP8' ? new Vp8Packetizer() : new H264Packetizer(),
        keyframeDue: true,
        lastKeyframeAt: 0,
        lastRetuneAt: 0,
        bitrate: this.params.max_bitrate,
      });
    }
    this.codecs.get(codec)!.keyframeDue = true;
  }

  /** A viewer lost a picture (PLI/FIR): a keyframe follows, at most one per KEYFRAME_MIN_INTERVAL_MS unless forced (a new viewer). */
  requestKeyframe(codec: VideoCodec, force = false): void {
    const state = this.codecs.get(codec);
    if (!state) return;
    if (!force && performance.now() - state.lastKeyframeAt < KEYFRAME_MIN_INTERVAL_MS) return;
    state.keyframeDue = true;
  }

  protected override sessionRemoved(session: WebrtcSession): void {
    const codec = session.codec;
    // The encoder of a codec stops with its last viewer or sink.
    if (![...this.sessions].some((s) => s.codec === codec)) {
      const state = this.codecs.get(codec);
      this.codecs.delete(codec);
      void state?.encoder.close();
    }
  }

  /** Stops the stream; resolves once every viewer was told goodbye and its peer is closed. */
  override async stop(reason?: string): Promise<void> {
    const viewers = this.viewers;
    await super.stop(reason);
    const states = [...this.codecs.values()];
    this.codecs.clear();
    await Promise.all([...states.map((s) => s.encoder.close()), ...viewers.map((v) => v.released)]);
  }

  override updateParams(params: WebrtcParams): void {
    super.updateParams(params);
    // New limits apply at the next frame, not at the next estimate.
    this.lastBitrateCheck = 0;
  }

  protected async encode(
    frame: Frame,
    params: WebrtcParams,
    marks: StageMarks,
  ): Promise<EncodedUnit<VideoUnit>> {
    const display = this.toDisplay(frame, params, marks);
    const width = display.width & ~1;
    const height = display.height & ~1;
    const picture = toI420(display, {
      width,
      height,
      data: this.pictureBuffers.next((width * height * 3) / 2),
    });
    marks.mark('convert');
    this.followEstimates(params);
    const ts90k = Number((frame.timestamp * 9n) / 100_000n);
    const states = [...this.codecs.entries()];
    const encoded = await Promise.all(
      states.map(([codec, state]) => this.encodeOne(codec, state, picture, ts90k, params)),
    );
    // Packetized after every encoder is done, so the send stage holds all of the RTP work.
    marks.mark('encode');
    const video: VideoUnit['video'] = {};
    const rtpTimestamp = ts90k % 0x1_0000_0000;
    for (const e of encoded) {
      if (!e) continue;
      const packets = e.packets.flatMap((p) =>
        e.packetizer.packetize(Buffer.from(p.data), rtpTimestamp),
      );
      // One packet per frame with these encoder settings; several would be one frame's NAL units.
      const accessUnit =
        e.packets.length === 1 ? e.packets[0].data : Buffer.concat(e.packets.map((p) => p.data));
      video[e.codec] = { codec: e.codec, keyframe: e.keyframe, packets, accessUnit };
    }
    const metadata = JSON.stringify({
      frameNumber: frame.frameNumber,
      timestamp: frame.timestamp.toString(),
      captureTimeMs: Number(frame.timestamp / 1_000_000n),
      detectorName: frame.detector,
      window: display.window,
      width: picture.width,
      height: picture.height,
    });
    return {
      data: { video, metadata },
      frameNumber: frame.frameNumber,
      timestamp: frame.timestamp,
      width: picture.width,
      height: picture.height,
      window: display.window,
    };
  }

  private async encodeOne(
    codec: VideoCodec,
    state: CodecState,
    picture: I420Picture,
    ts90k: number,
    params: WebrtcParams,
  ): Promise<EncodedAccessUnit | undefined> {
    // Asked for, or the periodic one: a viewer that never asks still gets a picture in time.
    const keyframe =
      state.keyframeDue || performance.now() - state.lastKeyframeAt >= params.keyframe_interval_ms;
    state.keyframeDue = false;
    const packets = await state.encoder.encode(picture, ts90k, keyframe, state.bitrate);
    if (packets.length === 0) return undefined;
    const isKey = packets.some((p) => p.keyframe);
    if (isKey) state.lastKeyframeAt = performance.now();
    return { codec, keyframe: isKey, packets, packetizer: state.packetizer };
  }

  private followEstimates(params: WebrtcParams): void {
    const now = performance.now();
    if (now - this.lastBitrateCheck < BITRATE_CHECK_MS) return;
    this.lastBitrateCheck = now;
    const sinks = this.sinks;
    for (const [codec, state] of this.codecs) {
      // A sink gets no bandwidth estimate; it may ask for a floor of its own (a recording's quality).
      const sinkFloor = Math.max(
        0,
        ...sinks.filter((s) => s.codec === codec).map((s) => s.minBitrate),
      );
      const floor = Math.min(Math.max(params.min_bitrate, sinkFloor), params.max_bitrate);
      const estimates = this.viewers
        .filter((v) => v.codec === codec && v.estimatedBitrate > 0)
        .map((v) => v.estimatedBitrate * ESTIMATE_SHARE);
      const wanted = estimates.length > 0 ? Math.min(...estimates) : params.max_bitrate;
      const target = Math.round(Math.max(floor, Math.min(params.max_bitrate, wanted)));
      const change = Math.abs(target - state.bitrate) / state.bitrate;
      const beyondLimits = state.bitrate > params.max_bitrate || state.bitrate < floor;
      const vp8Wait = codec === 'VP8' && now - state.lastRetuneAt < VP8_RETUNE_MIN_MS;
      if (beyondLimits || (change > BITRATE_HYSTERESIS && !vp8Wait)) {
        state.bitrate = target;
        state.lastRetuneAt = now;
      }
    }
  }
}
