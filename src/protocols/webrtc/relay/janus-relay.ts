import type { JanusRelayConfig, Logger, RelayConfig, StreamHub } from '../../../index.js';
import type { VideoCodec } from '../params.js';
import type { WebrtcWorker } from '../worker.js';
import { JanusMountpoint, mountpointIdOf, type MountpointSpec } from './janus-mountpoint.js';
import { overallState, relayDetails, type Relay, type RelayStatus } from './relay.js';
import { RtpRelaySession, type RtpDestination } from './rtp-relay-session.js';
import { StreamLink } from './stream-link.js';

/**
 * A `janus` relay: one session in the detector's WebRTC stream (sharing its encoder of the
 * relay's codec) sends the stream's RTP packets to an RTP mountpoint of the Streaming plugin on
 * each configured Janus server, kept alive there by a JanusMountpoint each. A keyframe is asked
 * for whenever a mountpoint is (re)created and every `keyframe_interval_ms` while any is live:
 * viewers of Janus ask Janus, not liveview, for keyframes over plain RTP.
 */
export class JanusRelay implements Relay {
  private readonly mountpoints: JanusMountpoint[];
  private readonly link: StreamLink<RtpRelaySession>;
  private readonly codec: VideoCodec;
  private readonly janus: JanusRelayConfig;
  private readonly spec: MountpointSpec;
  private keyframeTimer: NodeJS.Timeout | undefined;
  private requestKeyframe: ((force: boolean) => void) | undefined;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly config: RelayConfig,
    hub: StreamHub<WebrtcWorker>,
    private readonly logger: Logger,
  ) {
    this.codec = config.codec;
    this.janus = config.janus!;
    this.spec = {
      name,
      id: this.janus.mountpoint_id ?? mountpointIdOf(name),
      codec: this.codec,
      janus: this.janus,
      description: this.janus.description ?? `liveview ${config.detector}`,
    };
    this.mountpoints = this.janus.servers.map(
      (server) =>
        new JanusMountpoint(
          server,
          this.spec,
          {
            live: (d) => this.destinationLive(d),
            lost: (d) => this.link.session?.removeDestination(d),
          },
          logger,
        ),
    );
    this.link = new StreamLink(
      hub,
      config.detector,
      (worker, left) => this.join(worker, left),
      logger,
    );
  }

  start(): void {
    this.link.start();
    for (const m of this.mountpoints) m.start();
    this.keyframeTimer = setInterval(() => {
      if (this.mountpoints.some((m) => m.state === 'live')) this.requestKeyframe?.(false);
    }, this.janus.keyframe_interval_ms);
    this.keyframeTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.keyframeTimer);
    await this.link.stop('relay stopped');
    await Promise.all(this.mountpoints.map((m) => m.stop()));
  }

  status(): RelayStatus {
    const targets = this.mountpoints.map((m) => ({
      url: m.server.url,
      state: m.state,
      packetsSent: m.packetsSent,
      bytesSent: m.bytesSent,
      ...(m.viewers !== undefined ? { viewers: m.viewers } : {}),
      ...(m.lastError ? { lastError: m.lastError } : {}),
      connections: m.creations,
    }));
    const viewers = targets.filter((t) => t.viewers !== undefined);
    const lastError = targets.find((t) => t.lastError)?.lastError ?? this.link.lastError;
    return {
      name: this.name,
      type: 'janus',
      detector: this.config.detector,
      codec: this.codec,
      state: overallState(
        targets.map((t) => t.state),
        this.stopped,
      ),
      ...(this.link.session ? { session: this.link.session.id } : {}),
      mountpointId: this.spec.id,
      packetsSent: targets.reduce((n, t) => n + t.packetsSent, 0),
      bytesSent: targets.reduce((n, t) => n + t.bytesSent, 0),
      ...(viewers.length > 0 ? { viewers: viewers.reduce((n, t) => n + t.viewers!, 0) } : {}),
      ...(lastError ? { lastError } : {}),
      targets,
    };
  }

  private join(worker: WebrtcWorker, left: () => void): RtpRelaySession {
    const session = worker.openSink(
      { codec: this.codec, label: `relay ${this.name} (janus)` },
      (hooks) =>
        new RtpRelaySession(
          {
            codec: this.codec,
            label: `relay ${this.name} (janus)`,
            payloadType: this.janus.payload_type,
            multicastTtl: this.janus.multicast_ttl,
          },
          {
            requestKeyframe: hooks.requestKeyframe,
            closed: () => {
              hooks.closed();
              left();
            },
          },
        ),
    );
    session.details = () => relayDetails(this.status());
    this.requestKeyframe = (force) => worker.requestKeyframe(this.codec, force);
    for (const m of this.mountpoints) if (m.destination) session.addDestination(m.destination);
    return session;
  }

  private destinationLive(destination: RtpDestination): void {
    this.link.session?.addDestination(destination);
    // A new mountpoint's viewers can only start at a keyframe.
    this.requestKeyframe?.(true);
  }
}
