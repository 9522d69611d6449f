import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { EncodedUnit } from '../../../index.js';
import { VideoSink, type VideoSinkHooks, type VideoSinkOptions } from '../video-sink.js';
import type { VideoUnit } from '../video-unit.js';
import { PlainRtpWriter } from './plain-rtp.js';

/** Where one receiver of a relay's plain RTP listens, and what was sent to it. */
export interface RtpDestination {
  /** IP address (resolved once: no name lookup per packet). */
  readonly address: string;
  /** UDP port of the video. */
  readonly videoPort: number;
  /** UDP port of the metadata (one JSON datagram per frame), if any. */
  readonly dataPort?: number;
  /** RTP packets sent. */
  packetsSent: number;
  /** Bytes sent (headers included). */
  bytesSent: number;
  /** Sends that failed. */
  sendErrors: number;
}

/** Options of a relay session. */
export interface RtpRelayOptions extends VideoSinkOptions {
  /** Payload type of the video. */
  payloadType: number;
  /** TTL of multicast packets (default 1). */
  multicastTtl?: number;
}

/**
 * A session of a WebRTC stream that sends the stream's RTP packets (the ones its viewers get,
 * packetized once) as plain RTP over UDP to any number of destinations (Janus mountpoints), with
 * its own SSRC and sequence numbers, plus each frame's metadata to a destination's data port.
 * Destinations come and go while it runs (a Janus server restarts); with none it sends nothing.
 */
export class RtpRelaySession extends VideoSink {
  private readonly destinations = new Set<RtpDestination>();
  private readonly writer: PlainRtpWriter;
  private readonly sockets: { udp4?: Socket; udp6?: Socket } = {};
  private readonly multicastTtl: number;
  /** What listings show of this session beyond its counters (set by its relay). */
  details: (() => Record<string, unknown>) | undefined;

  constructor(options: RtpRelayOptions, hooks: VideoSinkHooks) {
    super(options, hooks);
    this.writer = new PlainRtpWriter(options.payloadType);
    this.multicastTtl = options.multicastTtl ?? 1;
  }

  /** The relay's SSRC. */
  get ssrc(): number {
    return this.writer.ssrc;
  }

  /** The relay's state for getActiveStreams (the client's `details`). */
  describe(): Record<string, unknown> {
    return this.details?.() ?? {};
  }

  /** Starts sending to a destination (from the next frame). */
  addDestination(destination: RtpDestination): void {
    if (!this.closed) this.destinations.add(destination);
  }

  /** Stops sending to a destination. */
  removeDestination(destination: RtpDestination): void {
    this.destinations.delete(destination);
  }

  protected override deliver(unit: EncodedUnit<VideoUnit>): void {
    const video = unit.data.video[this.codec];
    if (!video || this.destinations.size === 0) return;
    const targets = [...this.destinations];
    for (const packet of video.packets) {
      const header = this.writer.header(packet);
      const bytes = header.length + packet.payload.length;
      for (const d of targets) {
        this.socketFor(d.address).send([header, packet.payload], d.videoPort, d.address, (err) => {
          if (err) d.sendErrors++;
        });
        d.packetsSent++;
        d.bytesSent += bytes;
        this.bytesSent += bytes;
      }
    }
    for (const d of targets) {
      if (d.dataPort === undefined) continue;
      this.socketFor(d.address).send(unit.data.metadata, d.dataPort, d.address, (err) => {
        if (err) d.sendErrors++;
      });
    }
    this.framesSent++;
  }

  protected override release(reason: string): void {
    super.release(reason);
    this.destinations.clear();
    for (const socket of [this.sockets.udp4, this.sockets.udp6]) socket?.close();
  }

  /** The socket for an address family, opened at its first use. */
  private socketFor(address: string): Socket {
    const family = isIPv6(address) ? 'udp6' : 'udp4';
    let socket = this.sockets[family];
    if (!socket) {
      socket = createSocket(family);
      // A failed send is counted by its callback; an error event must not end the process.
      socket.on('error', () => undefined);
      const ttl = this.multicastTtl;
      socket.bind(0, () => {
        try {
          socket!.setMulticastTTL(ttl);
        } catch {
          // Only multicast destinations care; unicast works without it.
        }
      });
      socket.unref();
      this.sockets[family] = socket;
    }
    return socket;
  }
}
