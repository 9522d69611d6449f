import {
  AV_LOG_ERROR,
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_YUV420P,
  Codec,
  CodecContext,
  Dictionary,
  FF_ENCODER_LIBVPX_VP8,
  FF_ENCODER_LIBX264,
  Frame,
  Log,
  Packet,
  Rational,
} from 'node-av';
import type { I420Picture } from './i420.js';
import type { VideoCodec } from './params.js';

// FFmpeg's banner lines (encoder versions, CPU flags) are noise in a server's output.
Log.setLevel(AV_LOG_ERROR);

/** The encoder's own keyframe interval, in frames (the stream's keyframe_interval_ms rules). */
const ENCODER_GOP_FRAMES = 100_000;

/** How many encoders exist right now (tests check that viewers share one). */
export let liveEncoders = 0;

/** One encoded access unit (a VP8 frame, or H.264 Annex B NAL units). */
export interface EncodedPacket {
  /** The bytes. */
  data: Uint8Array;
  /** True for a keyframe (IDR). */
  keyframe: boolean;
}

interface OpenEncoder {
  ctx: CodecContext;
  // Referenced for the encoder's life: node-av frees options that are garbage collected.
  options: Dictionary;
  width: number;
  height: number;
  bitrate: number;
}

function optionsFor(codec: VideoCodec): Record<string, string | number> {
  if (codec === 'VP8') {
    // Realtime: fastest speed, no lookahead or alt-ref frames, resilient to lost packets.
    return {
      deadline: 'realtime',
      'cpu-used': 16,
      'lag-in-frames': 0,
      'auto-alt-ref': 0,
      'error-resilient': 1,
    };
  }
  // Constrained baseline, no B-frames, no lookahead; SPS/PPS in-band before every IDR.
  return { preset: 'ultrafast', tune: 'zerolatency', profile: 'baseline', 'forced-idr': 1 };
}

function setRate(ctx: CodecContext, bitrate: number): void {
  ctx.bitRate = BigInt(bitrate);
  ctx.rcMaxRate = BigInt(bitrate);
  // Half a second of buffer keeps frames even in size, so that latency stays low.
  ctx.rcBufferSize = Math.round(bitrate / 2);
}

/**
 * A VP8 (libvpx) or H.264 (libx264) encoder from FFmpeg through node-av: one per stream and
 * codec, shared by all its viewers. node-av's asynchronous calls encode in libuv's thread pool,
 * so the event loop stays free (worker threads are not used: node-av crashes when one ends).
 * Keyframes on demand; bitrate changeable between frames.
 */
export class VideoEncoder {
  /** Frames encoded. */
  framesEncoded = 0;
  /** Milliseconds the last encode took. */
  lastEncodeMs = 0;
  private open: OpenEncoder | undefined;
  private readonly packet = new Packet();
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(readonly codec: VideoCodec) {
    this.packet.alloc();
    liveEncoders++;
  }

  /** Encodes one picture; resolves to the access units it produced (usually one). */
  encode(
    picture: I420Picture,
    pts90k: number,
    keyframe: boolean,
    bitrate: number,
  ): Promise<EncodedPacket[]> {
    // One call at a time: FFmpeg's codec context is not reentrant.
    const run = this.queue.then(() => this.encodeNow(picture, pts90k, keyframe, bitrate));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Frees the encoder once the calls in progress are done. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    liveEncoders--;
    await this.queue;
    this.open?.ctx.freeContext();
    this.open = undefined;
    this.packet.free();
  }

  private async encodeNow(
    picture: I420Picture,
    pts90k: number,
    keyframe: boolean,
    bitrate: number,
  ): Promise<EncodedPacket[]> {
    if (this.closed) throw new Error('encoder closed');
    const t0 = performance.now();
    const ctx = await this.ready(picture, bitrate);
    const frame = Frame.fromVideoBuffer(
      Buffer.from(picture.data.buffer, picture.data.byteOffset, picture.data.byteLength),
      { width: picture.width, height: picture.height, format: AV_PIX_FMT_YUV420P },
    );
    frame.pts = BigInt(pts90k);
    frame.pictType = keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    const out: EncodedPacket[] = [];
    try {
      const sent = await ctx.sendFrame(frame);
      if (sent < 0)
        throw new Error(`the ${this.codec} encoder refused a frame (FFmpeg error ${sent})`);
      while ((await ctx.receivePacket(this.packet)) >= 0) {
        const data = this.packet.data;
        if (data) out.push({ data: new Uint8Array(data), keyframe: this.packet.isKeyframe });
        this.packet.unref();
      }
    } finally {
      frame.free();
    }
    this.framesEncoded++;
    this.lastEncodeMs = performance.now() - t0;
    return out;
  }

  /** Opens the encoder, or reopens it for a new size (and, for VP8, a new bitrate). */
  private async ready(picture: I420Picture, bitrate: number): Promise<CodecContext> {
    const o = this.open;
    const resized = !o || o.width !== picture.width || o.height !== picture.height;
    // x264 retunes its rate control live; FFmpeg's libvpx wrapper does not, so VP8 reopens.
    if (resized || (this.codec === 'VP8' && o.bitrate !== bitrate)) {
      o?.ctx.freeContext();
      this.open = await this.openEncoder(picture.width, picture.height, bitrate);
    } else if (o.bitrate !== bitrate) {
      setRate(o.ctx, bitrate);
      o.bitrate = bitrate;
    }
    return this.open!.ctx;
  }

  private async openEncoder(width: number, height: number, bitrate: number): Promise<OpenEncoder> {
    const codec = Codec.findEncoderByName(
      this.codec === 'VP8' ? FF_ENCODER_LIBVPX_VP8 : FF_ENCODER_LIBX264,
    );
    if (!codec) throw new Error(`this FFmpeg build has no ${this.codec} encoder`);
    const ctx = new CodecContext();
    ctx.allocContext3(codec);
    ctx.width = width;
    ctx.height = height;
    ctx.pixelFormat = AV_PIX_FMT_YUV420P;
    ctx.timeBase = new Rational(1, 90000);
    ctx.framerate = new Rational(30, 1);
    // The stream forces keyframes on demand and every keyframe_interval_ms (at most 60 s): the
    // encoder's own interval is only a backstop far beyond that at any usual frame rate.
    ctx.gopSize = ENCODER_GOP_FRAMES;
    ctx.maxBFrames = 0;
    // Large pictures: x264 slices (zerolatency) on two threads, so one frame does not take longer
    // than a frame period; small ones stay on one thread (less overhead).
    ctx.threadCount = width * height > 2_000_000 ? 2 : 1;
    setRate(ctx, bitrate);
    const options = Dictionary.fromObject(optionsFor(this.codec));
    const ret = await ctx.open2(codec, options);
    if (ret < 0) {
      ctx.freeContext();
      throw new Error(`cannot open the ${this.codec} encoder (FFmpeg error ${ret})`);
    }
    return { ctx, options, width, height, bitrate };
  }
}
