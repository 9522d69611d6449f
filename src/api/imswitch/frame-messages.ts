import type { StreamParams } from '../../core/stream-params.js';
import type { EncodedUnit } from '../../core/stream-worker.js';
import { UC2F_HEADER_BYTES } from '../../protocols/binary/packet.js';
import type { BinaryUnit } from '../../protocols/binary/worker.js';
import type { MjpegPart } from '../../protocols/mjpeg/session.js';
import { FramePayload } from './frame-payload.js';

/** ImSwitch's pixel size when a detector states none, in µm. */
const UNKNOWN_PIXEL_SIZE_UM = 1;

/** True for a binary stream's unit (a UC2F packet). */
function isBinaryUnit(data: unknown): data is BinaryUnit {
  return Buffer.isBuffer((data as Partial<BinaryUnit> | undefined)?.packet);
}

/** True for an mjpeg stream's unit (its JPEG). */
function isJpegUnit(data: unknown): data is MjpegPart {
  return Buffer.isBuffer((data as Partial<MjpegPart> | undefined)?.jpeg);
}

/** Metadata every frame carries, by ImSwitch's names (the web app reads frame_id, protocol, format, pixel_size, server_timestamp). */
function commonMetadata(
  unit: EncodedUnit<unknown>,
  detector: string,
  format: 'binary' | 'jpeg',
): Record<string, unknown> {
  return {
    server_timestamp: Date.now() / 1000,
    detector_name: detector,
    pixel_size: UNKNOWN_PIXEL_SIZE_UM,
    format,
    protocol: format,
    width: unit.width,
    height: unit.height,
    // Beyond ImSwitch: the detector's own frame number and capture time (frame_id is per client).
    frame_number: unit.frameNumber,
    timestamp_ns: unit.timestamp,
  };
}

/** A binary stream's unit as ImSwitch's binary `frame`: the UC2F packet as it is, with its compression figures. */
export function binaryFrame(
  unit: EncodedUnit<unknown>,
  detector: string,
  params: StreamParams,
): FramePayload {
  const data = unit.data;
  if (!isBinaryUnit(data)) throw new TypeError('not a binary stream unit (no UC2F packet)');
  const compressed = data.packet.readUInt32LE(UC2F_HEADER_BYTES);
  return new FramePayload({
    metadata: {
      ...commonMetadata(unit, detector, 'binary'),
      subsampling_factor: params.subsampling_factor,
      compression_algorithm: data.compression,
      compression_level: data.level,
      raw_bytes: data.rawBytes,
      compressed_bytes: compressed,
      packet_bytes: data.packet.length,
      compression_ratio: compressed > 0 ? data.rawBytes / compressed : 1,
    },
    data: data.packet,
  });
}

/** An mjpeg stream's unit as ImSwitch's jpeg `frame`: its JPEG (the one encoded for MJPEG) in base64. */
export function jpegFrame(
  unit: EncodedUnit<unknown>,
  detector: string,
  params: StreamParams,
): FramePayload {
  const data = unit.data;
  if (!isJpegUnit(data)) throw new TypeError('not an mjpeg stream unit (no JPEG)');
  const quality = (params as Partial<{ jpeg_quality: number }>).jpeg_quality;
  return new FramePayload({
    metadata: { ...commonMetadata(unit, detector, 'jpeg'), jpeg_quality: quality },
    image: data.jpeg.toString('base64'),
  });
}

/**
 * The payload of each unit of one stream, made once for all clients: every client's session asks
 * for the unit the worker hands it, and all but the first get the same payload.
 */
export class StreamFrames {
  private lastUnit: EncodedUnit<unknown> | undefined;
  private lastPayload: FramePayload | undefined;

  constructor(
    private readonly make: (
      unit: EncodedUnit<unknown>,
      detector: string,
      params: StreamParams,
    ) => FramePayload,
    private readonly detector: string,
  ) {}

  /** The payload of `unit`, made with the stream's current `params`. */
  payload(unit: EncodedUnit<unknown>, params: StreamParams): FramePayload {
    if (unit !== this.lastUnit || !this.lastPayload) {
      // Cleared first: a unit whose encoding throws must not be paired with the old payload.
      this.lastUnit = undefined;
      this.lastPayload = this.make(unit, this.detector, params);
      this.lastUnit = unit;
    }
    return this.lastPayload;
  }
}
