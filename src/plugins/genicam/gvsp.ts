/**
 * GigE Vision Streaming Protocol (GVSP) packets: a pure codec, no sockets.
 *
 * Every packet starts with a big-endian header. Standard ids (8 bytes): status, 16-bit block id,
 * packet format (bit 7: extended-id flag), 24-bit packet id. Extended ids (GigE Vision 2.0, 20
 * bytes): status, flags, packet format with bit 7 set, 3 reserved bytes, 64-bit block id, 32-bit
 * packet id. A block (one image) is a leader (packet id 0), payload packets, and a trailer.
 *
 * Also PACKETRESEND_CMD, the GVCP command that asks the device for lost stream packets: it
 * belongs with the stream, whose packet ids it names.
 */

/** Packet formats (the low 7 bits of the header's format byte). */
export const GvspFormat = {
  leader: 1,
  trailer: 2,
  payload: 3,
  allIn: 4,
  h264: 5,
  multizone: 6,
  multipart: 7,
  genDC: 8,
} as const;

/** Packet status codes a receiver acts on (0x8000 and above are errors). */
export const GvspStatus = {
  success: 0x0000,
  /** Some devices flag packets they send again after a PACKETRESEND. */
  resent: 0x0100,
  /** The device cannot send the packet again (it is no longer in its memory). */
  packetUnavailable: 0x800c,
  packetAndPreviousRemoved: 0x8011,
  packetRemoved: 0x8012,
} as const;

/** Payload types of a leader; bit 14 says chunk data follows the payload. */
export const GvspPayloadType = {
  image: 0x0001,
  /** Image followed by chunk data (GigE Vision 2.0 "extended chunk" mode). */
  imageExtendedChunk: 0x4001,
} as const;

/** Bit 7 of the format byte: the packet uses the 20-byte extended-id header. */
const EXTENDED_ID_FLAG = 0x80;
/** Size of the standard header. */
export const GVSP_HEADER_BYTES = 8;
/** Size of the extended-id header. */
export const GVSP_EXTENDED_HEADER_BYTES = 20;
/** Generic leader part (flags, payload type, timestamp) plus the image information. */
const IMAGE_LEADER_BYTES = 36;
const GENERIC_LEADER_BYTES = 12;
/** IPv4 + UDP headers: what SCPS packet sizes count on top of the GVSP packet. */
export const IP_UDP_OVERHEAD = 28;

/** The header fields every GVSP packet has. */
export interface GvspHeader {
  /** Packet status; 0 = success, 0x8000 and above = error. */
  status: number;
  /** Block (frame) id; 16 bits with standard ids, 64 with extended ids. */
  blockId: bigint;
  /** Packet id within the block: 0 = leader, then the payload, the trailer last. */
  packetId: number;
  /** Packet format (GvspFormat), without the extended-id flag. */
  format: number;
  /** True when the packet uses the extended-id (GigE Vision 2.0) header. */
  extendedIds: boolean;
}

/** Geometry of an image block, from its leader. */
export interface GvspImageInfo {
  /** PFNC pixel format code. */
  pixelFormat: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Horizontal offset of the region of interest. */
  offsetX: number;
  /** Vertical offset of the region of interest. */
  offsetY: number;
  /** Bytes at the end of each line. */
  paddingX: number;
  /** Bytes at the end of the image. */
  paddingY: number;
}

/** A leader: what the block holds. */
export interface GvspLeader extends GvspHeader {
  kind: 'leader';
  /** Payload type (GvspPayloadType and others). */
  payloadType: number;
  /** Device timestamp, in device ticks. */
  timestamp: bigint;
  /** Image geometry when the payload type is an image (with or without chunk data), else null. */
  image: GvspImageInfo | null;
}

/** A payload packet: a slice of the block's bytes. */
export interface GvspPayload extends GvspHeader {
  kind: 'payload';
  /** The packet's data (a view into the packet, not a copy). */
  data: Uint8Array;
}

/** A trailer: the block is over. */
export interface GvspTrailer extends GvspHeader {
  kind: 'trailer';
  /** Payload type, as in the leader. */
  payloadType: number;
  /** Lines actually sent (image payloads), when the trailer carries it. */
  sizeY: number | undefined;
}

/** Any other packet format (all-in, H.264, multizone, multipart, GenDC): not decoded further. */
export interface GvspOther extends GvspHeader {
  kind: 'other';
  /** The bytes after the header. */
  data: Uint8Array;
}

/** A decoded GVSP packet. */
export type GvspPacket = GvspLeader | GvspPayload | GvspTrailer | GvspOther;

/**
 * Header fields without allocation, for the receive path: block ids as numbers (exact below
 * 2^53, which a device would need centuries to reach).
 */
export interface GvspHeaderScratch {
  /** Packet status. */
  status: number;
  /** Block id. */
  blockId: number;
  /** Packet id within the block. */
  packetId: number;
  /** Packet format, without the extended-id flag. */
  format: number;
  /** True for the 20-byte extended-id header. */
  extendedIds: boolean;
  /** Offset of the data after the header. */
  dataOffset: number;
}

/** A blank scratch header for readGvspHeader. */
export function gvspHeaderScratch(): GvspHeaderScratch {
  return { status: 0, blockId: 0, packetId: 0, format: 0, extendedIds: false, dataOffset: 0 };
}

const u16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];
const u32 = (b: Uint8Array, o: number): number =>
  ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** Reads a packet's header into `out`; false when the packet is too short for its header. */
export function readGvspHeader(buf: Uint8Array, out: GvspHeaderScratch): boolean {
  if (buf.length < GVSP_HEADER_BYTES) return false;
  const formatByte = buf[4];
  out.status = u16(buf, 0);
  out.format = formatByte & 0x7f;
  if (formatByte & EXTENDED_ID_FLAG) {
    if (buf.length < GVSP_EXTENDED_HEADER_BYTES) return false;
    out.extendedIds = true;
    out.blockId = u32(buf, 8) * 0x1_0000_0000 + u32(buf, 12);
    out.packetId = u32(buf, 16);
    out.dataOffset = GVSP_EXTENDED_HEADER_BYTES;
  } else {
    out.extendedIds = false;
    out.blockId = u16(buf, 2);
    out.packetId = ((buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0;
    out.dataOffset = GVSP_HEADER_BYTES;
  }
  return true;
}

function isImagePayload(payloadType: number): boolean {
  // Bit 14 only says chunk data follows; the image part is laid out as for a plain image.
  return (payloadType & 0x3fff) === GvspPayloadType.image;
}

/** Reads an image leader's geometry at `o` (the start of the leader data); caller checks length. */
export function readImageInfo(buf: Uint8Array, o: number): GvspImageInfo {
  return {
    pixelFormat: u32(buf, o + 12),
    width: u32(buf, o + 16),
    height: u32(buf, o + 20),
    offsetX: u32(buf, o + 24),
    offsetY: u32(buf, o + 28),
    paddingX: u16(buf, o + 32),
    paddingY: u16(buf, o + 34),
  };
}

/** Reads a leader's payload type at `o` (the start of the leader data). */
export function readLeaderPayloadType(buf: Uint8Array, o: number): number {
  return u16(buf, o + 2);
}

/** Reads a leader's timestamp at `o` (the start of the leader data). */
export function readLeaderTimestamp(buf: Uint8Array, o: number): bigint {
  return (BigInt(u32(buf, o + 4)) << 32n) | BigInt(u32(buf, o + 8));
}

/** True when a leader at `o` is long enough and of an image payload type. */
export function isImageLeader(buf: Uint8Array, o: number): boolean {
  return buf.length - o >= IMAGE_LEADER_BYTES && isImagePayload(readLeaderPayloadType(buf, o));
}

/** Decodes one GVSP packet; throws on a packet too short for its header or its format. */
export function decodeGvsp(buf: Uint8Array): GvspPacket {
  const h = gvspHeaderScratch();
  if (!readGvspHeader(buf, h))
    throw new Error(
      `GVSP packet too short: ${buf.length} bytes (header needs ${buf.length >= 5 && buf[4] & EXTENDED_ID_FLAG ? GVSP_EXTENDED_HEADER_BYTES : GVSP_HEADER_BYTES})`,
    );
  const blockId = h.extendedIds
    ? (BigInt(u32(buf, 8)) << 32n) | BigInt(u32(buf, 12))
    : BigInt(h.blockId);
  const header: GvspHeader = {
    status: h.status,
    blockId,
    packetId: h.packetId,
    format: h.format,
    extendedIds: h.extendedIds,
  };
  const o = h.dataOffset;
  const left = buf.length - o;
  switch (h.format) {
    case GvspFormat.leader: {
      if (left < GENERIC_LEADER_BYTES)
        throw new Error(
          `GVSP leader too short: ${left} data bytes (needs ${GENERIC_LEADER_BYTES})`,
        );
      const payloadType = readLeaderPayloadType(buf, o);
      let image: GvspImageInfo | null = null;
      if (isImagePayload(payloadType)) {
        if (left < IMAGE_LEADER_BYTES)
          throw new Error(
            `GVSP image leader too short: ${left} data bytes (needs ${IMAGE_LEADER_BYTES})`,
          );
        image = readImageInfo(buf, o);
      }
      return {
        ...header,
        kind: 'leader',
        payloadType,
        timestamp: readLeaderTimestamp(buf, o),
        image,
      };
    }
    case GvspFormat.trailer: {
      if (left < 4) throw new Error(`GVSP trailer too short: ${left} data bytes (needs 4)`);
      return {
        ...header,
        kind: 'trailer',
        payloadType: u16(buf, o + 2),
        sizeY: left >= 8 ? u32(buf, o + 4) : undefined,
      };
    }
    case GvspFormat.payload:
      return { ...header, kind: 'payload', data: buf.subarray(o) };
    default:
      return { ...header, kind: 'other', data: buf.subarray(o) };
  }
}

/** Fields of every packet the encoders build. */
export interface GvspEncodeHeader {
  /** Block id (1..65535 with standard ids). */
  blockId: bigint | number;
  /** Packet id; leaders default to 0. */
  packetId?: number;
  /** Use the 20-byte extended-id header; default false. */
  extendedIds?: boolean;
  /** Packet status; default 0 (success). */
  status?: number;
}

function encodeHeader(
  h: GvspEncodeHeader,
  format: number,
  packetId: number,
  dataBytes: number,
): { buf: Uint8Array; view: DataView; o: number } {
  const ext = h.extendedIds ?? false;
  const headerBytes = ext ? GVSP_EXTENDED_HEADER_BYTES : GVSP_HEADER_BYTES;
  const buf = new Uint8Array(headerBytes + dataBytes);
  const view = new DataView(buf.buffer);
  view.setUint16(0, h.status ?? 0);
  const blockId = BigInt(h.blockId);
  if (ext) {
    view.setUint32(4, ((format | EXTENDED_ID_FLAG) << 24) >>> 0);
    view.setBigUint64(8, BigInt.asUintN(64, blockId));
    view.setUint32(16, packetId >>> 0);
  } else {
    if (packetId > 0xffffff) throw new Error(`packet id ${packetId} needs extended ids`);
    view.setUint16(2, Number(blockId & 0xffffn));
    view.setUint32(4, ((format << 24) | packetId) >>> 0);
  }
  return { buf, view, o: headerBytes };
}

/** What an image leader says. */
export interface GvspLeaderFields extends GvspEncodeHeader, Partial<GvspImageInfo> {
  /** PFNC pixel format code. */
  pixelFormat: number;
  /** Width in pixels. */
  width: number;
  /** Height in pixels. */
  height: number;
  /** Device timestamp in ticks; default 0. */
  timestamp?: bigint;
  /** Payload type; default image (0x0001). */
  payloadType?: number;
}

/** Encodes an image leader (packet id 0 unless given). */
export function encodeGvspLeader(f: GvspLeaderFields): Uint8Array {
  const { buf, view, o } = encodeHeader(f, GvspFormat.leader, f.packetId ?? 0, IMAGE_LEADER_BYTES);
  view.setUint16(o + 2, f.payloadType ?? GvspPayloadType.image);
  view.setBigUint64(o + 4, f.timestamp ?? 0n);
  view.setUint32(o + 12, f.pixelFormat >>> 0);
  view.setUint32(o + 16, f.width);
  view.setUint32(o + 20, f.height);
  view.setUint32(o + 24, f.offsetX ?? 0);
  view.setUint32(o + 28, f.offsetY ?? 0);
  view.setUint16(o + 32, f.paddingX ?? 0);
  view.setUint16(o + 34, f.paddingY ?? 0);
  return buf;
}

/** Encodes a payload packet carrying `data` (packet ids start at 1). */
export function encodeGvspPayload(
  h: GvspEncodeHeader & { packetId: number },
  data: Uint8Array,
): Uint8Array {
  const { buf, o } = encodeHeader(h, GvspFormat.payload, h.packetId, data.length);
  buf.set(data, o);
  return buf;
}

/** Encodes an image trailer (packet id = the last one of the block). */
export function encodeGvspTrailer(
  h: GvspEncodeHeader & { packetId: number; sizeY: number; payloadType?: number },
): Uint8Array {
  const { buf, view, o } = encodeHeader(h, GvspFormat.trailer, h.packetId, 8);
  view.setUint16(o + 2, h.payloadType ?? GvspPayloadType.image);
  view.setUint32(o + 4, h.sizeY);
  return buf;
}

/**
 * Splits a block's bytes into a leader, payload packets of `payloadBytes` each (the last may be
 * shorter) and a trailer, as a camera sends them. `payloadBytes` is the SCPS packet size minus
 * IP_UDP_OVERHEAD and the GVSP header.
 */
export function encodeGvspBlock(
  leader: GvspLeaderFields,
  data: Uint8Array,
  payloadBytes: number,
): Uint8Array[] {
  if (payloadBytes < 1) throw new Error(`payload packet size must be positive: ${payloadBytes}`);
  const h = { blockId: leader.blockId, extendedIds: leader.extendedIds };
  const packets = [encodeGvspLeader({ ...leader, packetId: 0 })];
  let packetId = 1;
  for (let off = 0; off < data.length; off += payloadBytes)
    packets.push(
      encodeGvspPayload({ ...h, packetId: packetId++ }, data.subarray(off, off + payloadBytes)),
    );
  packets.push(encodeGvspTrailer({ ...h, packetId, sizeY: leader.height }));
  return packets;
}

/** GVCP PACKETRESEND_CMD code. */
const PACKET_RESEND_COMMAND = 0x0040;
/** GVCP command flag: the command uses 64-bit block ids and 32-bit packet ids. */
const GVCP_FLAG_EXTENDED_IDS = 0x10;

/**
 * A complete GVCP PACKETRESEND_CMD asking for packets `firstPacket`..`lastPacket` of a block. It
 * requests no acknowledge (the answer is the packets themselves), as GigE Vision specifies.
 */
export function encodePacketResend(
  requestId: number,
  streamChannel: number,
  blockId: bigint | number,
  firstPacket: number,
  lastPacket: number,
  extendedIds: boolean,
): Uint8Array {
  const length = extendedIds ? 20 : 12;
  const buf = new Uint8Array(8 + length);
  const view = new DataView(buf.buffer);
  view.setUint8(0, 0x42);
  view.setUint8(1, extendedIds ? GVCP_FLAG_EXTENDED_IDS : 0);
  view.setUint16(2, PACKET_RESEND_COMMAND);
  view.setUint16(4, length);
  view.setUint16(6, requestId & 0xffff);
  view.setUint16(8, streamChannel);
  const id = BigInt(blockId);
  if (extendedIds) {
    // The 16-bit block id field stays 0: the 64-bit id follows the packet ids.
    view.setUint32(12, firstPacket >>> 0);
    view.setUint32(16, lastPacket >>> 0);
    view.setBigUint64(20, BigInt.asUintN(64, id));
  } else {
    view.setUint16(10, Number(id & 0xffffn));
    view.setUint32(12, firstPacket & 0xffffff);
    view.setUint32(16, lastPacket & 0xffffff);
  }
  return buf;
}
