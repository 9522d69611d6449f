import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Express } from 'express';
import type { LiveViewServer } from '../../src/api/server.js';
import type { Role } from '../../src/core/access.js';
import { RecordingManager } from '../../src/core/recording-manager.js';
import { ImswitchCompat } from '../../src/api/imswitch/compat.js';
import {
  AUTH_DETECTOR_YAML,
  AUTH_TOKENS_YAML,
  TOKENS,
  WRONG_TOKEN,
  WsRefused,
  call,
  login,
  openSocket,
  type Answer,
  type Credential,
  type TestSocket,
} from '../helpers/auth.js';
import { startAuthServer } from '../helpers/auth.js';
import { waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';
import { ImswitchSocket } from './imswitch-client.js';

/** Who may call a route: anyone, or a credential of at least this role. */
type Need = 'public' | Role;

/** One HTTP route of the server and how to call it. */
interface RouteCase {
  /** `METHOD /path` exactly as the app's router lists it. */
  route: string;
  /** The weakest role it needs. */
  need: Need;
  /** Makes the request with `credential` (none: no credential at all). */
  send(credential: Credential | undefined): Promise<Answer>;
  /** Checks the answer to the right role (or to no credential for public routes). */
  ok(answer: Answer): void | Promise<void>;
  /** Checks that a refused request changed nothing. */
  unchanged?(): unknown;
}

/** Every `METHOD /path` the express app routes (mounted routers included; static files are not routes). */
function listRoutes(app: Express): string[] {
  const routes: string[] = [];
  type Layer = {
    rawPath?: unknown;
    route?: { path: unknown; methods: Record<string, boolean> };
    handle?: { stack?: Layer[] };
  };
  // A path as written (`/x/:id`), a RegExp as its source between slashes.
  const show = (p: unknown): string => String(p);
  const walk = (stack: Layer[], prefix: string): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) {
          if (method === '_all') routes.push(`ALL ${prefix}${show(layer.route.path)}`);
          else routes.push(`${method.toUpperCase()} ${prefix}${show(layer.route.path)}`);
        }
      } else if (layer.handle?.stack) {
        walk(layer.handle.stack, `${prefix}${show(layer.rawPath)}`);
      }
    }
  };
  const router = (app as unknown as { router: { stack: Layer[] } }).router;
  walk(router.stack, '');
  return routes;
}

/** Recordings of the role checks go to a folder of their own, removed afterwards. */
const RECORDINGS_DIR = mkdtempSync(path.join(tmpdir(), 'liveview-auth-recordings-'));
const YAML = `${AUTH_DETECTOR_YAML}${AUTH_TOKENS_YAML}recordings: { dir: ${JSON.stringify(RECORDINGS_DIR)} }\n`;
const VIEWER: Credential = { bearer: TOKENS.viewer };
const OPERATOR: Credential = { bearer: TOKENS.operator };
const ADMIN: Credential = { bearer: TOKENS.admin };
const ROLE_CREDENTIAL: Record<Role, Credential> = {
  viewer: VIEWER,
  operator: OPERATOR,
  admin: ADMIN,
};
/** The role just below each role (the credential that must get 403). */
const WEAKER: Record<Role, Role | undefined> = {
  viewer: undefined,
  operator: 'viewer',
  admin: 'operator',
};
const TRICKLE = 'application/trickle-ice-sdpfrag';

describe('authentication: every route × {no credential, too weak a role, right role}', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const viewers: TestViewer[] = [];
  const sockets: TestSocket[] = [];

  const offer = async (): Promise<string> => {
    const v = new TestViewer({ codecs: ['VP8'], dataChannel: false });
    viewers.push(v);
    return v.offer();
  };
  const whepPost = async (credential: Credential | undefined): Promise<Answer> =>
    call(`${base}/liveview/whep/Camera`, {
      method: 'POST',
      credential,
      headers: { 'Content-Type': 'application/sdp' },
      body: await offer(),
    });
  /** A WHEP session made by a viewer: its resource URL. */
  const whepSession = async (): Promise<string> => {
    const res = await whepPost(VIEWER);
    expect(res.status, res.text).to.equal(201);
    return `${base}${res.headers.get('location')}`;
  };
  const whepSessionCount = (): number => {
    const webrtc = server.controller.registry.allProtocols().find((p) => p.name === 'webrtc');
    return (webrtc as unknown as { whepSessions: Map<string, unknown> }).whepSessions.size;
  };
  const running = (protocol: string): boolean =>
    server.controller.findStream('Camera', protocol) !== undefined;
  const startMjpeg = async (): Promise<void> => {
    const res = await call(`${base}/liveview/startLiveView`, {
      method: 'POST',
      credential: OPERATOR,
      json: { detectorName: 'Camera', protocol: 'mjpeg' },
    });
    expect(res.status, res.text).to.equal(200);
  };
  /** GET of an endless stream: status, headers and the first chunk of the body, then aborted. */
  const streamHead = async (url: string, credential: Credential | undefined): Promise<Answer> => {
    const abort = new AbortController();
    const res = await fetch(url, {
      headers: credential?.bearer ? { Authorization: `Bearer ${credential.bearer}` } : {},
      signal: abort.signal,
      redirect: 'manual',
    });
    let text: string;
    if ((res.headers.get('content-type') ?? '').startsWith('multipart/')) {
      const reader = res.body!.getReader();
      const first = await reader.read();
      text = Buffer.from(first.value ?? []).toString('latin1');
      abort.abort();
      await reader.cancel().catch(() => undefined);
    } else text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
  const success = (a: Answer, status = 200): void => {
    expect(a.status, a.text).to.equal(status);
  };
  const jsonSuccess = (a: Answer): void => {
    success(a);
    expect(a.json?.status, a.text).to.equal('success');
  };
  const notFoundFeature = (a: Answer): void => {
    // The mock camera has no feature tree: getting past authentication is what counts here.
    expect(a.status, a.text).to.equal(404);
    expect(a.json?.message).to.include('has no feature tree');
  };
  const recordingCount = (): number =>
    server.container
      .get(RecordingManager)
      .list()
      .filter((r) => r.state === 'recording').length;
  const unknownRecording = (a: Answer): void => {
    // Getting past authentication is what counts: the recording does not exist.
    expect(a.status, a.text).to.equal(404);
    expect(a.json?.message).to.include("unknown recording 'unknown-id'");
  };
  const exposure = (): unknown =>
    server.controller.detectors.detector('Camera').getParameters().exposure_ms;
  /** ImSwitch's API (src/api/imswitch) and its view of the streams. */
  const IMSWITCH = () => `${base}/imswitch/api/LiveViewController`;
  const imswitch = () => server.container.get(ImswitchCompat).streams;
  const imswitchActive = (): boolean => imswitch().list().length > 0;
  const imswitchStart = (credential: Credential | undefined, protocol = 'jpeg'): Promise<Answer> =>
    call(`${IMSWITCH()}/startLiveView?detectorName=Camera&protocol=${protocol}`, {
      method: 'POST',
      credential,
      headers: { 'Content-Type': 'application/json' },
    });
  const savedQuality = (): unknown =>
    (imswitch().streamParameters() as { per_detector: Record<string, { jpeg_quality?: number }> })
      .per_detector.Camera?.jpeg_quality;

  const CASES: RouteCase[] = [
    // ---- public ----
    {
      route: 'GET /health',
      need: 'public',
      send: (c) => call(`${base}/health`, { credential: c }),
      ok: (a) => {
        success(a);
        // Anonymous probes learn that it runs, nothing more.
        expect(a.json).to.deep.equal({ status: 'ok' });
      },
    },
    {
      route: 'POST /auth/login',
      need: 'public',
      send: (c) =>
        call(`${base}/auth/login`, {
          method: 'POST',
          credential: c,
          json: { token: TOKENS.viewer },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json?.role).to.equal('viewer');
        expect(a.headers.get('set-cookie')).to.match(/^liveview_session=/);
      },
    },
    {
      route: 'POST /auth/logout',
      need: 'public',
      send: (c) => call(`${base}/auth/logout`, { method: 'POST', credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'GET /auth/whoami',
      need: 'public',
      send: (c) => call(`${base}/auth/whoami`, { credential: c }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json).to.include({ authEnabled: true, authenticated: false });
      },
    },
    {
      route: 'OPTIONS /liveview/whep/:detector',
      need: 'public',
      send: (c) => call(`${base}/liveview/whep/Camera`, { method: 'OPTIONS', credential: c }),
      ok: (a) => {
        success(a, 204);
        expect(a.headers.get('accept-post')).to.equal('application/sdp');
      },
    },
    {
      route: 'OPTIONS /.*/',
      need: 'public',
      // (a path some route has gets express's own OPTIONS answer, 200 with Allow, first)
      send: (c) => call(`${base}/some/page`, { method: 'OPTIONS', credential: c }),
      ok: (a) => success(a, 204),
    },
    // ---- viewer ----
    {
      route: 'POST /auth/url-token',
      need: 'viewer',
      send: (c) => call(`${base}/auth/url-token`, { method: 'POST', credential: c }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json?.token).to.be.a('string');
      },
    },
    // ---- recordings ----
    {
      route: 'GET /liveview/recordings/formats',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/recordings/formats`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'GET /liveview/recordings/',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/recordings`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'POST /liveview/recordings/',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/recordings`, {
          method: 'POST',
          credential: c,
          json: { detectorName: 'Camera', format: 'ome-tiff', max_duration_s: 1 },
        }),
      ok: async (a) => {
        success(a, 201);
        const id = (a.json?.recording as { id: string }).id;
        await server.container.get(RecordingManager).stop(id);
      },
      unchanged: () => expect(recordingCount(), 'no recording started').to.equal(0),
    },
    {
      route: 'GET /liveview/recordings/:id',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/recordings/unknown-id`, { credential: c }),
      ok: unknownRecording,
    },
    {
      route: 'GET /liveview/recordings/:id/file',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/recordings/unknown-id/file`, { credential: c }),
      ok: unknownRecording,
    },
    {
      route: 'POST /liveview/recordings/:id/stop',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/recordings/unknown-id/stop`, { method: 'POST', credential: c }),
      ok: unknownRecording,
    },
    {
      route: 'DELETE /liveview/recordings/:id',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/recordings/unknown-id`, { method: 'DELETE', credential: c }),
      ok: unknownRecording,
    },
    {
      route: 'GET /liveview/getActiveStreams',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/getActiveStreams`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'GET /liveview/relays',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/relays`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'POST /liveview/relays',
      need: 'admin',
      send: (c) =>
        call(`${base}/liveview/relays`, {
          method: 'POST',
          credential: c,
          // Nothing listens there: the relay only retries until it is deleted below.
          json: {
            name: 'auth-check',
            detector: 'Camera',
            whip: { url: 'http://127.0.0.1:9/whip' },
          },
        }),
      ok: async (a) => {
        success(a, 201);
        const removed = await call(`${base}/liveview/relays/auth-check`, {
          method: 'DELETE',
          credential: ADMIN,
        });
        success(removed);
        // The relay started the WebRTC stream on demand: later rows expect none running.
        await server.controller.stopLiveView({ detectorName: 'Camera', protocol: 'webrtc' });
      },
      unchanged: async () => {
        const list = await call(`${base}/liveview/relays`, { credential: ADMIN });
        expect(list.json?.relays, 'no relay added').to.deep.equal([]);
      },
    },
    {
      route: 'DELETE /liveview/relays/:name',
      need: 'admin',
      send: (c) =>
        call(`${base}/liveview/relays/unknown-relay`, { method: 'DELETE', credential: c }),
      ok: (a) => {
        // Getting past authentication is what counts: there is no such relay.
        expect(a.status, a.text).to.equal(404);
        expect(a.json?.message).to.include("no relay named 'unknown-relay'");
      },
    },
    {
      route: 'GET /liveview/getStreamParams',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/getStreamParams?protocol=mjpeg`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'GET /liveview/protocols',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/protocols`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'GET /liveview/detectors',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/detectors`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'GET /liveview/detectors/:name',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/detectors/Camera`, { credential: c }),
      ok: jsonSuccess,
    },
    {
      route: 'GET /liveview/detectors/:name/features/:feature',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/detectors/Camera/features/Width`, { credential: c }),
      ok: notFoundFeature,
    },
    {
      route: 'GET /liveview/webrtc/ice_servers',
      need: 'viewer',
      send: (c) =>
        call(`${base}/liveview/webrtc/ice_servers?detectorName=Camera`, { credential: c }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json?.iceServers).to.be.an('array');
      },
    },
    {
      route: 'POST /liveview/webrtc_offer',
      need: 'viewer',
      send: async (c) =>
        call(`${base}/liveview/webrtc_offer`, {
          method: 'POST',
          credential: c,
          json: { detectorName: 'Camera', sdp: await offer(), type: 'offer' },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json?.type).to.equal('answer');
        expect(a.json?.sdp).to.match(/^v=0\r\n/);
      },
      unchanged: () => expect(running('webrtc'), 'no stream started').to.equal(false),
    },
    {
      route: 'POST /liveview/whep/:detector',
      need: 'viewer',
      send: (c) => whepPost(c),
      ok: (a) => {
        success(a, 201);
        expect(a.headers.get('content-type')).to.match(/^application\/sdp/);
        expect(a.headers.get('location')).to.match(/^\/liveview\/whep\/Camera\/[\w-]+$/);
        expect(a.text).to.match(/^v=0\r\n/);
      },
      unchanged: () => {
        expect(running('webrtc'), 'no stream started').to.equal(false);
        expect(whepSessionCount()).to.equal(0);
      },
    },
    {
      route: 'PATCH /liveview/whep/:detector/:session',
      need: 'viewer',
      send: async (c) =>
        call(await whepSession(), {
          method: 'PATCH',
          credential: c,
          headers: { 'Content-Type': TRICKLE },
          body: 'a=mid:0\r\n',
        }),
      ok: (a) => success(a, 204),
    },
    {
      route: 'DELETE /liveview/whep/:detector/:session',
      need: 'viewer',
      send: async (c) => call(await whepSession(), { method: 'DELETE', credential: c }),
      ok: jsonSuccess,
      unchanged: () => expect(whepSessionCount(), 'the session lives on').to.equal(1),
    },
    {
      route: 'GET /liveview/mjpeg',
      need: 'viewer',
      send: (c) => streamHead(`${base}/liveview/mjpeg?detectorName=Camera`, c),
      ok: (a) => {
        success(a);
        expect(a.headers.get('content-type')).to.match(/^multipart\/x-mixed-replace/);
      },
      unchanged: () => expect(running('mjpeg'), 'no stream started').to.equal(false),
    },
    {
      route: 'GET /liveview/snapshot.jpg',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/snapshot.jpg?detectorName=Camera`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.headers.get('content-type')).to.equal('image/jpeg');
      },
      unchanged: () => expect(running('mjpeg'), 'no stream started').to.equal(false),
    },
    {
      route: 'GET /lib/pixel-code.js',
      need: 'viewer',
      send: (c) => call(`${base}/lib/pixel-code.js`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.headers.get('content-type')).to.match(/javascript/);
      },
    },
    {
      route: 'GET /lib/uc2f-decoder.js',
      need: 'viewer',
      send: (c) => call(`${base}/lib/uc2f-decoder.js`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.headers.get('content-type')).to.match(/javascript/);
      },
    },
    {
      // Like the pages (api.html shows it): any credential.
      route: 'GET /openapi.json',
      need: 'viewer',
      send: (c) => call(`${base}/openapi.json`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.json?.openapi).to.equal('3.1.0');
      },
    },
    {
      route: 'GET /imswitch/api/LiveViewController/getLiveViewActive',
      need: 'viewer',
      send: (c) => call(`${IMSWITCH()}/getLiveViewActive`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.text).to.equal('false');
      },
    },
    {
      route: 'GET /imswitch/api/LiveViewController/getActiveStreams',
      need: 'viewer',
      send: (c) => call(`${IMSWITCH()}/getActiveStreams`, { credential: c }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json?.active_streams).to.be.an('array');
      },
    },
    {
      route: 'GET /imswitch/api/LiveViewController/getStreamParameters',
      need: 'viewer',
      send: (c) => call(`${IMSWITCH()}/getStreamParameters`, { credential: c }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json?.protocols).to.have.property('jpeg');
      },
    },
    {
      route: 'GET /imswitch/api/LiveViewController/getLongExposureInfo',
      need: 'viewer',
      send: (c) => call(`${IMSWITCH()}/getLongExposureInfo?detectorName=Camera`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.json).to.include({ detector: 'Camera', isLongExposure: false });
      },
    },
    {
      route: 'GET /imswitch/api/LiveViewController/mjpeg_stream',
      need: 'viewer',
      send: (c) =>
        streamHead(`${IMSWITCH()}/mjpeg_stream?startStream=true&detectorName=Camera&t=1`, c),
      ok: (a) => {
        success(a);
        expect(a.headers.get('content-type')).to.match(/^multipart\/x-mixed-replace/);
      },
      unchanged: () => {
        expect(running('mjpeg'), 'no stream started').to.equal(false);
        expect(imswitchActive()).to.equal(false);
      },
    },
    {
      route: 'POST /imswitch/api/LiveViewController/webrtc_offer',
      need: 'viewer',
      send: async (c) =>
        call(`${IMSWITCH()}/webrtc_offer`, {
          method: 'POST',
          credential: c,
          json: { sdp: await offer(), sdp_type: 'offer', detectorName: 'Camera' },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(a.json?.type).to.equal('answer');
      },
      unchanged: () => {
        expect(running('webrtc'), 'no stream started').to.equal(false);
        expect(imswitchActive()).to.equal(false);
      },
    },
    {
      route: 'GET /imswitch/api/SettingsController/getDetectorNames',
      need: 'viewer',
      send: (c) =>
        call(`${base}/imswitch/api/SettingsController/getDetectorNames`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.json).to.deep.equal(['Camera']);
      },
    },
    {
      route: 'GET /imswitch/api/RecordingController/video_feeder',
      need: 'viewer',
      send: (c) =>
        streamHead(`${base}/imswitch/api/RecordingController/video_feeder?startStream=true`, c),
      ok: (a) => {
        success(a);
        expect(a.headers.get('content-type')).to.match(/^multipart\/x-mixed-replace/);
      },
      unchanged: () => expect(running('mjpeg'), 'no stream started').to.equal(false),
    },
    {
      route: 'GET /imswitch/api/version',
      need: 'viewer',
      send: (c) => call(`${base}/imswitch/api/version`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.json?.version).to.be.a('string');
      },
    },
    // Socket.IO arrives as upgrades; a plain request (a polling client) is told what to use.
    ...(['GET', 'POST'] as const).map((method): RouteCase => ({
      route: `${method} /imswitch/socket.io`,
      need: 'viewer',
      send: (c) =>
        call(`${base}/imswitch/socket.io/?EIO=4&transport=polling`, { method, credential: c }),
      ok: (a) => {
        expect(a.status, a.text).to.equal(400);
        expect(a.json?.message).to.include('websocket transport');
      },
    })),
    // ---- operator ----
    {
      route: 'GET /metrics',
      need: 'operator',
      send: (c) => call(`${base}/metrics`, { credential: c }),
      ok: (a) => {
        success(a);
        expect(a.text).to.include('liveview_');
      },
    },
    {
      route: 'POST /liveview/startLiveView',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/startLiveView`, {
          method: 'POST',
          credential: c,
          json: { detectorName: 'Camera', protocol: 'mjpeg' },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(running('mjpeg')).to.equal(true);
      },
      unchanged: () => expect(running('mjpeg'), 'no stream started').to.equal(false),
    },
    {
      route: 'POST /liveview/stopLiveView',
      need: 'operator',
      send: async (c) => {
        await startMjpeg();
        return call(`${base}/liveview/stopLiveView`, {
          method: 'POST',
          credential: c,
          json: { detectorName: 'Camera', protocol: 'mjpeg' },
        });
      },
      ok: (a) => {
        jsonSuccess(a);
        expect(running('mjpeg')).to.equal(false);
      },
      unchanged: () => expect(running('mjpeg'), 'the stream still runs').to.equal(true),
    },
    {
      route: 'POST /liveview/setStreamParams',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/setStreamParams`, {
          method: 'POST',
          credential: c,
          json: { protocol: 'mjpeg', params: { jpeg_quality: 42 } },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(server.controller.getStreamParams('mjpeg')).to.include({ jpeg_quality: 42 });
      },
      unchanged: () =>
        expect(server.controller.getStreamParams('mjpeg')).to.not.include({ jpeg_quality: 42 }),
    },
    {
      route: 'POST /liveview/detectors/:name/parameters',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/detectors/Camera/parameters`, {
          method: 'POST',
          credential: c,
          json: { exposure_ms: 23 },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(exposure()).to.equal(23);
      },
      unchanged: () => expect(exposure()).to.not.equal(23),
    },
    {
      route: 'PUT /liveview/detectors/:name/features/:feature',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/detectors/Camera/features/Width`, {
          method: 'PUT',
          credential: c,
          json: { value: 64 },
        }),
      ok: notFoundFeature,
    },
    {
      route: 'POST /liveview/detectors/:name/features/:feature',
      need: 'operator',
      send: (c) =>
        call(`${base}/liveview/detectors/Camera/features/Width`, {
          method: 'POST',
          credential: c,
          json: { value: 64 },
        }),
      ok: notFoundFeature,
    },
    {
      route: 'POST /imswitch/api/LiveViewController/startLiveView',
      need: 'operator',
      send: (c) => imswitchStart(c),
      ok: (a) => {
        jsonSuccess(a);
        expect(imswitchActive()).to.equal(true);
      },
      unchanged: () => {
        expect(imswitchActive(), 'no ImSwitch stream started').to.equal(false);
        expect(running('mjpeg'), 'no stream started').to.equal(false);
      },
    },
    {
      // A GET that changes state, as in ImSwitch.
      route: 'GET /imswitch/api/LiveViewController/stopLiveView',
      need: 'operator',
      send: async (c) => {
        expect((await imswitchStart(OPERATOR)).status).to.equal(200);
        return call(`${IMSWITCH()}/stopLiveView?detectorName=Camera`, { credential: c });
      },
      ok: (a) => {
        jsonSuccess(a);
        expect(imswitchActive()).to.equal(false);
      },
      unchanged: () => expect(imswitchActive(), 'the stream is still active').to.equal(true),
    },
    {
      route: 'POST /imswitch/api/LiveViewController/setStreamParameters',
      need: 'operator',
      send: (c) =>
        call(`${IMSWITCH()}/setStreamParameters?protocol=jpeg`, {
          method: 'POST',
          credential: c,
          json: { jpeg_quality: 42 },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(server.controller.getStreamParams('mjpeg')).to.include({ jpeg_quality: 42 });
      },
      unchanged: () =>
        expect(server.controller.getStreamParams('mjpeg')).to.not.include({ jpeg_quality: 42 }),
    },
    {
      route: 'POST /imswitch/api/LiveViewController/setDetectorStreamParameters',
      need: 'operator',
      send: (c) =>
        call(`${IMSWITCH()}/setDetectorStreamParameters?detectorName=Camera`, {
          method: 'POST',
          credential: c,
          json: { protocol: 'jpeg', jpeg_quality: 43 },
        }),
      ok: (a) => {
        jsonSuccess(a);
        expect(savedQuality()).to.equal(43);
      },
      unchanged: () => expect(savedQuality()).to.not.equal(43),
    },
  ];

  before(async () => {
    server = await startAuthServer(YAML);
    base = server.url;
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    // Every stream, on-demand ones (snapshot, WHEP) included, so the next refusal starts clean.
    imswitch().stopAll();
    await server.controller.stopLiveView({ detectorName: 'Camera' });
    await waitFor(() => server.controller.getActiveStreams().length === 0);
    await server.controller.detectors.detector('Camera').setParameters({ exposure_ms: 10 });
    server.controller.setStreamParams('mjpeg', { jpeg_quality: 80 });
  });
  after(async () => {
    await server?.stop();
    rmSync(RECORDINGS_DIR, { recursive: true, force: true });
  });

  it('the table lists every route the app has, and nothing it does not have', () => {
    const app = server.http.listeners('request')[0] as Express;
    const routes = listRoutes(app).sort();
    const table = CASES.map((c) => c.route).sort();
    const missing = routes.filter((r) => !table.includes(r));
    const stale = table.filter((r) => !routes.includes(r));
    expect(
      missing,
      'routes without a row in CASES: add them with the role they need',
    ).to.deep.equal([]);
    expect(stale, 'rows in CASES the app does not route').to.deep.equal([]);
    expect(new Set(table).size, 'no route twice').to.equal(table.length);
  });

  for (const c of CASES) {
    describe(c.route, () => {
      if (c.need === 'public') {
        it('no credential → success', async () => {
          await c.ok(await c.send(undefined));
        });
        return;
      }
      const need = c.need;
      it('no credential → 401 JSON with a Bearer challenge', async () => {
        const a = await c.send(undefined);
        expect(a.status, a.text).to.equal(401);
        expect(a.json?.status).to.equal('error');
        expect(a.json?.message).to.be.a('string').with.length.above(0);
        expect(a.headers.get('www-authenticate')).to.match(/^Bearer\b/);
        await c.unchanged?.();
      });
      it('an unknown token → 401', async () => {
        const a = await c.send({ bearer: WRONG_TOKEN });
        expect(a.status, a.text).to.equal(401);
        expect(a.json?.message).to.include('matches no configured token');
        expect(a.headers.get('www-authenticate')).to.match(/^Bearer\b/);
        await c.unchanged?.();
      });
      const weaker = WEAKER[need];
      if (weaker) {
        it(`a ${weaker} → 403 naming the ${need} role`, async () => {
          const a = await c.send(ROLE_CREDENTIAL[weaker]);
          expect(a.status, a.text).to.equal(403);
          expect(a.json?.status).to.equal('error');
          expect(a.json?.message).to.include(`needs the ${need} role`);
          expect(a.headers.get('www-authenticate')).to.equal(null);
          await c.unchanged?.();
        });
      }
      it(`a ${need} → success`, async () => {
        await c.ok(await c.send(ROLE_CREDENTIAL[need]));
      });
      if (need !== 'admin') {
        it('an admin → success (roles are ordered)', async () => {
          await c.ok(await c.send(ADMIN));
        });
      }
    });
  }

  describe('pages (static files)', () => {
    for (const page of ['/', '/webrtc_stream.html']) {
      it(`GET ${page}: no credential, Accept text/html → 303 to /login.html?next=…`, async () => {
        const a = await call(`${base}${page}?detectorName=Camera`, {
          headers: { Accept: 'text/html' },
        });
        expect(a.status).to.equal(303);
        expect(a.headers.get('location')).to.equal(
          `/login.html?next=${encodeURIComponent(`${page}?detectorName=Camera`)}`,
        );
      });
      it(`GET ${page}: no credential, Accept application/json → 401`, async () => {
        const a = await call(`${base}${page}`, { headers: { Accept: 'application/json' } });
        expect(a.status).to.equal(401);
        expect(a.headers.get('www-authenticate')).to.match(/^Bearer\b/);
      });
      it(`GET ${page}: with the login cookie → 200 HTML`, async () => {
        const { cookie } = await login(base, TOKENS.viewer);
        const a = await call(`${base}${page}`, {
          credential: { cookie },
          headers: { Accept: 'text/html' },
        });
        expect(a.status).to.equal(200);
        expect(a.headers.get('content-type')).to.match(/^text\/html/);
      });
    }
    it('GET /login.html and what it needs are public', async () => {
      for (const file of ['/login.html', '/login.js', '/style.css']) {
        const a = await call(`${base}${file}`, { headers: { Accept: 'text/html' } });
        expect(a.status, file).to.equal(200);
      }
    });
    it('GET /app.js (a page script) needs a credential: 401, not a redirect', async () => {
      const a = await call(`${base}/app.js`, { headers: { Accept: 'text/html' } });
      expect(a.status).to.equal(401);
      const ok = await call(`${base}/app.js`, { credential: VIEWER });
      expect(ok.status).to.equal(200);
    });
    it('a request target that is no URL against a base (//[) → 401, not 500', async () => {
      for (const target of ['//[', '//a:b@[x]/?token=x']) {
        const head = await new Promise<string>((resolve, reject) => {
          const c = net.connect(server.port, '127.0.0.1', () =>
            c.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`),
          );
          let data = '';
          c.on('data', (d: Buffer) => (data += d.toString('latin1')));
          c.on('end', () => resolve(data.split('\r\n')[0]));
          c.on('error', reject);
        });
        expect(head, target).to.equal('HTTP/1.1 401 Unauthorized');
      }
    });
    it('an unknown path with no credential → 401 (not 404: nothing is revealed)', async () => {
      const a = await call(`${base}/liveview/noSuchRoute`);
      expect(a.status).to.equal(401);
    });
  });

  describe('WebSocket /liveview/binary', () => {
    const url = () => `${base.replace(/^http/, 'ws')}/liveview/binary?detectorName=Camera`;
    const refusal = async (s: TestSocket): Promise<WsRefused> => {
      sockets.push(s);
      const err = await s.opened.then(
        () => {
          throw new Error('the upgrade was accepted');
        },
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(WsRefused);
      return err as WsRefused;
    };

    it('no credential → 401 JSON on the upgrade, no stream started', async () => {
      const err = await refusal(openSocket(url()));
      expect(err.status).to.equal(401);
      expect(err.json.status).to.equal('error');
      expect(err.json.message).to.include('a WebSocket needs a credential');
      expect(running('binary')).to.equal(false);
    });
    it('an unknown token → 401', async () => {
      const err = await refusal(
        openSocket(url(), { headers: { Authorization: `Bearer ${WRONG_TOKEN}` } }),
      );
      expect(err.status).to.equal(401);
      expect(running('binary')).to.equal(false);
    });
    it('a viewer → open, hello', async () => {
      const s = openSocket(url(), { headers: { Authorization: `Bearer ${TOKENS.viewer}` } });
      sockets.push(s);
      await s.opened;
      const hello = await s.next('hello');
      expect(hello.detectorName).to.equal('Camera');
    });
  });

  describe("ImSwitch's API: the role checks inside a route", () => {
    it('mjpeg_stream?startStream=false stops streams: a viewer → 403, an operator → success', async () => {
      expect((await imswitchStart(OPERATOR)).status).to.equal(200);
      const url = `${IMSWITCH()}/mjpeg_stream?startStream=false&detectorName=Camera`;
      const refused = await call(url, { credential: VIEWER });
      expect(refused.status, refused.text).to.equal(403);
      expect(refused.json?.message).to.include('needs the operator role');
      expect(imswitchActive()).to.equal(true);
      const done = await call(url, { credential: OPERATOR });
      expect(done.json).to.deep.equal({ status: 'success', message: 'stream stopped' });
      expect(imswitchActive()).to.equal(false);
    });
    it("webrtc_offer's params change the stream for operators only (a viewer's offer is still answered)", async () => {
      const body = async () => ({
        sdp: await offer(),
        sdp_type: 'offer',
        detectorName: 'Camera',
        params: { max_width: 80 },
      });
      const byViewer = await call(`${IMSWITCH()}/webrtc_offer`, {
        method: 'POST',
        credential: VIEWER,
        json: await body(),
      });
      jsonSuccess(byViewer);
      expect(server.controller.findStream('Camera', 'webrtc')?.params.max_width).to.equal(0);
      const byOperator = await call(`${IMSWITCH()}/webrtc_offer`, {
        method: 'POST',
        credential: OPERATOR,
        json: await body(),
      });
      jsonSuccess(byOperator);
      expect(server.controller.findStream('Camera', 'webrtc')?.params.max_width).to.equal(80);
    });
  });

  it("ImSwitch's state-changing GETs refuse the login cookie (another page could send it)", async () => {
    expect((await imswitchStart(OPERATOR)).status).to.equal(200);
    const { cookie } = await login(base, TOKENS.operator);
    for (const path of ['stopLiveView?detectorName=Camera', 'mjpeg_stream?startStream=false']) {
      const refused = await call(`${IMSWITCH()}/${path}`, { credential: { cookie } });
      expect(refused.status, refused.text).to.equal(403);
      expect(refused.json?.message).to.include('Authorization: Bearer');
    }
    expect(imswitchActive(), 'still active').to.equal(true);
  });

  describe('Socket.IO /imswitch/socket.io/', () => {
    const clients: ImswitchSocket[] = [];
    afterEach(() => {
      for (const c of clients.splice(0)) c.close();
    });
    const connect = (extraHeaders?: Record<string, string>, protocols?: string[]) => {
      const c = new ImswitchSocket(base, { extraHeaders, protocols });
      clients.push(c);
      return c;
    };

    it('no credential → the upgrade is refused (401), no stream started', async () => {
      expect((await imswitchStart(OPERATOR)).status).to.equal(200);
      await waitFor(() => !running('mjpeg'));
      const err = await connect()
        .connected()
        .then(
          () => {
            throw new Error('connected without a credential');
          },
          (e: Error & { description?: unknown }) => e,
        );
      // socket.io-client reports the refused handshake as the WebSocket's error event.
      const event = (err as { description?: { message?: string } }).description;
      expect(event?.message ?? err.message).to.include('401');
      expect(running('mjpeg')).to.equal(false);
    });
    it('a viewer (Authorization header) connects and gets frames', async () => {
      expect((await imswitchStart(OPERATOR)).status).to.equal(200);
      const c = connect({ Authorization: `Bearer ${TOKENS.viewer}` });
      await c.connected();
      await waitFor(() => c.frames.length >= 2);
      expect(c.frames[0].metadata.protocol).to.equal('jpeg');
    });
    it('a viewer with the bearer subprotocol connects; the server echoes the other one', async () => {
      const c = connect(undefined, ['liveview', `liveview.bearer.${TOKENS.viewer}`]);
      await c.connected();
      await waitFor(() => c.capabilities !== undefined);
    });
  });
});
