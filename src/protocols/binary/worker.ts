import {
  StreamWorker,
  subsample,
  subsampleOptionsOf,
  type EncodedUnit,
  type Frame,
  type StageMarks,
  type WorkerContext,
} from '../../index.js';
import { compressPayload } from './compression.js';
import { buildPacket, pixelFormatCode, strideOf, type Compression } from './packet.js';
import type { BinaryParams } from './params.js';
import type { BinarySession } from './session.js';

/** What a binary worker makes of one frame: the finished UC2F packet, shared by all clients. */
export interface BinaryUnit {
  /** The packet bytes (header, payload, trailer). */
  packet: Buffer;
  /** How the payload is compressed. */
  compression: Compression;
  /** The Zstandard level (or 0 when it does not apply). */
  level: number;
  /** Bytes of the uncompressed pixels. */
  rawBytes: number;
}

/** Subsamples (never normalizes: lossless), compresses once and builds one packet per frame. */
export class BinaryWorker extends StreamWorker<BinaryParams, BinaryUnit, BinarySession> {
  /** Compression runs in libuv's pool: the next frame's can start meanwhile. */
  protected override readonly framesInFlight = 2;

  constructor(context: WorkerContext<BinaryParams>) {
    super(context);
  }

  /** Applies new params live and tells every client (its credit and the new params). */
  override updateParams(params: BinaryParams): void {
    super.updateParams(params);
    for (const session of this.sessions) {
      session.setMaxInFlight(params.max_in_flight);
      session.sendJson({ type: 'params', params });
    }
  }

  protected async encode(
    frame: Frame,
    params: BinaryParams,
    marks: StageMarks,
  ): Promise<EncodedUnit<BinaryUnit>> {
    const image = subsample(frame, subsampleOptionsOf(params));
    marks.mark('convert');
    const data = image.data;
    // Typed arrays are little-endian on every platform Node runs on, which is UC2F's byte order.
    const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const payload = await compressPayload(raw, params.compression, params.compression_level);
    // Building the UC2F packet (a copy into header and trailer) is framing: the send stage.
    marks.mark('encode');
    const packet = buildPacket(
      {
        width: image.width,
        height: image.height,
        stride: strideOf(image.width, image.channels, image.dtype),
        bitDepth: image.bitDepth,
        channels: image.channels,
        pixelFormat: pixelFormatCode(image.dtype, image.channels),
        timestamp: frame.timestamp,
      },
      payload,
      frame.frameNumber,
      params.compression,
    );
    return {
      data: {
        packet: Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength),
        compression: params.compression,
        level: params.compression === 'zstd' ? params.compression_level : 0,
        rawBytes: raw.length,
      },
      frameNumber: frame.frameNumber,
      timestamp: frame.timestamp,
      width: image.width,
      height: image.height,
    };
  }
}
