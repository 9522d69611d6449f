import { stat, truncate } from 'node:fs/promises';
import {
  AVMEDIA_TYPE_VIDEO,
  AV_CODEC_ID_H264,
  AV_CODEC_ID_VP8,
  Dictionary,
  FFmpegError,
  FormatContext,
  Packet,
  Rational,
  type Stream,
} from 'node-av';
import type { VideoAccessUnit } from '../video-sink.js';
import { h264Extradata } from './h264-extradata.js';

/** Time base asked of the muxer (MP4 keeps it; WebM uses milliseconds whatever is asked). */
const STREAM_TIME_BASE = new Rational(1, 90_000);

/** A container for encoded video and how FFmpeg's muxer writes it. */
export interface ContainerSpec {
  /** FFmpeg's muxer, e.g. `mp4`, `webm`. */
  readonly muxer: string;
  /** The muxer's options (e.g. `movflags`), given to avformat_write_header. */
  readonly options: Readonly<Record<string, string>>;
}

/** Turns an FFmpeg return code into an exception naming what failed, if it is an error. */
function check(ret: number, what: string): void {
  if (ret < 0) throw new Error(`${what}: ${FFmpegError.strerror(ret)}`);
}

/**
 * Writes access units of one codec into a file with FFmpeg's muxer (node-av), without decoding
 * or re-encoding them. The stream is described by the first keyframe (size, and for H.264 its
 * SPS/PPS); presentation times are microseconds from the caller, made strictly increasing in the
 * container's time base. node-av's asynchronous calls do the I/O in libuv's thread pool. One call
 * at a time.
 */
export class AccessUnitMuxer {
  /** Width of the recorded picture. */
  readonly width: number;
  /** Height of the recorded picture. */
  readonly height: number;
  private readonly packet = new Packet();
  private lastPts = -1n;
  private lastDuration = 0n;
  private bytes = 0;
  /** Where the last complete write ended (a fragment or cluster boundary); see `finish`. */
  private complete = 0;
  private failed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly ctx: FormatContext,
    private readonly stream: Stream,
    private readonly path: string,
    first: VideoAccessUnit,
  ) {
    this.width = first.width;
    this.height = first.height;
    this.packet.alloc();
    this.bytes = this.complete = Number(ctx.pbBytes);
  }

  /**
   * Creates the file at `path` and writes the container's header for the stream that `first`
   * (a keyframe) starts; rejects with FFmpeg's reason (no file is left open).
   */
  static async open(
    path: string,
    container: ContainerSpec,
    first: VideoAccessUnit,
  ): Promise<AccessUnitMuxer> {
    if (!first.keyframe) throw new Error('a recording must start with a keyframe');
    const extradata = first.codec === 'H264' ? await h264Extradata(first.data) : undefined;
    if (first.codec === 'H264' && !extradata) {
      throw new Error('the first H.264 keyframe carries no SPS/PPS');
    }
    const ctx = new FormatContext();
    // `file:` so that a path with a colon is never taken for another FFmpeg protocol.
    const url = `file:${path}`;
    let opened = false;
    try {
      check(
        ctx.allocOutputContext2(null, container.muxer, url),
        `cannot set up ${container.muxer}`,
      );
      const stream = ctx.newStream(null);
      const par = stream.codecpar;
      par.codecType = AVMEDIA_TYPE_VIDEO;
      par.codecId = first.codec === 'H264' ? AV_CODEC_ID_H264 : AV_CODEC_ID_VP8;
      par.width = first.width;
      par.height = first.height;
      if (extradata) par.extradata = extradata;
      stream.timeBase = STREAM_TIME_BASE;
      check(await ctx.openOutput(), `cannot create ${path}`);
      opened = true;
      // Each write goes to disk at once: a crash or a full disk then leaves complete fragments.
      const options = Dictionary.fromObject({ flush_packets: '1', ...container.options });
      try {
        check(await ctx.writeHeader(options), `cannot write the ${container.muxer} header`);
      } finally {
        options.free();
      }
      // On disk now: a crash before the first fragment still leaves a file a reader recognizes.
      await ctx.flush();
      check(ctx.pb?.error ?? 0, `cannot write ${path}`);
      return new AccessUnitMuxer(ctx, stream, path, first);
    } catch (err) {
      if (opened) await ctx.closeOutput().catch(() => undefined);
      ctx.freeContext();
      throw err;
    }
  }

  /** Bytes written to the file so far (exact once closed). */
  get bytesWritten(): number {
    return this.bytes;
  }

  /**
   * Writes one access unit at `ptsUs` (microseconds from the recording's start); rejects with the
   * I/O error's reason (e.g. "No space left on device"), after which only `close` makes sense.
   */
  async write(unit: VideoAccessUnit, ptsUs: bigint): Promise<void> {
    if (this.closing) throw new Error('the file is closed');
    const tb = this.stream.timeBase;
    let pts = (ptsUs * BigInt(tb.den)) / (1_000_000n * BigInt(tb.num));
    // Strictly increasing in the container's ticks (WebM's are milliseconds); variable intervals kept.
    if (pts <= this.lastPts) pts = this.lastPts + 1n;
    if (this.lastPts >= 0n) this.lastDuration = pts - this.lastPts;
    this.lastPts = pts;
    const packet = this.packet;
    packet.data = Buffer.from(unit.data.buffer, unit.data.byteOffset, unit.data.byteLength);
    packet.pts = pts;
    packet.dts = pts;
    // Known only when the next frame comes: the previous interval stands in (the file's last frame).
    packet.duration = this.lastDuration;
    packet.isKeyframe = unit.keyframe;
    packet.streamIndex = this.stream.index;
    try {
      const ret = await this.ctx.writeFrame(packet);
      this.failed = ret < 0;
      check(ret, `writing ${this.path} failed`);
    } finally {
      packet.unref();
    }
    // flush_packets: what a successful write produced is on disk, up to here.
    this.bytes = this.complete = Number(this.ctx.pbBytes);
  }

  /**
   * Finishes the file (the last fragment or cluster, the index) and closes it; also after a
   * failed write, where the file keeps what reached the disk. Rejects if the trailer cannot be
   * written; the file is closed either way. Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= this.finish();
    return this.closing;
  }

  private async finish(): Promise<void> {
    let failure: Error | undefined;
    // After a failed write the trailer is not tried: it would add a partial tail and rewrite
    // sizes in the header for data that never reached the disk.
    if (!this.failed) {
      try {
        check(await this.ctx.writeTrailer(), `finishing ${this.path} failed`);
      } catch (err) {
        failure = err as Error;
        this.failed = true;
      }
    }
    await this.ctx.closeOutput();
    this.ctx.freeContext();
    this.packet.free();
    // A failed write (disk full) may have left part of a fragment or cluster: cut the file back to
    // the last complete one, so that every reader sees a clean end.
    if (this.failed) await this.cutTo(this.complete);
    this.bytes = await stat(this.path).then(
      (s) => s.size,
      () => this.bytes,
    );
    if (failure) throw failure;
  }

  /** Shortens the file to `size` bytes (never lengthens it). */
  private async cutTo(size: number): Promise<void> {
    const now = await stat(this.path).then(
      (s) => s.size,
      () => 0,
    );
    if (now > size) await truncate(this.path, size).catch(() => undefined);
  }
}
