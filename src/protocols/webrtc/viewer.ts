import { randomUUID } from 'node:crypto';
import {
  type MediaStreamTrack,
  type RTCDataChannel,
  type RTCPeerConnection,
  type RTCRtpReceiver,
  type RTCRtpSender,
  type RtcpPacket,
} from 'werift';
import { BaseSession, type EncodedUnit } from '../../index.js';
import type { VideoCodec } from './params.js';
import { closePeer } from './peer.js';
import { ViewerRtpSender } from './rtp-sender.js';
import type { VideoUnit } from './video-unit.js';

/** A viewer that sent no RTCP for this long has vanished (browsers report about every second). */
export const VIEWER_SILENCE_MS = 5000;

/** What a viewer needs from its stream. */
export interface ViewerHooks {
  /** Asks the stream's encoder for a keyframe (rate-limited there unless `force`). */
  requestKeyframe(codec: VideoCodec, force: boolean): void;
  /** The viewer is gone. */
  closed(): void;
}

/**
 * One WebRTC viewer: its peer connection, its track and its own RTP sequence numbers. The
 * stream's packets are shared; only the header is rewritten here. A viewer starts on a keyframe:
 * one is asked for when it connects, again at most every 500 ms until its first RTCP report on
 * our video shows it decrypts, and once more then (a keyframe that arrived before the viewer's
 * SRTP was ready is lost, and not every viewer asks for another).
 */
export class WebrtcViewer extends BaseSession<VideoUnit> {
  /** Unguessable id of the viewer's WHEP session resource; never listed (`id` is what listings show). */
  readonly resourceId = randomUUID();
  /** PLI/FIR requests received. */
  keyframeRequests = 0;
  private readonly rtp: ViewerRtpSender;
  private waitingForKeyframe = true;
  private metadataChannel: RTCDataChannel | undefined;
  private lastRtcpAt = Date.now();
  private connectedAt: number | undefined;
  /** True once the viewer reported on our video (RTCP RR/SR): it decrypts what we send. */
  private reported = false;
  private readonly peerClosed: Promise<void>;
  private resolvePeerClosed: () => void = () => undefined;
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    readonly pc: RTCPeerConnection,
    readonly sender: RTCRtpSender,
    receiver: RTCRtpReceiver,
    /** The track on the viewer's sender (RTP goes out through `ViewerRtpSender`, beside it). */
    readonly track: MediaStreamTrack,
    readonly codec: VideoCodec,
    remote: string,
    private readonly hooks: ViewerHooks,
  ) {
    super('webrtc', remote, () => hooks.closed());
    this.rtp = new ViewerRtpSender(sender);
    this.peerClosed = new Promise((resolve) => {
      this.resolvePeerClosed = resolve;
    });
    sender.onPictureLossIndication.subscribe(() => this.onKeyframeRequest());
    sender.onRtcp.subscribe((rtcp) => this.onRtcp(rtcp, false));
    // werift routes a viewer's feedback by its sender SSRC, which may land on our receiver.
    receiver.onRtcp.subscribe((rtcp) => this.onRtcp(rtcp, true));
    pc.onDataChannel.subscribe((channel) => {
      if (channel.label === 'metadata') this.metadataChannel = channel;
    });
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed') this.close(`peer ${state}`);
      if (state === 'connected') {
        this.lastRtcpAt = Date.now();
        this.connectedAt = Date.now();
        // The first frame this viewer can use is a keyframe: ask for one now, not at the next PLI.
        this.hooks.requestKeyframe(this.codec, true);
      }
    });
    this.watchdog = setInterval(() => {
      if (Date.now() - this.lastRtcpAt > VIEWER_SILENCE_MS) this.close('viewer silent');
    }, 1000);
    this.watchdog.unref();
  }

  /** Resolves once the peer is closed after `close()`, the viewer told (RTCP BYE, close_notify). */
  get released(): Promise<void> {
    return this.peerClosed;
  }

  /** True once the viewer's RTCP showed that it receives and decrypts our video. */
  get confirmed(): boolean {
    return this.reported;
  }

  /** The bandwidth the viewer reported (REMB), in bit/s; 0 if none yet. */
  get estimatedBitrate(): number {
    return Number(this.sender.receiverEstimatedMaxBitrate);
  }

  protected deliver(unit: EncodedUnit<VideoUnit>): void {
    if (this.pc.connectionState !== 'connected') return;
    const video = unit.data.video[this.codec];
    if (!video) return;
    // Until the viewer reports, it may have lost what it got before it could decrypt: keep a
    // keyframe coming (rate-limited by the stream) for as long as a viewer may take to report.
    if (
      !this.reported &&
      this.connectedAt !== undefined &&
      Date.now() - this.connectedAt < VIEWER_SILENCE_MS
    ) {
      this.hooks.requestKeyframe(this.codec, false);
    }
    // Nothing goes out before DTLS is up (it would be lost): the first frame sent is a keyframe.
    if (!this.rtp.ready) return;
    if (this.waitingForKeyframe) {
      if (!video.keyframe) {
        // The keyframe asked for at join may have gone by before DTLS was up: ask again.
        this.hooks.requestKeyframe(this.codec, false);
        this.framesSkipped++;
        return;
      }
      this.waitingForKeyframe = false;
    }
    // Written at once, back to back: header rewrite, SRTP, send; no await in between.
    this.rtp.sendFrame(video.packets);
    this.bytesSent = this.rtp.bytesSent;
    this.framesSent++;
    if (this.metadataChannel?.readyState === 'open') this.metadataChannel.send(unit.data.metadata);
  }

  protected release(reason: string): void {
    clearInterval(this.watchdog);
    void closePeer(this.pc, this.sender, reason).then(this.resolvePeerClosed);
  }

  private onRtcp(rtcp: RtcpPacket, viaReceiver: boolean): void {
    this.lastRtcpAt = Date.now();
    if (!this.reported && (rtcp.type === 200 || rtcp.type === 201)) {
      if (rtcp.reports.some((r) => r.ssrc === this.sender.ssrc)) {
        this.reported = true;
        // Sent after the viewer surely decrypts: this keyframe arrives whole (or NACK heals it).
        this.hooks.requestKeyframe(this.codec, true);
      }
    }
    if (rtcp.type !== 206) return;
    const count = (rtcp as { feedback?: { count?: number } }).feedback?.count;
    // FIR (4) always; PLI (1) only when it missed the sender, which has its own event for it.
    if (count === 4 || (count === 1 && viaReceiver)) this.onKeyframeRequest();
  }

  private onKeyframeRequest(): void {
    this.keyframeRequests++;
    this.hooks.requestKeyframe(this.codec, false);
  }
}
