import {
  RTCPeerConnection,
  ReceiverEstimatedMaxBitrate,
  RtcpPayloadSpecificFeedback,
  useH264,
  useNACK,
  usePLI,
  useREMB,
  useVP8,
  type RTCDataChannel,
  type RTCRtpTransceiver,
  type RtpPacket,
} from 'werift';
import { onlyCandidatesOn } from '../../src/protocols/webrtc/peer.js';
import { RtpFrameDecoder } from './rtp-frame-decoder.js';

/** A decoded video frame and what its pixel code says. */
export interface ViewedFrame {
  width: number;
  height: number;
  keyframe: boolean;
  /** From the pixel code (undefined if unreadable). */
  frameNumber: number | undefined;
  /** Capture time from the pixel code, ms since the epoch. */
  timestampMs: number | undefined;
  /** When it was decoded, ms since the epoch. */
  receivedAt: number;
}

/**
 * A WebRTC viewer in Node (werift) for tests: offers to receive video (and a `metadata` data
 * channel), depacketizes and decodes what arrives with FFmpeg (node-av) and reads the pixel code.
 * ICE stays on loopback.
 */
export class TestViewer {
  readonly pc: RTCPeerConnection;
  readonly transceiver: RTCRtpTransceiver;
  readonly channel: RTCDataChannel | undefined;
  readonly frames: ViewedFrame[] = [];
  readonly metadata: Record<string, unknown>[] = [];
  private decoder: RtpFrameDecoder | undefined;
  private codecName: 'VP8' | 'H264' | undefined;
  private mediaSsrc = 0;
  private closed = false;

  constructor(options: { codecs?: ('VP8' | 'H264')[]; dataChannel?: boolean } = {}) {
    const codecs = options.codecs ?? ['VP8', 'H264'];
    const feedback = [useNACK(), usePLI(), useREMB()];
    this.pc = new RTCPeerConnection({
      iceServers: [],
      iceAdditionalHostAddresses: ['127.0.0.1'],
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      iceUseIpv6: false,
      iceUseTcp: false,
      bundlePolicy: 'max-bundle',
      codecs: {
        video: codecs.map((c) =>
          c === 'VP8'
            ? useVP8({ rtcpFeedback: feedback })
            : useH264({
                rtcpFeedback: feedback,
                parameters:
                  'profile-level-id=42e01f;packetization-mode=1;level-asymmetry-allowed=1',
              }),
        ),
      },
    });
    this.transceiver = this.pc.addTransceiver('video', { direction: 'recvonly' });
    if (options.dataChannel !== false) {
      this.channel = this.pc.createDataChannel('metadata');
      this.channel.onMessage.subscribe((m) =>
        this.metadata.push(JSON.parse(m.toString()) as Record<string, unknown>),
      );
    }
    this.transceiver.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => this.onRtp(rtp));
    });
  }

  /** The offer SDP after ICE gathering, with loopback candidates only. */
  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    if (this.pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) =>
        this.pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve()),
      );
    }
    return onlyCandidatesOn(this.pc.localDescription!.sdp, ['127.0.0.1']);
  }

  /** Applies the server's answer. */
  async accept(answer: string): Promise<void> {
    this.codecName = /a=rtpmap:\d+ H264\/90000/.test(answer) ? 'H264' : 'VP8';
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  /** The negotiated codec. */
  get codec(): 'VP8' | 'H264' | undefined {
    return this.codecName;
  }

  /** Asks the sender for a keyframe (RTCP PLI). */
  async sendPli(): Promise<void> {
    await this.transceiver.receiver.sendRtcpPLI(this.mediaSsrc);
  }

  /** Reports a bandwidth estimate (RTCP REMB), as a browser on a slow link does. */
  async sendRemb(bitrate: number): Promise<void> {
    let exp = 0;
    while (bitrate / 2 ** exp >= 2 ** 18) exp++;
    const mantissa = Math.floor(bitrate / 2 ** exp);
    const remb = new ReceiverEstimatedMaxBitrate({
      senderSsrc: this.transceiver.receiver.rtcpSsrc,
      mediaSsrc: 0,
      brExp: exp,
      brMantissa: mantissa,
      bitrate: BigInt(mantissa * 2 ** exp),
      ssrcNum: 1,
      ssrcFeedbacks: [this.mediaSsrc],
    });
    await this.transceiver.receiver.dtlsTransport.sendRtcp([
      new RtcpPayloadSpecificFeedback({ feedback: remb }),
    ]);
  }

  /** Closes the peer (like a viewer closing its tab cleanly). */
  async close(): Promise<void> {
    this.closed = true;
    await this.pc.close();
    this.decoder?.close();
    this.decoder = undefined;
  }

  /** RTP packets received. */
  get rtpPackets(): number {
    return this.decoder?.rtpPackets ?? 0;
  }

  /** Frames that could not be depacketized or decoded. */
  get decodeErrors(): number {
    return this.decoder?.decodeErrors ?? 0;
  }

  private onRtp(rtp: RtpPacket): void {
    if (this.closed) return;
    this.mediaSsrc = rtp.header.ssrc;
    this.decoder ??= new RtpFrameDecoder(this.codecName ?? 'VP8', this.frames);
    this.decoder.push(rtp);
  }
}
