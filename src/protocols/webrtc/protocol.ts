import { validateHeaderValue } from 'node:http';
import express, { type Request, type Router } from 'express';
import {
  BadRequestError,
  LiveViewError,
  NotFoundError,
  OneOf,
  RelaysSetup,
  Text,
  inject,
  injectable,
  principalOf,
  remoteOf,
  type ApiRoutes,
  type Protocol,
  type ProtocolContext,
  type RecordingFormat,
  type StreamHub,
  type WorkerContext,
} from '../../index.js';
import { IsOptional } from 'class-validator';
import { optional } from 'inversify';
import { pino } from 'pino';
import { WebrtcParams } from './params.js';
import { answerOffer, checkOffer, onlyCandidatesOn } from './peer.js';
import { webrtcRecordingFormats } from './recording/formats.js';
import { RelayManager } from './relay/relay-manager.js';
import { registerRelayRoutes } from './relay/relay-routes.js';
import {
  turnUser,
  viewerIceServers,
  type IceServer,
  type IceServerConfig,
  type ViewerIceServers,
} from './turn-credentials.js';
import { WebrtcViewer } from './viewer.js';
import { WebrtcWorker } from './worker.js';

/** Query of GET /liveview/webrtc/ice_servers. */
class IceServersQuery {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;
}

/** Body of POST /liveview/webrtc_offer (the design note's signaling). */
class OfferBody {
  /** Detector (default: the first configured). */
  @IsOptional()
  @Text()
  detectorName?: string;

  /** The browser's SDP offer, ICE gathering complete. */
  @Text()
  sdp = '';

  /** Always `offer`. */
  @OneOf(['offer'])
  type = 'offer';
}

const SDP = 'application/sdp';
const TRICKLE = 'application/trickle-ice-sdpfrag';
const readText = express.text({ type: [SDP, TRICKLE], limit: '256kb' });

interface WhepSession {
  viewer: WebrtcViewer;
  worker: WebrtcWorker;
  detectorName: string;
}

/** WebRTC: the design note's `webrtc_offer` signaling and WHEP, both non-trickle answers. */
@injectable()
export class WebrtcProtocol implements Protocol<WebrtcParams, WebrtcWorker> {
  readonly name = 'webrtc';
  readonly description =
    'WebRTC video (VP8 or H.264, encoded once per stream) with a metadata data channel; WHEP';
  readonly paramsClass = WebrtcParams;
  private readonly whepSessions = new Map<string, WhepSession>();
  /** Every viewer until its peer is closed (both signalings), so that `close()` can wait for it. */
  private readonly liveViewers = new Set<WebrtcViewer>();
  /** The streams, once attached: recordings reach them through it. */
  private hub: StreamHub<WebrtcWorker> | undefined;
  private readonly formats = webrtcRecordingFormats(() => this.hub);
  /** The relays (Janus, WHIP), once the streams are known. */
  private relayManager: RelayManager | undefined;

  constructor(
    /** The relays of `relays:` (none when the protocol is used without a server). */
    @inject(RelaysSetup) @optional() private readonly relaySetup?: RelaysSetup,
  ) {}

  /** The relays of this protocol's streams. */
  relays(hub: StreamHub<WebrtcWorker>): RelayManager {
    this.relayManager ??= new RelayManager(
      hub,
      this.relaySetup?.logger ?? pino({ level: 'silent' }),
    );
    return this.relayManager;
  }

  createWorker(context: WorkerContext<WebrtcParams>): WebrtcWorker {
    return new WebrtcWorker(context);
  }

  clientUrl(detectorName: string): string {
    return `/liveview/whep/${encodeURIComponent(detectorName)}`;
  }

  attach(context: ProtocolContext<WebrtcWorker>): void {
    this.hub = context.hub;
    const relays = this.relays(context.hub);
    for (const relay of this.relaySetup?.relays ?? []) relays.add(relay);
  }

  /** `mp4` (H.264) and `webm` (VP8): the streams' encoded frames muxed as they are, no second encoder. */
  recordingFormats(): readonly RecordingFormat[] {
    return this.formats;
  }

  registerRoutes(_router: Router, hub: StreamHub<WebrtcWorker>, routes: ApiRoutes): void {
    registerRelayRoutes(routes, () => this.relays(hub));
    const detector = { detector: 'Detector name, as configured' };
    const session = { ...detector, session: 'The id in the Location of the WHEP POST answer' };

    // The ICE servers a page needs before it creates its RTCPeerConnection (a browser gathers
    // relay candidates when it creates the offer), TURN credentials minted for the caller.
    routes.route({
      method: 'get',
      path: '/webrtc/ice_servers',
      summary: 'The ICE servers (STUN, TURN with credentials minted for the caller) for a viewer',
      description:
        'Starts the stream on demand (held for the grace period), so that the servers are the ones the offer that follows gets.',
      role: 'viewer',
      query: IceServersQuery,
      responses: { 200: 'iceServers (RTCIceServer list) and when their credentials expire.' },
      handler: async (req, res, { query }) => {
        const name = hub.detectorName(query.detectorName);
        let params = hub.find(name)?.params;
        if (!params) {
          const worker = await hub.ensure(name);
          params = worker.params;
          hub.release(worker);
        }
        const ice = iceServersFor(req, params);
        res.setHeader('Cache-Control', 'no-store');
        res.json({ status: 'success', iceServers: ice.iceServers, expiresAt: ice.expiresAt });
      },
    });

    routes.route({
      method: 'post',
      path: '/webrtc_offer',
      operationId: 'webrtcOffer',
      summary: "Answers a browser's SDP offer (ImSwitch's signaling; ICE gathering complete)",
      role: 'viewer',
      body: OfferBody,
      responses: { 200: 'The SDP answer (type answer) and the ICE servers.' },
      handler: async (req, res, { body }) => {
        const { answer, ice } = await this.connect(hub, body.detectorName, body.sdp, req);
        res.setHeader('Cache-Control', 'no-store');
        res.json({
          status: 'success',
          sdp: answer,
          type: 'answer',
          iceServers: ice.iceServers,
          expiresAt: ice.expiresAt,
        });
      },
    });

    routes.route({
      method: 'options',
      path: '/whep/:detector',
      summary: 'WHEP: the accepted offer type, and the ICE servers of a running stream',
      description:
        'Never starts a camera (it is often a CORS preflight): the `Link` headers come for a running stream only.',
      role: 'public',
      pathParams: detector,
      responses: {
        204: {
          description: 'No body.',
          headers: {
            'Accept-Post': 'application/sdp',
            Link: 'ICE servers (rel="ice-server"), for a running stream.',
          },
        },
      },
      handler: (req, res) => {
        res.setHeader('Accept-Post', SDP);
        const worker = findQuietly(hub, req.params.detector as string);
        if (worker) {
          const links = iceServerLinks(worker.params, iceServersFor(req, worker.params));
          if (links.length > 0 && links.every((l) => headerFits('Link', l))) {
            res.setHeader('Link', links);
            res.setHeader('Cache-Control', 'no-store');
          }
        }
        res.sendStatus(204);
      },
    });

    routes.route({
      method: 'post',
      path: '/whep/:detector',
      summary: 'WHEP: starts a viewer session from an SDP offer (non-trickle answer)',
      role: 'viewer',
      pathParams: detector,
      body: { contentType: SDP, description: 'The SDP offer (ICE gathering complete).' },
      use: [readText],
      responses: {
        201: {
          description: 'The SDP answer.',
          contentType: SDP,
          headers: {
            Location: 'The session resource (PATCH, DELETE).',
            ETag: 'The session id.',
            Link: 'ICE servers (rel="ice-server").',
          },
        },
      },
      handler: async (req, res) => {
        requireType(req, SDP);
        const detectorName = req.params.detector as string;
        // Everything that can fail happens before the viewer is added: a failed POST leaves no
        // viewer, no session and no header of a success behind.
        let links: string[] = [];
        const { viewer, answer, worker } = await this.connect(
          hub,
          detectorName,
          checkOffer(req.body),
          req,
          (w, ice) => {
            links = iceServerLinks(w.params, ice);
            for (const link of links) checkHeader('Link', link);
          },
        );
        const location = `/liveview/whep/${encodeURIComponent(worker.detectorName)}/${viewer.resourceId}`;
        this.whepSessions.set(viewer.resourceId, { viewer, worker, detectorName });
        res.status(201);
        res.setHeader('Content-Type', SDP);
        res.setHeader('Location', location);
        res.setHeader('ETag', `"${viewer.resourceId}"`);
        if (links.length > 0) {
          res.setHeader('Link', links);
          res.setHeader('Cache-Control', 'no-store');
        }
        res.send(answer);
      },
    });

    routes.route({
      method: 'patch',
      path: '/whep/:detector/:session',
      summary: 'WHEP: adds trickled ICE candidates of the viewer',
      role: 'viewer',
      pathParams: session,
      body: { contentType: TRICKLE, description: 'An SDP fragment with a=candidate lines.' },
      use: [readText],
      responses: { 204: 'Added.' },
      handler: async (req, res) => {
        const whep = this.session(req);
        requireType(req, TRICKLE);
        const fragment = typeof req.body === 'string' ? req.body : '';
        const mid = /^a=mid:(\S+)/m.exec(fragment)?.[1] ?? '0';
        const allowed = whep.worker.params.ice_remote_addresses;
        const filtered = allowed.length > 0 ? onlyCandidatesOn(fragment, allowed) : fragment;
        for (const m of filtered.matchAll(/^a=(candidate:[^\r\n]+)/gm)) {
          try {
            await whep.viewer.pc.addIceCandidate({ candidate: m[1], sdpMid: mid });
          } catch (err) {
            throw new BadRequestError(`bad ICE candidate '${m[1]}': ${(err as Error).message}`);
          }
        }
        res.sendStatus(204);
      },
    });

    routes.route({
      method: 'delete',
      path: '/whep/:detector/:session',
      summary: 'WHEP: ends a viewer session',
      role: 'viewer',
      pathParams: session,
      responses: { 200: 'Ended.' },
      handler: (req, res) => {
        this.session(req).viewer.close('viewer left (WHEP DELETE)');
        res.status(200).json({ status: 'success' });
      },
    });
  }

  /** Closes every viewer left and waits until each was told (see closePeer) and its peer closed. */
  async close(): Promise<void> {
    await this.relayManager?.close();
    const viewers = [...this.liveViewers];
    for (const v of viewers) v.close('server stopping');
    this.whepSessions.clear();
    await Promise.all(viewers.map((v) => v.released));
  }

  private session(req: Request): WhepSession {
    const id = req.params.session as string;
    const session = this.whepSessions.get(id);
    if (!session || session.detectorName !== req.params.detector) {
      throw new NotFoundError(`no WHEP session '${id}' for detector '${req.params.detector}'`);
    }
    return session;
  }

  /**
   * Ensures the stream (on demand), mints the viewer's ICE servers, runs `prepare` (what else can
   * fail, before any peer exists), answers the offer and adds the viewer; nothing is left behind
   * if any step throws.
   */
  private async connect(
    hub: StreamHub<WebrtcWorker>,
    detectorName: string | undefined,
    sdp: string,
    req: Request,
    prepare?: (worker: WebrtcWorker, ice: ViewerIceServers) => void,
  ): Promise<{
    viewer: WebrtcViewer;
    answer: string;
    worker: WebrtcWorker;
    ice: ViewerIceServers;
  }> {
    checkOffer(sdp);
    const worker = await hub.ensure(detectorName);
    try {
      const ice = iceServersFor(req, worker.params);
      prepare?.(worker, ice);
      const peer = await answerOffer(sdp, worker.params);
      const viewer: WebrtcViewer = new WebrtcViewer(
        peer.pc,
        peer.sender,
        peer.receiver,
        peer.track,
        peer.codec,
        remoteOf(req.socket),
        {
          requestKeyframe: (codec, force) => worker.requestKeyframe(codec, force),
          closed: () => {
            this.whepSessions.delete(viewer.resourceId);
            worker.removeSession(viewer);
          },
        },
      );
      this.liveViewers.add(viewer);
      void viewer.released.then(() => this.liveViewers.delete(viewer));
      if (!worker.running) {
        viewer.close('stream stopped');
        throw new LiveViewError('the stream stopped while the viewer connected; try again', 503);
      }
      worker.addViewer(viewer);
      return { viewer, answer: peer.answer, worker, ice };
    } finally {
      hub.release(worker);
    }
  }
}

/** The ICE servers for the viewer that made `req`: TURN credentials minted for its principal now. */
function iceServersFor(req: Request, params: IceServerConfig): ViewerIceServers {
  return viewerIceServers(params, turnUser(principalOf(req)?.subject), Date.now());
}

/** The running stream of a detector; undefined for none or an unknown detector. */
function findQuietly(hub: StreamHub<WebrtcWorker>, detectorName: string): WebrtcWorker | undefined {
  try {
    return hub.find(hub.detectorName(detectorName));
  } catch {
    return undefined;
  }
}

/** True if `value` can be sent as an HTTP header. */
function headerFits(name: string, value: string): boolean {
  try {
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

function requireType(req: Request, type: string): void {
  if (!req.is(type)) {
    throw new LiveViewError(
      `WHEP needs Content-Type: ${type} (got ${req.get('content-type') ?? 'none'})`,
      415,
    );
  }
}

/** Throws (500, naming the header) if a value cannot be sent as an HTTP header. */
function checkHeader(name: string, value: string): void {
  try {
    validateHeaderValue(name, value);
  } catch (err) {
    throw new LiveViewError(
      `cannot answer: the stream's ICE servers do not fit in a ${name} header (${(err as Error).message}); fix stun_servers/turn_servers`,
      500,
    );
  }
}

/**
 * `Link` headers announcing the ICE servers (WHEP section 4.4), one per URL: `ice` is what was
 * minted for the viewer (default: minted now for `anonymous`, for TURN servers with a secret).
 */
export function iceServerLinks(
  params: IceServerConfig,
  ice: ViewerIceServers = viewerIceServers(params, turnUser(undefined), Date.now()),
): string[] {
  const quote = (s: string) => `"${s.replace(/"/g, '')}"`;
  const linksOf = (server: IceServer) =>
    (Array.isArray(server.urls) ? server.urls : [server.urls]).map(
      (url) =>
        `<${url}>; rel="ice-server"` +
        (server.username ? `; username=${quote(server.username)}` : '') +
        (server.credential
          ? `; credential=${quote(server.credential)}; credential-type="password"`
          : ''),
    );
  return ice.iceServers.flatMap(linksOf);
}
