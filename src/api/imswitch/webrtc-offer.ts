import { Router, type Request, type Response } from 'express';
import type { RouteHandler } from '../../core/api-routes.js';
import { hasRole, principalOf } from '../../core/access.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import { remoteOf } from '../../core/stream-session.js';
import { checkOffer } from '../../protocols/webrtc/peer.js';
import { ApiCatalog } from '../openapi/catalog.js';
import { parseParams, type ImswitchOfferBody } from './requests.js';
import type { ImswitchStreams } from './streams.js';

/** The webrtc protocol's own signaling route (the design note's), which answers every offer. */
const OFFER_ROUTE = '/webrtc_offer';

/**
 * ImSwitch's webrtc_offer: takes its body (`{sdp, sdp_type, detectorName, params}`) or the design
 * note's (`{sdp, type, detectorName}`), starts ImSwitch's `webrtc` stream if it is not active
 * (applying `params` for operators, as ImSwitch applies them), and hands the offer to the webrtc
 * protocol's own signaling route: there is one signaling path. The viewer it adds is remembered so
 * that stopLiveView ends it, as ImSwitch closes its peer.
 */
export function webrtcOfferHandler(
  streams: ImswitchStreams,
): RouteHandler<Record<string, never>, ImswitchOfferBody> {
  const controller = streams.controller;
  const webrtc = controller.registry.findProtocol('webrtc');
  // The protocol's routes on a router of our own (in a catalog of our own: the document lists
  // them once, under /liveview): the offer goes through exactly its code.
  const signaling = Router();
  if (webrtc?.registerRoutes)
    webrtc.registerRoutes(
      signaling,
      controller.hub(webrtc),
      new ApiCatalog().scope(signaling, '', webrtc.name),
    );

  return async (req, res, { body }) => {
    if (!webrtc?.registerRoutes)
      throw new NotFoundError('the webrtc protocol is not loaded: no WebRTC offers');
    const given = body.params ? parseParams(body.params, 'params') : undefined;
    // An offer is a viewer's; changing the stream for everyone is an operator's.
    const params = given && hasRole(principalOf(req), 'operator') ? given : undefined;
    const name = controller.detectorName(body.detectorName ?? undefined);
    // The protocol's own check, before anything starts: a broken offer leaves nothing behind.
    checkOffer(body.sdp);
    let record = streams.find(name, 'webrtc');
    const created = !record;
    if (!record) {
      const answer = await streams.start({ detectorName: name, protocol: 'webrtc', params });
      if (answer.status === 'long_exposure') {
        res.json(answer);
        return;
      }
      record = streams.find(name, 'webrtc');
      if (!record) throw new ConflictError(`the webrtc stream of ${name} was stopped meanwhile`);
    } else if (params) streams.retune(record, params);
    const worker = await streams.hold(record);
    let answered = false;
    try {
      const before = new Set(worker.sessions);
      await forward(signaling, req, res, { detectorName: name, sdp: body.sdp, type: 'offer' });
      answered = res.statusCode === 200;
      if (!answered) return;
      const remote = remoteOf(req.socket);
      for (const session of worker.sessions)
        if (!before.has(session) && session.remote === remote)
          streams.track(record, session, worker);
    } finally {
      streams.release(worker);
      // A stream this offer started, for an offer that failed, is not left active.
      if (created && !answered && streams.isActive(record))
        streams.stop({ detectorName: name, protocol: 'webrtc' });
    }
  };
}

/** Runs `router`'s offer route for this request with `body`; resolves once it answered. */
function forward(router: Router, req: Request, res: Response, body: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    res.once('finish', () => resolve());
    res.once('close', () => resolve());
    const url = req.url;
    req.url = OFFER_ROUTE;
    req.body = body;
    router(req, res, (err?: unknown) => {
      // Back on our route: the error takes the app's usual way to the client.
      req.url = url;
      reject(err ?? new NotFoundError('the webrtc protocol has no offer route'));
    });
  });
}
