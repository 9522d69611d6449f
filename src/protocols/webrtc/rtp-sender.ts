import { RTP_EXTENSION_URI, type RTCRtpSender, type RtpPacket } from 'werift';
import { SrtpProtector } from './srtp.js';

/**
 * The playout-delay RTP header extension: the sender's wish for the receiver's playout delay
 * (min and max, 12 bits each, in 10 ms units). Chromium offers it and, with both 0, renders each
 * frame as soon as it is decoded instead of holding it in its jitter buffer.
 */
export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';

/** Packets per viewer kept for retransmission (NACK): a large keyframe fits. */
export const RETRANSMIT_HISTORY = 1024;

/** 2^18: abs-send-time is seconds in 6.18 fixed point. */
const ABS_SEND_TIME_SCALE = 262_144;
/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
const NTP_EPOCH_OFFSET_S = 2_208_988_800;

/** What of werift's sender and DTLS transport this path reads and keeps up to date (werift 0.25). */
interface SenderInternals {
  ssrc: number;
  codec?: { payloadType: number };
  mid?: string;
  headerExtensions: { id: number; uri: string }[];
  stopped?: boolean;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  octetCount: number;
  packetCount: number;
  headerBytesSent: number;
  retransmittedPacketsSent: number;
  retransmittedBytesSent: number;
  dtlsTransport?: {
    state: string;
    bytesSent: number;
    packetsSent: number;
    srtp?: {
      localContext?: {
        profile: number;
        srtpSessionKey: Buffer;
        srtpSessionSalt: Buffer;
        srtpSessionAuthTag: Buffer;
      };
    };
    iceTransport: { connection: { send(data: Buffer): Promise<void> } };
  };
  runRtcp(): Promise<void>;
}

function ignore(): void {
  // A send that fails (socket closed, consent expired) is a lost packet, nothing more.
}

/**
 * One viewer's RTP output, beside werift's `writeRtp` path: the header is written into one
 * reused buffer (this viewer's SSRC, payload type, sequence number, and the negotiated header
 * extensions mid, abs-send-time and playout-delay 0/0), protected by SRTP with the DTLS
 * transport's keys in one cipher operation, and handed to the ICE connection. No packet or header
 * objects per viewer and packet; the shared packets are only read. It answers NACKs from its own
 * history of RETRANSMIT_HISTORY packets and keeps the werift sender's counters (for its sender
 * reports) up to date.
 */
export class ViewerRtpSender {
  /** Packets sent, retransmissions excluded. */
  packetsSent = 0;
  /** Payload bytes sent, retransmissions excluded. */
  bytesSent = 0;
  /** Packets sent again for NACKs. */
  retransmitted = 0;
  private readonly s: SenderInternals;
  private protector: SrtpProtector | undefined;
  private readonly header = Buffer.alloc(12 + 4 + 4 * 15);
  private headerLength = 12;
  private extensionBytes = 0;
  private absSendTimeAt = -1;
  private payloadType = 0;
  private sequence: number;
  private roc = 0;
  private readonly history: (RtpPacket | undefined)[] = new Array<RtpPacket | undefined>(
    RETRANSMIT_HISTORY,
  );
  private readonly historySeq = new Int32Array(RETRANSMIT_HISTORY).fill(-1);
  private readonly historyRoc = new Uint32Array(RETRANSMIT_HISTORY);

  constructor(sender: RTCRtpSender, firstSequence = Math.floor(Math.random() * 0x10000)) {
    this.s = sender as unknown as SenderInternals;
    this.sequence = firstSequence & 0xffff;
    sender.onGenericNack.subscribe((nack) => this.retransmit(nack.lost));
  }

  /** True once DTLS is connected and this sender has its keys: packets can go out. */
  get ready(): boolean {
    if (this.s.stopped || this.s.dtlsTransport?.state !== 'connected') return false;
    return this.protector !== undefined || this.prepare();
  }

  /** The sequence number of the next packet. */
  get nextSequence(): number {
    return this.sequence;
  }

  /** Sends one frame's packets (shared by all viewers) back to back; false if not ready. */
  sendFrame(packets: readonly RtpPacket[]): boolean {
    if (!this.ready || packets.length === 0) return false;
    const connection = this.s.dtlsTransport!.iceTransport.connection;
    const nowMs = performance.timeOrigin + performance.now();
    const absSendTime = Math.floor((nowMs / 1000 + NTP_EPOCH_OFFSET_S) * ABS_SEND_TIME_SCALE);
    let bytes = 0;
    let wire = 0;
    for (const packet of packets) {
      const seq = this.sequence;
      const slot = seq % RETRANSMIT_HISTORY;
      this.history[slot] = packet;
      this.historySeq[slot] = seq;
      this.historyRoc[slot] = this.roc;
      const data = this.seal(packet, seq, this.roc, absSendTime);
      connection.send(data).catch(ignore);
      bytes += packet.payload.length;
      wire += data.length;
      this.sequence = (seq + 1) & 0xffff;
      if (this.sequence === 0) this.roc = (this.roc + 1) >>> 0;
    }
    const s = this.s;
    const n = packets.length;
    this.packetsSent += n;
    this.bytesSent += bytes;
    // What werift's sender reports (RTCP SR) are made of.
    s.packetCount = (s.packetCount + n) >>> 0;
    s.octetCount += bytes;
    s.headerBytesSent += n * this.headerLength;
    s.rtpTimestamp = packets[n - 1].header.timestamp;
    s.ntpTimestamp = ntpTime(nowMs);
    const dtls = s.dtlsTransport!;
    dtls.packetsSent += n;
    dtls.bytesSent += wire;
    return true;
  }

  private retransmit(lost: readonly number[]): void {
    if (!this.ready) return;
    const connection = this.s.dtlsTransport!.iceTransport.connection;
    const nowMs = performance.timeOrigin + performance.now();
    const absSendTime = Math.floor((nowMs / 1000 + NTP_EPOCH_OFFSET_S) * ABS_SEND_TIME_SCALE);
    for (const seq of lost) {
      const slot = seq % RETRANSMIT_HISTORY;
      const packet = this.history[slot];
      if (!packet || this.historySeq[slot] !== seq) continue;
      connection.send(this.seal(packet, seq, this.historyRoc[slot], absSendTime)).catch(ignore);
      this.retransmitted++;
      this.s.retransmittedPacketsSent++;
      this.s.retransmittedBytesSent += packet.payload.length;
    }
  }

  private seal(packet: RtpPacket, seq: number, roc: number, absSendTime: number): Buffer {
    const h = this.header;
    h[1] = (packet.header.marker ? 0x80 : 0) | this.payloadType;
    h.writeUInt16BE(seq, 2);
    h.writeUInt32BE(packet.header.timestamp >>> 0, 4);
    const at = this.absSendTimeAt;
    if (at >= 0) {
      h[at] = (absSendTime >>> 16) & 0xff;
      h[at + 1] = (absSendTime >>> 8) & 0xff;
      h[at + 2] = absSendTime & 0xff;
    }
    return this.protector!.protect(h, this.headerLength, packet.payload, roc);
  }

  /** Reads the keys and the negotiated extensions once DTLS is up; lays out the header. */
  private prepare(): boolean {
    const s = this.s;
    const context = s.dtlsTransport?.srtp?.localContext;
    if (!context || !s.codec) return false;
    this.protector = new SrtpProtector({
      profile: context.profile,
      key: context.srtpSessionKey,
      salt: context.srtpSessionSalt,
      authKey: context.srtpSessionAuthTag,
    });
    this.payloadType = s.codec.payloadType & 0x7f;
    const h = this.header;
    h[0] = 0x80; // version 2
    h.writeUInt32BE(s.ssrc >>> 0, 8);
    // RFC 8285 one-byte header extensions (ids 1..14).
    let offset = 16;
    for (const { id, uri } of s.headerExtensions ?? []) {
      if (id < 1 || id > 14) continue;
      let value: Buffer | undefined;
      if (uri === RTP_EXTENSION_URI.sdesMid && s.mid) value = Buffer.from(s.mid, 'utf8');
      else if (uri === RTP_EXTENSION_URI.absSendTime) value = Buffer.alloc(3);
      else if (uri === PLAYOUT_DELAY_URI) value = Buffer.alloc(3); // min 0, max 0
      if (!value || value.length < 1 || value.length > 16) continue;
      if (offset + 1 + value.length > h.length) break;
      h[offset] = (id << 4) | (value.length - 1);
      if (uri === RTP_EXTENSION_URI.absSendTime) this.absSendTimeAt = offset + 1;
      value.copy(h, offset + 1);
      offset += 1 + value.length;
    }
    if (offset > 16) {
      const padded = Math.ceil((offset - 16) / 4) * 4;
      h.fill(0, offset, 16 + padded);
      h[0] |= 0x10; // X: an extension header follows
      h.writeUInt16BE(0xbede, 12);
      h.writeUInt16BE(padded / 4, 14);
      this.headerLength = 16 + padded;
      this.extensionBytes = padded + 4;
    }
    // werift starts its sender reports with the first packet it sends itself: this path sends all.
    void s.runRtcp();
    return true;
  }

  /** Bytes of header extensions in every packet (0 if none were negotiated). */
  get headerExtensionBytes(): number {
    return this.extensionBytes;
  }
}

/** NTP time (RFC 3550: 32.32 fixed point seconds since 1900) of a Unix time in ms. */
export function ntpTime(unixMs: number): bigint {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 0x1_0000_0000);
  return (BigInt(seconds + NTP_EPOCH_OFFSET_S) << 32n) | BigInt(fraction >>> 0);
}
