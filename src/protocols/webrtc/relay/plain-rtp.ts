import { randomInt } from 'node:crypto';
import type { RtpPacket } from 'werift';

/** Bytes of an RTP header without CSRCs or extensions. */
export const RTP_HEADER_BYTES = 12;

/**
 * One relay's own RTP numbering over the stream's shared packets, for plain (unencrypted) RTP:
 * its SSRC, payload type and sequence numbers, the packet's marker and timestamp kept. Each
 * packet gets a fresh 12-byte header (a send may still hold the previous one); the payload is
 * the shared one, sent beside it without a copy.
 */
export class PlainRtpWriter {
  /** The relay's SSRC (random). */
  readonly ssrc = randomInt(1, 0xffff_ffff);
  private sequence = randomInt(0, 0x10000);

  constructor(
    /** The payload type the receiver expects (e.g. the mountpoint's `pt`). */
    readonly payloadType: number,
  ) {}

  /** The header of `packet` with this relay's numbering; advances the sequence number. */
  header(packet: RtpPacket): Buffer {
    const h = Buffer.allocUnsafe(RTP_HEADER_BYTES);
    h[0] = 0x80; // version 2, no padding, extension or CSRC
    h[1] = (packet.header.marker ? 0x80 : 0) | (this.payloadType & 0x7f);
    h.writeUInt16BE(this.sequence, 2);
    h.writeUInt32BE(packet.header.timestamp >>> 0, 4);
    h.writeUInt32BE(this.ssrc >>> 0, 8);
    this.sequence = (this.sequence + 1) & 0xffff;
    return h;
  }
}
