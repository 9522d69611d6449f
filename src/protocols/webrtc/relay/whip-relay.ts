import { setTimeout as sleep } from 'node:timers/promises';
import {
  errorMessage,
  type Logger,
  type RelayConfig,
  type StreamHub,
  type WhipRelayConfig,
} from '../../../index.js';
import type { VideoCodec } from '../params.js';
import { WebrtcViewer } from '../viewer.js';
import type { WebrtcWorker } from '../worker.js';
import type { RelayLinkState } from './janus-mountpoint.js';
import { overallState, relayDetails, type Relay, type RelayStatus } from './relay.js';
import {
  whipDelete,
  whipIceServers,
  whipPublish,
  type WhipEndpoint,
  type WhipIceServer,
} from './whip-client.js';
import { createPublisherPeer } from './whip-peer.js';

/** Longest wait for the DELETE that ends a session. */
const DELETE_TIMEOUT_MS = 2000;

/** A published peer: a viewer of the stream whose far end is the WHIP endpoint. */
class WhipViewer extends WebrtcViewer {
  /** Why it closed. */
  reason: string | undefined;
  /** What listings show of it beyond its counters (set by its relay). */
  details: (() => Record<string, unknown>) | undefined;

  /** The relay's state for getActiveStreams (the client's `details`). */
  describe(): Record<string, unknown> {
    return this.details?.() ?? {};
  }

  /** RTP packets sent (the count werift's sender reports in its RTCP SR, kept by the shared send path). */
  get packetsSent(): number {
    return (this.sender as unknown as { packetCount?: number }).packetCount ?? 0;
  }

  protected override release(reason: string): void {
    this.reason = reason;
    super.release(reason);
  }
}

/**
 * A `whip` relay: publishes the detector's WebRTC stream to a WHIP endpoint (RFC 9725). The
 * published peer is a viewer of the stream like any other (shared encoder and packets, NACK
 * answered, PLI/FIR and REMB from the far end honoured, silence detected): an `OPTIONS` asks for
 * ICE servers, the offer is POSTed (`Authorization: Bearer`), the answer's `Location` is DELETEd
 * when the session ends. When the endpoint goes away or refuses, it publishes again after a
 * backoff from `reconnect_min_ms` doubling to `reconnect_max_ms`.
 */
export class WhipRelay implements Relay {
  private readonly whip: WhipRelayConfig;
  private readonly codec: VideoCodec;
  private readonly endpoint: WhipEndpoint;
  private readonly stopSignal = new AbortController();
  private running: Promise<void> | undefined;
  private viewer: WhipViewer | undefined;
  private iceServers: WhipIceServer[] | undefined;
  private state: RelayLinkState = 'connecting';
  private lastError: string | undefined;
  private loggedError: string | undefined;
  private connections = 0;
  private readonly past = { packets: 0, bytes: 0 };

  constructor(
    readonly name: string,
    private readonly config: RelayConfig,
    private readonly hub: StreamHub<WebrtcWorker>,
    private readonly logger: Logger,
  ) {
    this.whip = config.whip!;
    this.codec = config.codec;
    this.endpoint = {
      url: this.whip.url,
      token: this.whip.bearer_token,
      timeoutMs: this.whip.request_timeout_ms,
    };
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    if (this.stopSignal.signal.aborted) return this.running;
    this.stopSignal.abort();
    this.viewer?.close('relay stopped');
    await this.running;
    this.state = 'stopped';
  }

  status(): RelayStatus {
    const v = this.viewer;
    const packetsSent = this.past.packets + (v?.packetsSent ?? 0);
    const bytesSent = this.past.bytes + (v?.bytesSent ?? 0);
    const stopped = this.stopSignal.signal.aborted;
    const state = stopped ? 'stopped' : this.state;
    return {
      name: this.name,
      type: 'whip',
      detector: this.config.detector,
      codec: this.codec,
      state: overallState([state], stopped),
      ...(v && !v.closed ? { session: v.id } : {}),
      packetsSent,
      bytesSent,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      targets: [
        {
          url: this.whip.url,
          state,
          packetsSent,
          bytesSent,
          ...(this.lastError ? { lastError: this.lastError } : {}),
          connections: this.connections,
        },
      ],
    };
  }

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    let wait = this.whip.reconnect_min_ms;
    while (!signal.aborted) {
      const began = Date.now();
      try {
        await this.publishOnce();
      } catch (err) {
        this.fail(errorMessage(err));
      }
      if (signal.aborted) return;
      // A session that lasted starts the backoff over; one that failed at once doubles it.
      if (Date.now() - began > this.whip.reconnect_max_ms) wait = this.whip.reconnect_min_ms;
      this.state = 'retrying';
      await sleep(wait, undefined, { signal }).catch(() => undefined);
      wait = Math.min(wait * 2, this.whip.reconnect_max_ms);
    }
  }

  /** One WHIP session: resolves or rejects when it has ended and its resource was DELETEd. */
  private async publishOnce(): Promise<void> {
    const signal = this.stopSignal.signal;
    this.state = this.connections === 0 ? 'connecting' : 'retrying';
    const worker = await this.hub.ensure(this.config.detector);
    let viewer: WhipViewer;
    let resource: string;
    let ended: Promise<void>;
    try {
      this.iceServers ??= await whipIceServers(this.endpoint, signal);
      const peer = await createPublisherPeer(this.codec, worker.params, this.iceServers);
      let session;
      try {
        session = await whipPublish(this.endpoint, peer.offer, signal);
      } catch (err) {
        await peer.pc.close().catch(() => undefined);
        throw err;
      }
      resource = session.resource;
      if (session.iceServers.length > 0) this.iceServers = session.iceServers;
      try {
        await peer.pc.setRemoteDescription({ type: 'answer', sdp: session.answer });
      } catch (err) {
        await peer.pc.close().catch(() => undefined);
        await whipDelete(this.endpoint, resource);
        throw new Error(`the WHIP endpoint's SDP answer is not usable: ${errorMessage(err)}`, {
          cause: err,
        });
      }
      ended = new Promise<void>((resolve) => {
        viewer = new WhipViewer(
          peer.pc,
          peer.transceiver.sender,
          peer.transceiver.receiver,
          peer.track,
          this.codec,
          this.whip.url,
          {
            requestKeyframe: (codec, force) => worker.requestKeyframe(codec, force),
            closed: () => {
              worker.removeSession(viewer);
              resolve();
            },
          },
        );
      });
      peer.pc.connectionStateChange.subscribe((state) => {
        if (state !== 'connected' || viewer.closed) return;
        this.state = 'live';
        this.connections++;
        this.lastError = undefined;
        if (this.loggedError !== undefined) this.logger.info('WHIP relay: publishing again');
        this.loggedError = undefined;
      });
      this.viewer = viewer!;
      viewer!.details = () => relayDetails(this.status());
      if (signal.aborted || !worker.running)
        viewer!.close(signal.aborted ? 'relay stopped' : 'stream stopped');
      else worker.addViewer(viewer!);
    } finally {
      this.hub.release(worker);
    }
    await ended;
    await viewer!.released;
    this.past.packets += viewer!.packetsSent;
    this.past.bytes += viewer!.bytesSent;
    this.viewer = undefined;
    // Bounded: a stop (and the server's shutdown) must not wait long for a silent endpoint.
    const problem = await whipDelete(
      { ...this.endpoint, timeoutMs: Math.min(this.endpoint.timeoutMs, DELETE_TIMEOUT_MS) },
      resource,
    );
    if (problem && signal.aborted) {
      this.logger.warn({ err: problem }, 'WHIP relay: could not end the session');
    }
    if (!signal.aborted) throw new Error(`WHIP session ended: ${viewer!.reason ?? 'closed'}`);
  }

  private fail(message: string): void {
    if (this.stopSignal.signal.aborted) return;
    this.lastError = message;
    this.state = 'retrying';
    if (this.loggedError !== message) {
      this.loggedError = message;
      this.logger.warn(
        { url: this.whip.url, err: message },
        'WHIP relay: not publishing; retrying',
      );
    }
  }
}
