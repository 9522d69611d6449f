import { randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, type Logger } from '../../../index.js';
import type { JanusRelayConfig, JanusServerConfig } from '../../../index.js';
import type { VideoCodec } from '../params.js';
import { JanusError, JanusSession, type JanusHandle } from './janus-client.js';
import type { RtpDestination } from './rtp-relay-session.js';

/** Streaming plugin error: no such mountpoint (it was destroyed, or Janus restarted). */
const NO_SUCH_MOUNTPOINT = 455;
/** Streaming plugin error: cannot create (an id already in use, among others). */
const CANT_CREATE = 456;
/** First wait before trying a server again; doubles up to RETRY_MAX_MS. */
const RETRY_MIN_MS = 250;
/** Longest wait between two attempts: a restarted Janus is fed again within this. */
const RETRY_MAX_MS = 2000;
/** What a destroy on stop may take before the relay stops without it. */
const DESTROY_TIMEOUT_MS = 2000;
/** A mountpoint whose video got nothing for this long is not fed by anyone: it may be replaced. */
const STALE_MS = 3000;
/** H.264 as liveview encodes it: constrained baseline, packetization mode 1. */
const H264_FMTP = 'profile-level-id=42e01f;packetization-mode=1';

/** States of a relay's link to one server (or WHIP endpoint). */
export type RelayLinkState = 'connecting' | 'live' | 'retrying' | 'stopped';

/** What the mountpoint is, on every server of a relay. */
export interface MountpointSpec {
  /** The relay's name (also the mountpoint's name). */
  name: string;
  /** Mountpoint id. */
  id: number;
  /** The codec fed. */
  codec: VideoCodec;
  /** The relay's Janus settings. */
  janus: JanusRelayConfig;
  /** Description (Janus `list`). */
  description: string;
}

/** What a mountpoint tells its relay. */
export interface MountpointHooks {
  /** The mountpoint was (re)created: send to `destination` now (a keyframe is due). */
  live(destination: RtpDestination): void;
  /** The mountpoint or its server is gone: stop sending to `destination`. */
  lost(destination: RtpDestination): void;
}

/** A stable mountpoint id from a relay's name (FNV-1a), so that viewers find it after restarts. */
export function mountpointIdOf(name: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(name, 'utf8')) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return (h % 0x7fff_fffe) + 1;
}

/**
 * One relay's mountpoint on one Janus server, kept alive: creates a session, attaches the
 * Streaming plugin and creates an RTP mountpoint (replacing a stale one of the same id), then
 * asks `info` every `poll_interval_ms` (which also keeps the session alive and reads the viewer
 * count). A failed request (Janus restarted or unreachable, mountpoint destroyed) starts over
 * after a short backoff; `stop()` destroys the mountpoint and the session.
 */
export class JanusMountpoint {
  /** Where the link is. */
  state: RelayLinkState = 'connecting';
  /** The last failure, until the mountpoint is live again. */
  lastError: string | undefined;
  /** Viewers of the mountpoint on this server, as its last `info` said. */
  viewers: number | undefined;
  /** Times the mountpoint was created (1 at the first success). */
  creations = 0;
  /** Where RTP goes while live. */
  destination: RtpDestination | undefined;
  private readonly stopSignal = new AbortController();
  /** The handle that created the current mountpoint (undefined while there is none of ours). */
  private handle: JanusHandle | undefined;
  private running: Promise<void> | undefined;
  private loggedError: string | undefined;
  /** The mountpoint's `metadata`: whose it is, so that one created by another feeder is told apart. */
  private readonly owner = `liveview relay ${randomUUID()}`;

  constructor(
    /** The server. */
    readonly server: JanusServerConfig,
    private readonly spec: MountpointSpec,
    private readonly hooks: MountpointHooks,
    private readonly logger: Logger,
  ) {}

  /** Starts keeping the mountpoint. */
  start(): void {
    this.running ??= this.run();
  }

  /** Packets sent to this server (0 before the first creation). */
  get packetsSent(): number {
    return this.sent.packets;
  }

  /** Bytes sent to this server. */
  get bytesSent(): number {
    return this.sent.bytes;
  }

  /** Stops: destroys the mountpoint and the session (errors only logged). */
  async stop(): Promise<void> {
    if (this.stopSignal.signal.aborted) return this.running;
    this.stopSignal.abort();
    await this.running;
    this.state = 'stopped';
  }

  /** Counts of destinations that were replaced, plus the current one. */
  private readonly past = { packets: 0, bytes: 0 };
  private get sent(): { packets: number; bytes: number } {
    return {
      packets: this.past.packets + (this.destination?.packetsSent ?? 0),
      bytes: this.past.bytes + (this.destination?.bytesSent ?? 0),
    };
  }

  private async run(): Promise<void> {
    let wait = RETRY_MIN_MS;
    const signal = this.stopSignal.signal;
    while (!signal.aborted) {
      let session: JanusSession | undefined;
      try {
        this.state = this.creations === 0 ? 'connecting' : 'retrying';
        // The stop signal cancels requests in flight: a stop never waits for a silent server.
        session = await JanusSession.create(
          {
            url: this.server.url,
            apiSecret: this.server.api_secret,
            timeoutMs: this.spec.janus.request_timeout_ms,
          },
          signal,
        );
        const handle = await session.attach('janus.plugin.streaming', signal);
        const destination = await this.create(handle);
        // From here the mountpoint is ours to destroy (never one that another feeder made).
        this.handle = handle;
        if (signal.aborted) {
          await this.destroy(session);
          return;
        }
        this.creations++;
        this.destination = destination;
        this.state = 'live';
        this.lastError = undefined;
        if (this.loggedError !== undefined || this.creations > 1)
          this.logger.info(
            { server: this.server.url, relay: this.spec.name },
            'Janus mountpoint created again',
          );
        this.loggedError = undefined;
        wait = RETRY_MIN_MS;
        this.hooks.live(destination);
        await this.watch(handle);
      } catch (err) {
        this.fail(err);
        // The session may outlive a lost mountpoint: do not leave it to Janus's timeout.
        if (!signal.aborted) void session?.destroy().catch(() => undefined);
      }
      if (signal.aborted) {
        await this.destroy(session);
        return;
      }
      await sleep(wait, undefined, { signal }).catch(() => undefined);
      wait = Math.min(wait * 2, RETRY_MAX_MS);
    }
  }

  /** Polls `info` until it fails (throws) or the mountpoint is stopped (returns). */
  private async watch(handle: JanusHandle): Promise<void> {
    const signal = this.stopSignal.signal;
    for (;;) {
      try {
        await sleep(this.spec.janus.poll_interval_ms, undefined, { signal });
      } catch {
        return;
      }
      const answer = await handle.request(
        { request: 'info', id: this.spec.id, ...this.secret() },
        signal,
      );
      const info = answer.info as { viewers?: unknown; metadata?: unknown } | undefined;
      if (info?.metadata !== this.owner) {
        throw new JanusError(
          `mountpoint ${this.spec.id} was replaced by another feeder (another liveview with a relay of the same name?); give each relay its own janus.mountpoint_id`,
          NO_SUCH_MOUNTPOINT,
        );
      }
      if (typeof info.viewers === 'number') this.viewers = info.viewers;
    }
  }

  /** Creates the mountpoint (a stale one of the same id is destroyed first) and returns where to send. */
  private async create(handle: JanusHandle): Promise<RtpDestination> {
    const { janus, codec } = this.spec;
    const iface = this.server.bind ? { iface: this.server.bind } : {};
    const mcast = janus.multicast ? { mcast: janus.multicast } : {};
    const media: Record<string, unknown>[] = [
      {
        type: 'video',
        mid: 'v',
        label: 'video',
        port: this.server.video_port,
        pt: janus.payload_type,
        codec: codec === 'H264' ? 'h264' : 'vp8',
        ...(codec === 'H264' ? { fmtp: H264_FMTP } : {}),
        ...iface,
        ...mcast,
      },
    ];
    if (janus.metadata) {
      media.push({
        type: 'data',
        mid: 'd',
        label: 'metadata',
        port: this.server.data_port,
        datatype: 'text',
        ...iface,
        ...mcast,
      });
    }
    const request = {
      request: 'create',
      type: 'rtp',
      id: this.spec.id,
      name: this.spec.name,
      description: this.spec.description,
      metadata: this.owner,
      is_private: janus.is_private,
      permanent: false,
      media,
      ...(this.server.admin_key ? { admin_key: this.server.admin_key } : {}),
      ...(janus.secret ? { secret: janus.secret } : {}),
      ...(janus.pin ? { pin: janus.pin } : {}),
    };
    const signal = this.stopSignal.signal;
    let created: Record<string, unknown>;
    try {
      created = await handle.request(request, signal);
    } catch (err) {
      if (!(err instanceof JanusError) || err.code !== CANT_CREATE) throw err;
      // Ours (a create whose answer was lost), or left by a feeder that is gone (liveview stopped
      // without destroying it): replace it. One that is fed by someone else stays.
      await this.checkReplaceable(handle, signal);
      await handle
        .request({ request: 'destroy', id: this.spec.id, ...this.secret() }, signal)
        .catch((e: unknown) => {
          throw new JanusError(
            `mountpoint ${this.spec.id} exists on Janus and cannot be replaced (${errorMessage(e)}); set janus.mountpoint_id to a free id or janus.secret to its secret`,
            CANT_CREATE,
          );
        });
      created = await handle.request(request, signal);
    }
    const ports = ((created.stream as { ports?: unknown } | undefined)?.ports ?? []) as {
      type?: string;
      port?: number;
    }[];
    const videoPort = ports.find((p) => p.type === 'video')?.port ?? this.server.video_port;
    const dataPort = ports.find((p) => p.type === 'data')?.port;
    if (!videoPort) throw new JanusError('Janus created the mountpoint without a video port', 0);
    const host = janus.multicast ?? this.server.rtp_host ?? new URL(this.server.url).hostname;
    const address = (await lookup(host.replace(/^\[|\]$/g, ''))).address;
    return {
      address,
      videoPort,
      ...(janus.metadata && dataPort ? { dataPort } : {}),
      packetsSent: 0,
      bytesSent: 0,
      sendErrors: 0,
    };
  }

  /** Throws unless the mountpoint of our id is ours or nobody feeds it. */
  private async checkReplaceable(handle: JanusHandle, signal: AbortSignal): Promise<void> {
    const answer = await handle.request({ request: 'info', id: this.spec.id }, signal);
    const info = answer.info as
      { metadata?: unknown; media?: { type?: string; age_ms?: number }[] } | undefined;
    if (info?.metadata === this.owner) return;
    const age = info?.media?.find((m) => m.type === 'video')?.age_ms;
    if (age === undefined || age > STALE_MS) return;
    throw new JanusError(
      `mountpoint ${this.spec.id} on Janus is fed by someone else (${
        typeof info?.metadata === 'string' ? info.metadata : 'not a liveview relay'
      }); set janus.mountpoint_id to a free id`,
      CANT_CREATE,
    );
  }

  private secret(): Record<string, string> {
    return this.spec.janus.secret ? { secret: this.spec.janus.secret } : {};
  }

  private fail(err: unknown): void {
    if (this.destination) {
      const gone = this.destination;
      this.past.packets += gone.packetsSent;
      this.past.bytes += gone.bytesSent;
      this.destination = undefined;
      this.hooks.lost(gone);
    }
    this.viewers = undefined;
    // Stopping: the handle is still needed to destroy the mountpoint.
    if (this.stopSignal.signal.aborted) return;
    this.handle = undefined;
    const message = errorMessage(err);
    const lost = err instanceof JanusError && err.code === NO_SUCH_MOUNTPOINT;
    this.lastError = lost ? `mountpoint lost: ${message}` : message;
    this.state = 'retrying';
    // One line per distinct failure: a server down for an hour must not flood the log.
    if (this.loggedError !== this.lastError) {
      this.loggedError = this.lastError;
      this.logger.warn(
        { server: this.server.url, relay: this.spec.name, err: this.lastError },
        'Janus relay: mountpoint unavailable; retrying',
      );
    }
  }

  /** Destroys the mountpoint and the session, best effort and bounded in time. */
  private async destroy(session: JanusSession | undefined): Promise<void> {
    const handle = this.handle;
    if (this.destination) {
      this.past.packets += this.destination.packetsSent;
      this.past.bytes += this.destination.bytesSent;
      this.hooks.lost(this.destination);
      this.destination = undefined;
    }
    if (!session) return;
    const work = (async () => {
      if (handle) {
        await handle
          .request({ request: 'destroy', id: this.spec.id, ...this.secret() })
          .catch((err: unknown) => {
            // Stopped before the mountpoint was created: nothing to destroy.
            if (!(err instanceof JanusError && err.code === NO_SUCH_MOUNTPOINT)) throw err;
          });
      }
      await session.destroy();
    })();
    const cancel = new AbortController();
    const timeout = sleep(DESTROY_TIMEOUT_MS, undefined, { signal: cancel.signal }).then(
      () => Promise.reject(new Error('timed out')),
      () => undefined,
    );
    await Promise.race([work, timeout]).catch((err: unknown) =>
      this.logger.warn(
        { server: this.server.url, relay: this.spec.name, err: errorMessage(err) },
        'Janus relay: could not destroy the mountpoint',
      ),
    );
    cancel.abort();
    work.catch(() => undefined);
  }
}
