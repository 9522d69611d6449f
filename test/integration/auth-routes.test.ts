import net from 'node:net';
import { expect } from 'chai';
import type { Express } from 'express';
import type { LiveViewServer } from '../../src/api/server.js';
import type { Role } from '../../src/core/access.js';
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

const YAML = `${AUTH_DETECTOR_YAML}${AUTH_TOKENS_YAML}`;
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
  const exposure = (): unknown =>
    server.controller.detectors.detector('Camera').getParameters().exposure_ms;

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
    {
      route: 'GET /liveview/getActiveStreams',
      need: 'viewer',
      send: (c) => call(`${base}/liveview/getActiveStreams`, { credential: c }),
      ok: jsonSuccess,
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
  ];

  before(async () => {
    server = await startAuthServer(YAML);
    base = server.url;
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    // Every stream, on-demand ones (snapshot, WHEP) included, so the next refusal starts clean.
    await server.controller.stopLiveView({ detectorName: 'Camera' });
    await waitFor(() => server.controller.getActiveStreams().length === 0);
    await server.controller.detectors.detector('Camera').setParameters({ exposure_ms: 10 });
    server.controller.setStreamParams('mjpeg', { jpeg_quality: 80 });
  });
  after(async () => {
    await server?.stop();
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
});
