import express, { type Request, type Router } from 'express';
import {
  BadRequestError,
  LiveViewError,
  NotFoundError,
  OneOf,
  Text,
  injectable,
  remoteOf,
  validateInto,
  type Protocol,
  type StreamHub,
  type WorkerContext,
} from '../../index.js';
import { IsOptional } from 'class-validator';
import { WebrtcParams } from './params.js';
import { answerOffer, checkOffer, onlyCandidatesOn } from './peer.js';
import { WebrtcViewer } from './viewer.js';
import { WebrtcWorker } from './worker.js';

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

  createWorker(context: WorkerContext<WebrtcParams>): WebrtcWorker {
    return new WebrtcWorker(context);
  }

  clientUrl(detectorName: string): string {
    return `/liveview/whep/${encodeURIComponent(detectorName)}`;
  }

  registerRoutes(router: Router, hub: StreamHub<WebrtcWorker>): void {
    router.post('/webrtc_offer', async (req, res) => {
      const body = parseOffer(req.body);
      const { viewer } = await this.connect(hub, body.detectorName, body.sdp, req);
      res.json({ status: 'success', sdp: viewer.answer, type: 'answer' });
    });

    router.options('/whep/:detector', (_req, res) => {
      res.setHeader('Accept-Post', SDP);
      res.sendStatus(204);
    });

    router.post('/whep/:detector', readText, async (req, res) => {
      requireType(req, SDP);
      const detectorName = req.params.detector as string;
      const { viewer, worker } = await this.connect(hub, detectorName, checkOffer(req.body), req);
      const resourceId = viewer.viewer.resourceId;
      this.whepSessions.set(resourceId, { viewer: viewer.viewer, worker, detectorName });
      const location = `/liveview/whep/${encodeURIComponent(worker.detectorName)}/${resourceId}`;
      res.status(201);
      res.setHeader('Content-Type', SDP);
      res.setHeader('Location', location);
      res.setHeader('ETag', `"${resourceId}"`);
      const links = iceServerLinks(worker.params);
      if (links.length > 0) res.setHeader('Link', links);
      res.send(viewer.answer);
    });

    router.patch('/whep/:detector/:session', readText, async (req, res) => {
      const session = this.session(req);
      requireType(req, TRICKLE);
      const fragment = typeof req.body === 'string' ? req.body : '';
      const mid = /^a=mid:(\S+)/m.exec(fragment)?.[1] ?? '0';
      const allowed = session.worker.params.ice_remote_addresses;
      const filtered = allowed.length > 0 ? onlyCandidatesOn(fragment, allowed) : fragment;
      for (const m of filtered.matchAll(/^a=(candidate:[^\r\n]+)/gm)) {
        try {
          await session.viewer.pc.addIceCandidate({ candidate: m[1], sdpMid: mid });
        } catch (err) {
          throw new BadRequestError(`bad ICE candidate '${m[1]}': ${(err as Error).message}`);
        }
      }
      res.sendStatus(204);
    });

    router.delete('/whep/:detector/:session', (req, res) => {
      const session = this.session(req);
      session.viewer.close('viewer left (WHEP DELETE)');
      res.status(200).json({ status: 'success' });
    });
  }

  async close(): Promise<void> {
    for (const s of this.whepSessions.values()) s.viewer.close('server stopping');
    this.whepSessions.clear();
  }

  private session(req: Request): WhepSession {
    const id = req.params.session as string;
    const session = this.whepSessions.get(id);
    if (!session || session.detectorName !== req.params.detector) {
      throw new NotFoundError(`no WHEP session '${id}' for detector '${req.params.detector}'`);
    }
    return session;
  }

  /** Ensures the stream (on demand), answers the offer and adds the viewer. */
  private async connect(
    hub: StreamHub<WebrtcWorker>,
    detectorName: string | undefined,
    sdp: string,
    req: Request,
  ): Promise<{ viewer: { viewer: WebrtcViewer; answer: string }; worker: WebrtcWorker }> {
    checkOffer(sdp);
    const worker = await hub.ensure(detectorName);
    try {
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
      if (!worker.running) {
        viewer.close('stream stopped');
        throw new LiveViewError('the stream stopped while the viewer connected; try again', 503);
      }
      worker.addViewer(viewer);
      return { viewer: { viewer, answer: peer.answer }, worker };
    } finally {
      hub.release(worker);
    }
  }
}

function parseOffer(raw: unknown): OfferBody {
  try {
    return validateInto(OfferBody, raw, 'request body');
  } catch (err) {
    const problems = (err as { problems?: string[] }).problems;
    throw new BadRequestError(problems ? problems.join('; ') : (err as Error).message);
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

/** `Link` headers announcing the ICE servers (WHEP section 4.4). */
export function iceServerLinks(params: WebrtcParams): string[] {
  const quote = (s: string) => `"${s.replace(/"/g, '')}"`;
  return [
    ...params.stun_servers.map((url) => `<${url}>; rel="ice-server"`),
    ...params.turn_servers.flatMap((t) =>
      t.urls.map(
        (url) =>
          `<${url}>; rel="ice-server"` +
          (t.username ? `; username=${quote(t.username)}` : '') +
          (t.credential ? `; credential=${quote(t.credential)}; credential-type="password"` : ''),
      ),
    ),
  ];
}
