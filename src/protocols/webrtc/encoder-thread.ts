/**
 * Runs one video encoder (FFmpeg's libvpx or libx264 through node-av) in a worker thread, so
 * that its synchronous calls never stall signaling, RTCP or the other protocols.
 */
import { parentPort } from 'node:worker_threads';
import {
  AV_PICTURE_TYPE_I,
  AV_PICTURE_TYPE_NONE,
  AV_PIX_FMT_YUV420P,
  Codec,
  CodecContext,
  Dictionary,
  FF_ENCODER_LIBVPX_VP8,
  FF_ENCODER_LIBX264,
  Frame,
  Packet,
  Rational,
} from 'node-av';
import type { EncodeRequest, EncoderReply, EncodedPacket } from './encoder-messages.js';

interface Open {
  ctx: CodecContext;
  // Referenced for the encoder's life: node-av frees options that are garbage collected.
  options: Dictionary;
  key: string;
  bitrate: number;
}

let open: Open | undefined;
const packet = new Packet();
packet.alloc();

function optionsFor(codec: EncodeRequest['codec']): Record<string, string | number> {
  if (codec === 'VP8') {
    // Realtime: fastest speed, no lookahead or alt-ref frames, resilient to lost packets.
    return {
      deadline: 'realtime',
      'cpu-used': 8,
      'lag-in-frames': 0,
      'auto-alt-ref': 0,
      'error-resilient': 1,
    };
  }
  // Constrained baseline, no B-frames, no lookahead; SPS/PPS in-band before every IDR.
  return { preset: 'ultrafast', tune: 'zerolatency', profile: 'baseline', 'forced-idr': 1 };
}

function openEncoder(req: EncodeRequest): Open {
  const codec = Codec.findEncoderByName(
    req.codec === 'VP8' ? FF_ENCODER_LIBVPX_VP8 : FF_ENCODER_LIBX264,
  );
  if (!codec) throw new Error(`this FFmpeg has no ${req.codec} encoder`);
  const ctx = new CodecContext();
  ctx.allocContext3(codec);
  ctx.width = req.width;
  ctx.height = req.height;
  ctx.pixelFormat = AV_PIX_FMT_YUV420P;
  ctx.timeBase = new Rational(1, 90000);
  ctx.framerate = new Rational(30, 1);
  ctx.gopSize = 300; // a periodic keyframe heals what NACK could not; viewers ask for more
  ctx.maxBFrames = 0;
  ctx.threadCount = 1;
  setRate(ctx, req.bitrate);
  const options = Dictionary.fromObject(optionsFor(req.codec));
  const ret = ctx.open2Sync(codec, options);
  if (ret < 0) throw new Error(`cannot open the ${req.codec} encoder (FFmpeg error ${ret})`);
  return { ctx, options, key: `${req.codec}/${req.width}x${req.height}`, bitrate: req.bitrate };
}

function setRate(ctx: CodecContext, bitrate: number): void {
  ctx.bitRate = BigInt(bitrate);
  ctx.rcMaxRate = BigInt(bitrate);
  // A buffer of half a second keeps frames even in size, so that latency stays low.
  ctx.rcBufferSize = Math.round(bitrate / 2);
}

function encode(req: EncodeRequest): EncodedPacket[] {
  const key = `${req.codec}/${req.width}x${req.height}`;
  // x264 retunes its rate control live; FFmpeg's libvpx wrapper does not, so VP8 reopens.
  const reopen = !open || open.key !== key || (req.codec === 'VP8' && open.bitrate !== req.bitrate);
  if (reopen) {
    open?.ctx.freeContext();
    open = openEncoder(req);
  } else if (open && open.bitrate !== req.bitrate) {
    setRate(open.ctx, req.bitrate);
    open.bitrate = req.bitrate;
  }
  const { ctx } = open!;
  const frame = Frame.fromVideoBuffer(Buffer.from(req.data), {
    width: req.width,
    height: req.height,
    format: AV_PIX_FMT_YUV420P,
  });
  frame.pts = BigInt(req.pts);
  frame.pictType = req.keyframe ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
  const out: EncodedPacket[] = [];
  try {
    const sent = ctx.sendFrameSync(frame);
    if (sent < 0) throw new Error(`the encoder refused a frame (FFmpeg error ${sent})`);
    while (ctx.receivePacketSync(packet) >= 0) {
      const data = packet.data;
      if (data) out.push({ data: new Uint8Array(data), keyframe: packet.isKeyframe });
      packet.unref();
    }
  } finally {
    frame.free();
  }
  return out;
}

parentPort!.on('message', (req: EncodeRequest | { type: 'close' }) => {
  if (req.type === 'close') {
    open?.ctx.freeContext();
    open = undefined;
    parentPort!.close();
    return;
  }
  let reply: EncoderReply;
  try {
    const t0 = performance.now();
    const packets = encode(req);
    reply = { type: 'encoded', id: req.id, packets, encodeMs: performance.now() - t0 };
  } catch (err) {
    reply = {
      type: 'error',
      id: req.id,
      message: err instanceof Error ? err.message : String(err),
    };
  }
  parentPort!.postMessage(
    reply,
    reply.type === 'encoded' ? reply.packets.map((p) => p.data.buffer as ArrayBuffer) : [],
  );
});
