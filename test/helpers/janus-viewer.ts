import { RTCPeerConnection, useH264, useNACK, usePLI, useVP8 } from 'werift';
import { JanusSession, type JanusHandle } from '../../src/protocols/webrtc/relay/janus-client.js';
import { RtpFrameDecoder } from './rtp-frame-decoder.js';

/**
 * A viewer of a Janus Streaming mountpoint in Node: `watch` over the Janus HTTP API, Janus's
 * offer answered by a werift peer (ICE on the address Janus gathers on), the video decoded and
 * its pixel code read; the metadata data channel's messages kept.
 */
export class JanusViewer {
  readonly decoder: RtpFrameDecoder;
  readonly metadata: Record<string, unknown>[] = [];
  private pc: RTCPeerConnection | undefined;
  private session: JanusSession | undefined;
  private handle: JanusHandle | undefined;
  private closed = false;

  private constructor(codec: 'VP8' | 'H264') {
    this.decoder = new RtpFrameDecoder(codec);
  }

  /** Watches mountpoint `id` on the Janus at `url`; resolves once the answer was sent. */
  static async watch(
    url: string,
    id: number,
    iceAddress: string,
    codec: 'VP8' | 'H264' = 'H264',
    pin?: string,
  ): Promise<JanusViewer> {
    const viewer = new JanusViewer(codec);
    await viewer.start(url, id, iceAddress, codec, pin);
    return viewer;
  }

  /** Frame numbers decoded so far. */
  get frameNumbers(): number[] {
    return this.decoder.frameNumbers;
  }

  /** Leaves the mountpoint and closes the peer. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle?.message({ request: 'stop' }).catch(() => undefined);
    await this.session?.destroy().catch(() => undefined);
    await this.pc?.close().catch(() => undefined);
    this.decoder.close();
  }

  private async start(
    url: string,
    id: number,
    iceAddress: string,
    codec: 'VP8' | 'H264',
    pin: string | undefined,
  ) {
    this.session = await JanusSession.create({ url, timeoutMs: 5000 });
    this.handle = await this.session.attach('janus.plugin.streaming');
    await this.handle.message({ request: 'watch', id, ...(pin ? { pin } : {}) });
    const offer = await this.nextJsep();
    const feedback = [useNACK(), usePLI()];
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceInterfaceAddresses: { udp4: iceAddress },
      iceUseIpv6: false,
      iceUseTcp: false,
      bundlePolicy: 'max-bundle',
      codecs: {
        video: [
          codec === 'VP8'
            ? useVP8({ rtcpFeedback: feedback })
            : useH264({
                rtcpFeedback: feedback,
                parameters: 'profile-level-id=42e01f;packetization-mode=1',
              }),
        ],
      },
    });
    this.pc = pc;
    pc.onTransceiverAdded.subscribe((t) =>
      t.onTrack.subscribe((track) => track.onReceiveRtp.subscribe((rtp) => this.decoder.push(rtp))),
    );
    pc.onDataChannel.subscribe((channel) =>
      channel.onMessage.subscribe((m) => {
        try {
          this.metadata.push(JSON.parse(m.toString()) as Record<string, unknown>);
        } catch {
          // not JSON: not ours
        }
      }),
    );
    await pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    if (pc.iceGatheringState !== 'complete') {
      await new Promise<void>((resolve) =>
        pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve()),
      );
    }
    await this.handle.message(
      { request: 'start' },
      { type: 'answer', sdp: pc.localDescription!.sdp },
    );
  }

  /** Polls the session's events until one carries an SDP (Janus's offer after `watch`). */
  private async nextJsep(): Promise<string> {
    const end = Date.now() + 10_000;
    while (Date.now() < end) {
      for (const event of await this.session!.poll(10, AbortSignal.timeout(10_000))) {
        const jsep = event.jsep as { sdp?: string } | undefined;
        if (jsep?.sdp) return jsep.sdp;
        const error = (event.plugindata as { data?: { error?: string } } | undefined)?.data?.error;
        if (error) throw new Error(`Janus watch: ${error}`);
      }
    }
    throw new Error('Janus sent no offer within 10 s');
  }
}
