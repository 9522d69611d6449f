import { AV_CODEC_ID_H264, AV_CODEC_ID_VP8, Codec, CodecContext, Frame, Packet } from 'node-av';
import { dePacketizeRtpPackets, type RtpPacket } from 'werift';
import { decodePixelCode } from '../../src/core/pixel-code.js';
import type { ViewedFrame } from './webrtc-viewer.js';

/**
 * Reassembles received RTP packets into frames (at each marker bit), decodes them with FFmpeg
 * (node-av) and reads each picture's pixel code, for viewers that are not TestViewer (TestViewer, a viewer
 * through Janus).
 */
export class RtpFrameDecoder {
  rtpPackets = 0;
  decodeErrors = 0;
  /** Frames dropped before the first keyframe (a viewer may join a stream mid-picture). */
  beforeKeyframe = 0;
  private pending: RtpPacket[] = [];
  private started = false;
  private decoder: CodecContext | undefined;
  private readonly packet = new Packet();

  /** @param frames where decoded frames go (default a new list). */
  constructor(
    private readonly codec: 'VP8' | 'H264',
    readonly frames: ViewedFrame[] = [],
  ) {
    this.packet.alloc();
  }

  /** Takes one RTP packet; a frame is decoded when its last packet (marker) arrives. */
  push(rtp: RtpPacket): void {
    this.rtpPackets++;
    this.pending.push(rtp);
    if (!rtp.header.marker) return;
    const packets = this.pending.filter((p) => p.header.timestamp === rtp.header.timestamp);
    this.pending = [];
    // Signed 16-bit distance: sequence numbers wrap.
    packets.sort(
      (a, b) => ((a.header.sequenceNumber - b.header.sequenceNumber + 0x8000) & 0xffff) - 0x8000,
    );
    try {
      const { data, isKeyframe } = dePacketizeRtpPackets(
        this.codec === 'H264' ? 'MPEG4/ISO/AVC' : 'VP8',
        packets,
      );
      this.started ||= isKeyframe;
      if (this.started) this.decode(data, isKeyframe);
      else this.beforeKeyframe++;
    } catch {
      this.decodeErrors++;
    }
  }

  /** Frame numbers read from the decoded pictures, in order. */
  get frameNumbers(): number[] {
    return this.frames.flatMap((f) => (f.frameNumber === undefined ? [] : [f.frameNumber]));
  }

  /** Frees the decoder. */
  close(): void {
    this.decoder?.freeContext();
    this.decoder = undefined;
    this.packet.free();
  }

  private decode(data: Buffer, keyframe: boolean): void {
    if (!this.decoder) {
      const codec = Codec.findDecoder(this.codec === 'H264' ? AV_CODEC_ID_H264 : AV_CODEC_ID_VP8);
      const ctx = new CodecContext();
      ctx.allocContext3(codec);
      if (ctx.open2Sync(codec, null) < 0) throw new Error('cannot open the decoder');
      this.decoder = ctx;
    }
    this.packet.data = data;
    if (this.decoder.sendPacketSync(this.packet) < 0) {
      this.decodeErrors++;
      return;
    }
    const frame = new Frame();
    frame.alloc();
    while (this.decoder.receiveFrameSync(frame) >= 0) {
      const { width, height } = frame;
      const plane = frame.data![0];
      const stride = frame.linesize[0];
      const y = new Uint8Array(width * height);
      for (let r = 0; r < height; r++)
        y.set(plane.subarray(r * stride, r * stride + width), r * width);
      const code = decodePixelCode(y, width, height, 1);
      this.frames.push({
        width,
        height,
        keyframe,
        frameNumber: code?.frameNumber,
        timestampMs: code?.timestampMs,
        receivedAt: Date.now(),
      });
      frame.unref();
    }
    frame.free();
  }
}
