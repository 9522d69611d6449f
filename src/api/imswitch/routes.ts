import { readFileSync } from 'node:fs';
import type { ApiRoutes, ResponseDoc } from '../../core/api-routes.js';
import { BadRequestError } from '../../core/errors.js';
import {
  ACTIVE_STREAMS,
  DETECTOR_NAMES,
  LIVE_VIEW_ACTIVE,
  LONG_EXPOSURE_INFO,
  OFFER_ANSWER,
  SET_DETECTOR_PARAMETERS,
  SET_STREAM_PARAMETERS,
  START_ANSWER,
  STOP_ANSWER,
  STREAM_PARAMETERS,
  VERSION_ANSWER,
} from './answers.js';
import { longExposureInfo } from './exposure.js';
import { mjpegStreamHandler } from './mjpeg-stream.js';
import { ImswitchStreamParams } from './params.js';
import {
  DetectorQuery,
  ImswitchOfferBody,
  MjpegStreamQuery,
  SetDetectorStreamParametersQuery,
  SetStreamParametersQuery,
  SocketIoQuery,
  StartLiveViewQuery,
  StopLiveViewQuery,
  StreamParametersQuery,
  nullBodyIsNone,
} from './requests.js';
import { SOCKET_IO_HOW_TO_CONNECT, SOCKET_IO_PATH } from './socket-channel.js';
import { headerCredentialOnly } from './state-changing-get.js';
import type { ImswitchStreams } from './streams.js';
import { webrtcOfferHandler } from './webrtc-offer.js';

/** Where the routes below are mounted: ImSwitch's server root. */
export const IMSWITCH_ROOT = '/imswitch';

/** ImSwitch's LiveViewController, relative to IMSWITCH_ROOT. */
const LV = '/api/LiveViewController';

/** liveview's version, for ImSwitch's web app's connection check. */
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** What the routes that take stream params say about their body. */
const PARAMS_NOTE =
  "The body is stream params by ImSwitch's names (all optional; keys that do not apply to the protocol are ignored, as ImSwitch does); no body or `null` is none.";

/** The MJPEG answer of mjpeg_stream and video_feeder, and its JSON alternatives. */
const MJPEG_ANSWER: ResponseDoc = {
  description:
    "The detector's MJPEG stream, one JPEG per part, until stopLiveView. JSON instead: with startStream=false `{status: 'success', message: 'stream stopped'}`; at a long exposure startLiveView's `long_exposure` answer.",
  contentType: 'multipart/x-mixed-replace',
  schema: { type: 'string', contentMediaType: 'image/jpeg' },
};

/**
 * Declares ImSwitch's live-view REST API (methods, query strings, bodies and answers as ImSwitch's
 * web app uses them) on `routes`, mounted at IMSWITCH_ROOT. Starting, stopping and tuning need
 * the operator role, as on liveview's own routes; watching and reading any credential.
 */
export function imswitchRoutes(routes: ApiRoutes, streams: ImswitchStreams): void {
  const controller = streams.controller;

  routes.route({
    method: 'post',
    path: `${LV}/startLiveView`,
    operationId: 'imswitchStartLiveView',
    summary: "ImSwitch: starts a detector's stream over an ImSwitch protocol",
    description: `A running stream gets the given params. Above the long-exposure threshold it refuses without force=true. ${PARAMS_NOTE}`,
    role: 'operator',
    query: StartLiveViewQuery,
    body: ImswitchStreamParams,
    use: [nullBodyIsNone],
    responses: {
      200: { description: 'Started, already running, or refused.', schema: START_ANSWER },
    },
    handler: async (_req, res, { query, body }) => {
      res.json(await streams.start({ ...query, params: body }));
    },
  });

  routes.route({
    method: 'get',
    path: `${LV}/stopLiveView`,
    operationId: 'imswitchStopLiveView',
    summary: "ImSwitch: stops a detector's streams (a GET, as ImSwitch's web app calls it)",
    description:
      'It changes state with a GET: the credential must come in the Authorization header (not the login cookie or a ?token=, which another page could make a browser send).',
    role: 'operator',
    query: StopLiveViewQuery,
    use: [headerCredentialOnly('stopLiveView')],
    responses: { 200: { description: 'What stopped, or that nothing ran.', schema: STOP_ANSWER } },
    handler: (_req, res, { query }) => {
      res.json(streams.stop(query));
    },
  });

  routes.route({
    method: 'get',
    path: `${LV}/getLiveViewActive`,
    operationId: 'imswitchGetLiveViewActive',
    summary: 'ImSwitch: whether any stream is active, as a bare boolean',
    role: 'viewer',
    responses: { 200: { description: '`true` or `false`.', schema: LIVE_VIEW_ACTIVE } },
    handler: (_req, res) => {
      res.json(streams.list().length > 0);
    },
  });

  routes.route({
    method: 'get',
    path: `${LV}/getActiveStreams`,
    operationId: 'imswitchGetActiveStreams',
    summary: 'ImSwitch: the active streams (detector and ImSwitch protocol)',
    role: 'viewer',
    responses: { 200: { description: 'The active streams.', schema: ACTIVE_STREAMS } },
    handler: (_req, res) => {
      res.json({
        status: 'success',
        active_streams: streams.list().map((r) => ({ detector: r.detector, protocol: r.protocol })),
      });
    },
  });

  routes.route({
    method: 'get',
    path: `${LV}/getStreamParameters`,
    operationId: 'imswitchGetStreamParameters',
    summary: "ImSwitch: a protocol's params, or every protocol's with the active streams",
    role: 'viewer',
    query: StreamParametersQuery,
    responses: { 200: { description: 'The params.', schema: STREAM_PARAMETERS } },
    handler: (_req, res, { query }) => {
      res.json(streams.streamParameters(query.protocol, query.detectorName));
    },
  });

  routes.route({
    method: 'post',
    path: `${LV}/setStreamParameters`,
    operationId: 'imswitchSetStreamParameters',
    summary: "ImSwitch: changes a protocol's params, live on its running streams",
    description: PARAMS_NOTE,
    role: 'operator',
    query: SetStreamParametersQuery,
    body: ImswitchStreamParams,
    use: [nullBodyIsNone],
    responses: {
      200: {
        description: "The protocol's params after the change.",
        schema: SET_STREAM_PARAMETERS,
      },
    },
    handler: (_req, res, { query, body }) => {
      res.json(streams.setProtocolParams(query.protocol, body));
    },
  });

  routes.route({
    method: 'post',
    path: `${LV}/setDetectorStreamParameters`,
    operationId: 'imswitchSetDetectorStreamParameters',
    summary: "ImSwitch: changes a detector's saved params, live on its running streams",
    description: `${PARAMS_NOTE} \`protocol\` in the body says which protocol the params are for (default: the detector's last, or jpeg).`,
    role: 'operator',
    query: SetDetectorStreamParametersQuery,
    body: ImswitchStreamParams,
    use: [nullBodyIsNone],
    responses: {
      200: { description: "The detector's saved params.", schema: SET_DETECTOR_PARAMETERS },
    },
    handler: (_req, res, { query, body }) => {
      res.json(streams.setDetectorParams(query.detectorName, body));
    },
  });

  routes.route({
    method: 'get',
    path: `${LV}/getLongExposureInfo`,
    operationId: 'imswitchGetLongExposureInfo',
    summary: "ImSwitch: whether a detector's exposure is above the long-exposure threshold",
    role: 'viewer',
    query: DetectorQuery,
    responses: { 200: { description: 'Exposure and threshold.', schema: LONG_EXPOSURE_INFO } },
    handler: (_req, res, { query }) => {
      const name = controller.detectorName(query.detectorName);
      res.json(longExposureInfo(controller.detectors.detector(name)));
    },
  });

  const mjpeg = mjpegStreamHandler(streams);
  const mjpegDescription =
    "Starts ImSwitch's `mjpeg` stream if it is not active; the client is a viewer of liveview's mjpeg stream. startStream=false stops the detector's streams instead: that needs the operator role and the credential in the Authorization header.";
  routes.route({
    method: 'get',
    path: `${LV}/mjpeg_stream`,
    operationId: 'imswitchMjpegStream',
    summary: "ImSwitch: a detector's MJPEG stream (or stops it with startStream=false)",
    description: mjpegDescription,
    role: 'viewer',
    query: MjpegStreamQuery,
    responses: { 200: MJPEG_ANSWER },
    handler: mjpeg,
  });

  routes.route({
    method: 'post',
    path: `${LV}/webrtc_offer`,
    operationId: 'imswitchWebrtcOffer',
    summary: "ImSwitch: answers a browser's SDP offer (ImSwitch's body or the design note's)",
    description:
      "Starts ImSwitch's `webrtc` stream if it is not active and hands the offer to the webrtc protocol's signaling (POST /liveview/webrtc_offer). `params` (stream params by ImSwitch's names) apply for operators only; a viewer's offer is answered without them.",
    role: 'viewer',
    body: ImswitchOfferBody,
    responses: { 200: { description: 'The SDP answer, or the refusal.', schema: OFFER_ANSWER } },
    handler: webrtcOfferHandler(streams),
  });

  // Older routes the web app still calls for the live view.
  routes.route({
    method: 'get',
    path: '/api/SettingsController/getDetectorNames',
    operationId: 'imswitchGetDetectorNames',
    summary: 'ImSwitch: the detector names, as a bare array',
    role: 'viewer',
    responses: { 200: { description: 'The names.', schema: DETECTOR_NAMES } },
    handler: (_req, res) => {
      res.json(controller.detectors.names);
    },
  });

  routes.route({
    method: 'get',
    path: '/api/RecordingController/video_feeder',
    operationId: 'imswitchVideoFeeder',
    summary: "ImSwitch: a detector's MJPEG stream (the older name of mjpeg_stream)",
    description: mjpegDescription,
    role: 'viewer',
    query: MjpegStreamQuery,
    responses: { 200: MJPEG_ANSWER },
    handler: mjpeg,
  });

  routes.route({
    method: 'get',
    path: '/api/version',
    operationId: 'imswitchVersion',
    summary: "ImSwitch: the server's version (the web app's connection check)",
    role: 'viewer',
    responses: { 200: { description: "liveview's version.", schema: VERSION_ANSWER } },
    handler: (_req, res) => {
      res.json({ version: VERSION, server: 'liveview' });
    },
  });

  // Socket.IO itself arrives as WebSocket upgrades (documented with the upgrade router); a plain
  // request is a long-polling client, told what to use instead.
  for (const method of ['get', 'post'] as const) {
    routes.route({
      method,
      path: SOCKET_IO_PATH.slice(IMSWITCH_ROOT.length, -1),
      operationId: method === 'get' ? 'imswitchSocketIoPolling' : 'imswitchSocketIoPollingPost',
      summary: 'ImSwitch Socket.IO long polling: not served, use the websocket transport',
      description: `The Socket.IO channel takes WebSocket connections only (GET ${SOCKET_IO_PATH} with an Upgrade, the same query); ImSwitch's web app connects so.`,
      role: 'viewer',
      query: SocketIoQuery,
      hint: () => SOCKET_IO_HOW_TO_CONNECT,
      responses: { 400: 'Always: the message says how to connect.' },
      handler: () => {
        throw new BadRequestError(
          `a plain ${method.toUpperCase()} is no Socket.IO connection: ${SOCKET_IO_HOW_TO_CONNECT}`,
        );
      },
    });
  }
}
