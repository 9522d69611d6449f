import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import type { LiveViewServer } from '../../src/api/server.js';
import { ConfigError } from '../../src/core/errors.js';
import {
  WRONG_TOKEN,
  WsRefused,
  call,
  login,
  openSocket,
  startAuthServer,
  type Answer,
  type TestSocket,
} from '../helpers/auth.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { waitFor } from '../helpers/server.js';

const VIEWER_TOKEN = 'plain-viewer-token-0123456789';
const OPERATOR_TOKEN = 'plain-operator-token-0123456789';
/** Configured by its SHA-256 only (lower-case hex). */
const HASHED_VIEWER_TOKEN = 'hashed-viewer-token-0123456789';
/** Configured by its SHA-256 only (upper-case hex). */
const HASHED_ADMIN_TOKEN = 'hashed-admin-token-0123456789';
const SECRET = 'a-shared-hmac-secret-of-at-least-32-characters';
const ISSUER = 'https://idp.example.org';
const AUDIENCE = 'liveview';

const sha256 = (s: string): string => createHash('sha256').update(s).digest('hex');

const DETECTOR_YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 160, height: 120, fps: 30 }
`;

/** Static tokens in both forms and JWTs with a shared secret; URL tokens live 5 s. */
const SECRET_YAML = `${DETECTOR_YAML}
auth:
  url_token_ttl_s: 5
  tokens:
    - { name: vera-viewer, token: ${VIEWER_TOKEN}, role: viewer }
    - { name: otto-operator, token: ${OPERATOR_TOKEN}, role: operator }
    - { name: hashed-viewer, sha256: ${sha256(HASHED_VIEWER_TOKEN)} }
    - { name: hashed-admin, sha256: ${sha256(HASHED_ADMIN_TOKEN).toUpperCase()}, role: admin }
  jwt:
    secret: ${SECRET}
    issuer: ${ISSUER}
    audience: ${AUDIENCE}
`;

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowS = (): number => Math.floor(Date.now() / 1000);

/** A JWT signed with the shared secret (or `key`/`alg`), issuer and audience as configured unless overridden. */
async function hsJwt(
  claims: JWTPayload,
  options: { key?: Uint8Array; alg?: string; exp?: number; iss?: string; aud?: string } = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setSubject('jules')
    .setIssuer(options.iss ?? ISSUER)
    .setAudience(options.aud ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.exp ?? nowS() + 300)
    .sign(options.key ?? new TextEncoder().encode(SECRET));
}

/** The first part of an MJPEG stream, read with the given request headers. */
function firstMjpegPart(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; contentType: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers }, (res) => {
      const contentType = res.headers['content-type'] ?? '';
      const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
      let buffer = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        if (!boundary) return;
        const start = buffer.indexOf(`--${boundary}\r\n`);
        const headEnd = buffer.indexOf('\r\n\r\n', start);
        if (start < 0 || headEnd < 0) return;
        const head = buffer.subarray(start, headEnd).toString('latin1');
        const length = Number(/content-length:\s*(\d+)/i.exec(head)?.[1]);
        if (buffer.length < headEnd + 4 + length) return;
        req.destroy();
        resolve({
          status: res.statusCode ?? 0,
          contentType,
          body: buffer.subarray(headEnd + 4, headEnd + 4 + length),
        });
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType, body: Buffer.from(buffer) }),
      );
      res.on('error', () => undefined);
    });
    req.on('error', reject);
  });
}

/** A raw WebSocket handshake offering `protocols`: the 101's headers. */
function rawUpgrade(url: string, protocols: string[]): Promise<http.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        'Sec-WebSocket-Protocol': protocols.join(', '),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.headers);
    });
    req.on('response', (res) => {
      res.resume();
      reject(new Error(`no upgrade: ${res.statusCode}`));
    });
    req.on('error', reject);
  });
}

describe('authentication: credentials', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const sockets: TestSocket[] = [];
  const readers: MultipartReader[] = [];

  /** GET of a route any credential may read, with `Authorization: Bearer <token>`. */
  const read = (token: string): Promise<Answer> =>
    call(`${base}/liveview/getActiveStreams`, { credential: { bearer: token } });
  const whoami = async (headers: Record<string, string>): Promise<Record<string, unknown>> =>
    (await call(`${base}/auth/whoami`, { headers })).json ?? {};
  const expect401 = (a: Answer, message?: string | RegExp): void => {
    expect(a.status, a.text).to.equal(401);
    expect(a.json?.status).to.equal('error');
    expect(a.headers.get('www-authenticate')).to.match(/^Bearer\b/);
    if (typeof message === 'string') expect(a.json?.message).to.include(message);
    else if (message) expect(a.json?.message).to.match(message);
  };
  const wsUrl = (query = '') =>
    `${base.replace(/^http/, 'ws')}/liveview/binary?detectorName=Camera${query}`;
  const socket = (url: string, options?: Parameters<typeof openSocket>[1]): TestSocket => {
    const s = openSocket(url, options);
    sockets.push(s);
    return s;
  };
  const refusal = async (s: TestSocket): Promise<WsRefused> => {
    const err = await s.opened.then(
      () => {
        throw new Error('the upgrade was accepted');
      },
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(WsRefused);
    return err as WsRefused;
  };

  before(async () => {
    server = await startAuthServer(SECRET_YAML);
    base = server.url;
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
    for (const r of readers.splice(0)) r.close();
    await server.controller.stopLiveView({ detectorName: 'Camera' });
    server.controller.setStreamParams('binary', { compression: 'lz4' });
  });
  after(async () => {
    await server?.stop();
  });

  describe('static tokens', () => {
    it('a plain token grants its role under its name', async () => {
      expect(await whoami({ Authorization: `Bearer ${VIEWER_TOKEN}` })).to.include({
        authenticated: true,
        subject: 'vera-viewer',
        role: 'viewer',
        via: 'token',
      });
      expect((await read(OPERATOR_TOKEN)).status).to.equal(200);
    });
    it('a token configured by its sha256 (lower- or upper-case hex) works, its role included', async () => {
      expect(await whoami({ Authorization: `Bearer ${HASHED_VIEWER_TOKEN}` })).to.include({
        subject: 'hashed-viewer',
        role: 'viewer',
      });
      expect(await whoami({ Authorization: `Bearer ${HASHED_ADMIN_TOKEN}` })).to.include({
        subject: 'hashed-admin',
        role: 'admin',
      });
      const metrics = await call(`${base}/metrics`, {
        credential: { bearer: HASHED_ADMIN_TOKEN },
      });
      expect(metrics.status).to.equal(200);
    });
    it('the sha256 itself is no token; an unknown token, a prefix, another scheme → 401', async () => {
      expect401(await read(sha256(HASHED_VIEWER_TOKEN)), 'matches no configured token');
      expect401(await read(WRONG_TOKEN), 'matches no configured token');
      expect401(await read(VIEWER_TOKEN.slice(0, -1)));
      expect401(
        await call(`${base}/liveview/getActiveStreams`, {
          headers: {
            Authorization: `Basic ${Buffer.from(`x:${VIEWER_TOKEN}`).toString('base64')}`,
          },
        }),
        "Authorization header must be 'Bearer <token>'",
      );
    });
    it('the answer never contains the token', async () => {
      const a = await read(WRONG_TOKEN);
      expect(a.text).to.not.include(WRONG_TOKEN);
    });
  });

  describe('JWT with a shared secret (HS256)', () => {
    it('role from the default claim liveview_role, subject from sub', async () => {
      const token = await hsJwt({ liveview_role: 'operator' });
      expect(await whoami({ Authorization: `Bearer ${token}` })).to.include({
        subject: 'jules',
        role: 'operator',
        via: 'jwt',
      });
      expect((await call(`${base}/metrics`, { credential: { bearer: token } })).status).to.equal(
        200,
      );
    });
    it('a list of roles (array or space-separated): the strongest wins', async () => {
      const array = await hsJwt({ liveview_role: ['viewer', 'admin', 'unknown'] });
      expect((await whoami({ Authorization: `Bearer ${array}` })).role).to.equal('admin');
      const spaced = await hsJwt({ liveview_role: 'viewer operator' });
      expect((await whoami({ Authorization: `Bearer ${spaced}` })).role).to.equal('operator');
    });
    it('no role claim, or one naming no role → 403', async () => {
      for (const claims of [{}, { liveview_role: 'superuser' }, { liveview_role: 42 }]) {
        const a = await read(await hsJwt(claims));
        expect(a.status, JSON.stringify(claims)).to.equal(403);
        expect(a.json?.message).to.include("the JWT of 'jules' grants no liveview role");
      }
    });
    it('an expired token → 401 "expired"', async () => {
      expect401(
        await read(await hsJwt({ liveview_role: 'admin' }, { exp: nowS() - 10 })),
        /expired/,
      );
    });
    it('a tampered payload (role raised, or one byte flipped) → 401', async () => {
      const token = await hsJwt({ liveview_role: 'viewer' });
      const [header, payload, signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as JWTPayload;
      const raised = `${header}.${b64({ ...claims, liveview_role: 'admin' })}.${signature}`;
      expect401(await read(raised), 'signature does not verify');
      const bytes = Buffer.from(payload, 'base64url');
      bytes[bytes.length - 3] ^= 0x01;
      const flipped = `${header}.${bytes.toString('base64url')}.${signature}`;
      expect401(await read(flipped));
    });
    it('a wrong issuer or audience → 401 naming the claim', async () => {
      expect401(
        await read(await hsJwt({ liveview_role: 'viewer' }, { iss: 'https://evil.example.org' })),
        "claim 'iss'",
      );
      expect401(
        await read(await hsJwt({ liveview_role: 'viewer' }, { aud: 'another-service' })),
        "claim 'aud'",
      );
    });
    it('signed with another secret → 401', async () => {
      const other = new TextEncoder().encode(`${SECRET}-but-another-one`);
      expect401(
        await read(await hsJwt({ liveview_role: 'admin' }, { key: other })),
        'signature does not verify',
      );
    });
    it('an algorithm not configured (HS512 where HS256 is) → 401', async () => {
      expect401(
        await read(await hsJwt({ liveview_role: 'admin' }, { alg: 'HS512' })),
        'algorithm not allowed',
      );
    });
    it('alg: none (an unsigned token) → 401', async () => {
      const claims = { sub: 'mallory', iss: ISSUER, aud: AUDIENCE, liveview_role: 'admin' };
      const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, exp: nowS() + 300 })}.`;
      expect401(await read(token));
      expect401(await read(`${token}AAAA`));
    });
  });

  describe('login and the session cookie', () => {
    it('POST /auth/login sets an HttpOnly, SameSite=Strict cookie for the whole site', async () => {
      const { answer, setCookie } = await login(base, VIEWER_TOKEN);
      expect(answer.status).to.equal(200);
      expect(answer.json).to.include({ status: 'success', subject: 'vera-viewer', role: 'viewer' });
      expect(setCookie).to.match(/^liveview_session=[\w-]+\.[\w-]+\.[\w-]+;/);
      expect(setCookie).to.match(/;\s*HttpOnly/i);
      expect(setCookie).to.match(/;\s*SameSite=Strict/i);
      expect(setCookie).to.match(/;\s*Path=\/(;|$)/);
      expect(setCookie).to.not.match(/;\s*Secure/i, 'plain HTTP');
      // Default session_ttl_s: 12 h.
      const expires = Date.parse(/Expires=([^;]+)/.exec(setCookie ?? '')?.[1] ?? '');
      expect(expires - Date.now()).to.be.within(12 * 3600_000 - 5000, 12 * 3600_000 + 1000);
      expect(answer.text).to.not.include(VIEWER_TOKEN);
    });
    it('the cookie works for REST, with its role', async () => {
      const { cookie } = await login(base, VIEWER_TOKEN);
      expect(await whoami({ Cookie: cookie! })).to.include({
        subject: 'vera-viewer',
        role: 'viewer',
        via: 'session',
      });
      const streams = await call(`${base}/liveview/getActiveStreams`, { credential: { cookie } });
      expect(streams.status).to.equal(200);
      const start = await call(`${base}/liveview/startLiveView`, {
        method: 'POST',
        credential: { cookie },
        json: { detectorName: 'Camera', protocol: 'mjpeg' },
      });
      expect(start.status).to.equal(403);
      const op = await login(base, OPERATOR_TOKEN);
      const started = await call(`${base}/liveview/startLiveView`, {
        method: 'POST',
        credential: { cookie: op.cookie },
        json: { detectorName: 'Camera', protocol: 'mjpeg' },
      });
      expect(started.status, started.text).to.equal(200);
    });
    it('the cookie works for MJPEG: a multipart part with a JPEG arrives', async () => {
      const { cookie } = await login(base, VIEWER_TOKEN);
      const part = await firstMjpegPart(`${base}/liveview/mjpeg?detectorName=Camera`, {
        Cookie: cookie!,
      });
      expect(part.status).to.equal(200);
      expect(part.contentType).to.match(/^multipart\/x-mixed-replace/);
      expect(part.body.subarray(0, 2)).to.deep.equal(Buffer.from([0xff, 0xd8]));
    });
    it('the cookie works for the binary WebSocket', async () => {
      const { cookie } = await login(base, VIEWER_TOKEN);
      const s = socket(wsUrl(), { headers: { Cookie: cookie! } });
      await s.opened;
      expect((await s.next('hello')).detectorName).to.equal('Camera');
    });
    it('logout clears the cookie', async () => {
      const { cookie } = await login(base, VIEWER_TOKEN);
      const out = await call(`${base}/auth/logout`, { method: 'POST', credential: { cookie } });
      expect(out.status).to.equal(200);
      const cleared = out.headers.get('set-cookie') ?? '';
      expect(cleared).to.match(/^liveview_session=;/);
      expect(Date.parse(/Expires=([^;]+)/.exec(cleared)?.[1] ?? '')).to.be.below(Date.now());
      expect(cleared).to.match(/;\s*HttpOnly/i);
      expect(cleared).to.match(/;\s*SameSite=Strict/i);
      // A copy of the cookie kept by someone else stops working too.
      const after = await call(`${base}/liveview/getActiveStreams`, { credential: { cookie } });
      expect401(after, 'logged out');
    });
    it('a cookie of another server instance (another key) → 401', async () => {
      const other = await startAuthServer(SECRET_YAML);
      try {
        const { cookie } = await login(other.url, VIEWER_TOKEN);
        expect(cookie).to.be.a('string');
        const a = await call(`${base}/liveview/getActiveStreams`, { credential: { cookie } });
        expect401(a, 'session');
        // The login page stays reachable with the stale cookie.
        const page = await call(`${base}/login.html`, { credential: { cookie } });
        expect(page.status).to.equal(200);
        // A page visit with it leads to the login form (not a JSON error) and drops the cookie.
        const visit = await fetch(`${base}/webrtc_stream.html?detector=Camera`, {
          headers: { Cookie: cookie ?? '', Accept: 'text/html' },
          redirect: 'manual',
        });
        expect(visit.status).to.equal(303);
        expect(visit.headers.get('location')).to.equal(
          '/login.html?next=%2Fwebrtc_stream.html%3Fdetector%3DCamera',
        );
        expect(visit.headers.get('set-cookie') ?? '').to.match(/^liveview_session=;/);
      } finally {
        await other.stop();
      }
    });
    it('a login with a bad token → 401 and no cookie; without a token → 400', async () => {
      const bad = await login(base, WRONG_TOKEN);
      expect401(bad.answer);
      expect(bad.setCookie).to.equal(null);
      const empty = await call(`${base}/auth/login`, { method: 'POST', json: {} });
      expect(empty.status).to.equal(400);
      expect(empty.headers.get('set-cookie')).to.equal(null);
    });
    it('a login with a JWT: the cookie expires with the JWT; an expired or roleless JWT sets none', async () => {
      const exp = nowS() + 120;
      const { answer, setCookie } = await login(
        base,
        await hsJwt({ liveview_role: 'operator' }, { exp }),
      );
      expect(answer.status).to.equal(200);
      expect(answer.json?.role).to.equal('operator');
      const expires = Date.parse(/Expires=([^;]+)/.exec(setCookie ?? '')?.[1] ?? '');
      expect(expires).to.equal(exp * 1000);
      const expired = await login(
        base,
        await hsJwt({ liveview_role: 'viewer' }, { exp: nowS() - 5 }),
      );
      expect401(expired.answer, /expired/);
      expect(expired.setCookie).to.equal(null);
      const roleless = await login(base, await hsJwt({}));
      expect(roleless.answer.status).to.equal(403);
      expect(roleless.setCookie).to.equal(null);
    });
    it('the session token is a cookie only: not a Bearer token, not a ?token=', async () => {
      const { cookie } = await login(base, VIEWER_TOKEN);
      const session = cookie!.slice('liveview_session='.length);
      expect401(await read(session));
      expect401(
        await call(`${base}/liveview/getActiveStreams?token=${session}`),
        'invalid URL token',
      );
    });
  });

  describe('URL tokens (?token=)', () => {
    /** Taken first, checked last: it expires while the other tests run. */
    let early: { token: string; expiresAt: string };

    const urlToken = async (
      bearer = VIEWER_TOKEN,
    ): Promise<{ token: string; expiresAt: string }> => {
      const a = await call(`${base}/auth/url-token`, { method: 'POST', credential: { bearer } });
      expect(a.status, a.text).to.equal(200);
      return a.json as { token: string; expiresAt: string };
    };

    before(async () => {
      early = await urlToken();
    });

    it('POST /auth/url-token gives a token valid for url_token_ttl_s', async () => {
      const issued = await urlToken();
      const ms = Date.parse(issued.expiresAt) - Date.now();
      expect(ms).to.be.within(3000, 5000);
      expect(issued.token).to.match(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    });
    it('a URL token needs a credential itself', async () => {
      expect401(await call(`${base}/auth/url-token`, { method: 'POST' }));
    });
    it('GET /liveview/snapshot.jpg?token= works', async () => {
      const { token } = await urlToken();
      const a = await fetch(`${base}/liveview/snapshot.jpg?detectorName=Camera&token=${token}`);
      expect(a.status).to.equal(200);
      expect(a.headers.get('content-type')).to.equal('image/jpeg');
      const jpeg = Buffer.from(await a.arrayBuffer());
      expect(jpeg.subarray(0, 2)).to.deep.equal(Buffer.from([0xff, 0xd8]));
    });
    it('GET /liveview/mjpeg?token= streams (a real multipart reader)', async () => {
      const { token } = await urlToken();
      const reader = new MultipartReader();
      readers.push(reader);
      await reader.connect(`${base}/liveview/mjpeg?detectorName=Camera&token=${token}`);
      expect(reader.status).to.equal(200);
      await reader.waitForParts(1);
      expect(reader.parts[0].headers['content-type']).to.equal('image/jpeg');
    });
    it('the WebSocket takes ?token=', async () => {
      const { token } = await urlToken();
      const s = socket(wsUrl(`&token=${token}`));
      await s.opened;
      expect((await s.next('hello')).detectorName).to.equal('Camera');
    });
    it('it keeps the role it was made for', async () => {
      const { token } = await urlToken(VIEWER_TOKEN);
      expect(await whoami({})).to.include({ authenticated: false });
      const who = (await call(`${base}/auth/whoami?token=${token}`)).json;
      expect(who).to.include({ subject: 'vera-viewer', role: 'viewer', via: 'signed-url' });
      const metrics = await call(`${base}/metrics?token=${token}`);
      expect(metrics.status).to.equal(403);
    });
    it('a POST with ?token= is refused, even an operator one', async () => {
      const { token } = await urlToken(OPERATOR_TOKEN);
      const start = await call(`${base}/liveview/startLiveView?token=${token}`, {
        method: 'POST',
        json: { detectorName: 'Camera', protocol: 'mjpeg' },
      });
      expect401(start, 'accepted on GET requests and WebSockets only');
      expect(server.controller.findStream('Camera', 'mjpeg')).to.equal(undefined);
      const more = await call(`${base}/auth/url-token?token=${token}`, { method: 'POST' });
      expect401(more);
    });
    it('a static token or a JWT in ?token= is refused (URLs end up in logs)', async () => {
      expect401(await call(`${base}/liveview/getActiveStreams?token=${VIEWER_TOKEN}`));
      const jwt = await hsJwt({ liveview_role: 'viewer' });
      expect401(await call(`${base}/liveview/getActiveStreams?token=${jwt}`));
    });
    it('a URL token is not a Bearer token', async () => {
      const { token } = await urlToken();
      expect401(await read(token));
    });
    it('an expired URL token → 401 "expired", on GET and on the WebSocket', async () => {
      const wait = Date.parse(early.expiresAt) - Date.now() + 50;
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      expect401(
        await call(`${base}/liveview/snapshot.jpg?detectorName=Camera&token=${early.token}`),
        'URL token expired',
      );
      const err = await refusal(socket(wsUrl(`&token=${early.token}`)));
      expect(err.status).to.equal(401);
      expect(err.json.message).to.equal('URL token expired');
    });
  });

  describe('WebSocket credentials', () => {
    it('a liveview.bearer.<token> subprotocol works; the server never echoes it', async () => {
      const s = socket(wsUrl(), {
        protocols: ['liveview.uc2f', `liveview.bearer.${VIEWER_TOKEN}`],
      });
      await s.opened;
      expect(s.ws.protocol).to.equal('liveview.uc2f');
      expect((await s.next('hello')).detectorName).to.equal('Camera');
      // Offered alone, it is accepted and no subprotocol is chosen at all.
      const headers = await rawUpgrade(wsUrl().replace(/^ws/, 'http'), [
        `liveview.bearer.${VIEWER_TOKEN}`,
      ]);
      expect(headers['sec-websocket-protocol']).to.equal(undefined);
    });
    it('a JWT in the subprotocol works', async () => {
      const jwt = await hsJwt({ liveview_role: 'viewer' });
      const s = socket(wsUrl(), { protocols: ['x', `liveview.bearer.${jwt}`] });
      await s.opened;
      expect(s.ws.protocol).to.equal('x');
    });
    it('a wrong token → 401 on the upgrade with a JSON body; no credential → 401', async () => {
      const wrong = await refusal(
        socket(wsUrl(), { protocols: ['x', `liveview.bearer.${WRONG_TOKEN}`] }),
      );
      expect(wrong.status).to.equal(401);
      expect(wrong.json).to.deep.equal({
        status: 'error',
        message: 'invalid token: it matches no configured token',
      });
      expect(wrong.body).to.not.include(WRONG_TOKEN);
      const none = await refusal(socket(wsUrl()));
      expect(none.status).to.equal(401);
      expect(none.json.message).to.include('a WebSocket needs a credential');
      expect(server.controller.findStream('Camera', 'binary')).to.equal(undefined);
    });
    it("a viewer's setParams gets an error naming operator and changes nothing; an operator's works", async () => {
      const viewer = socket(wsUrl(), { protocols: ['x', `liveview.bearer.${VIEWER_TOKEN}`] });
      await viewer.opened;
      await viewer.next('hello');
      const stream = () => server.controller.findStream('Camera', 'binary');
      expect(stream()?.params).to.include({ compression: 'lz4' });
      viewer.ws.send(JSON.stringify({ type: 'setParams', params: { compression: 'zstd' } }));
      const error = await viewer.next('error');
      expect(error.message).to.be.a('string').and.to.include('operator');
      expect(stream()?.params).to.include({ compression: 'lz4' });
      expect(viewer.ws.readyState, 'the viewer goes on watching').to.equal(viewer.ws.OPEN);

      const operator = socket(wsUrl(), { headers: { Authorization: `Bearer ${OPERATOR_TOKEN}` } });
      await operator.opened;
      await operator.next('hello');
      operator.ws.send(JSON.stringify({ type: 'setParams', params: { compression: 'zstd' } }));
      await waitFor(() => (stream()?.params as { compression?: string }).compression === 'zstd');
      expect(operator.messages.filter((m) => m.type === 'error')).to.deep.equal([]);
    });
  });
});

describe('authentication: JWT with a JWKS file', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let dir: string;
  let es: CryptoKey;
  let rs: CryptoKey;
  let stranger: CryptoKey;
  let rsPublic: Record<string, unknown>;

  const sign = (
    key: CryptoKey,
    header: { alg: string; kid?: string },
    claims: JWTPayload,
  ): Promise<string> =>
    new SignJWT(claims)
      .setProtectedHeader(header)
      .setSubject('kim')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key);
  const read = (token: string) =>
    call(`${server.url}/liveview/getActiveStreams`, { credential: { bearer: token } });
  const roleOf = async (token: string): Promise<unknown> =>
    (await call(`${server.url}/auth/whoami`, { credential: { bearer: token } })).json?.role;
  const roles = (list: unknown) => ({ realm_access: { roles: list } });

  before(async () => {
    const esPair = await generateKeyPair('ES256');
    const rsPair = await generateKeyPair('RS256');
    es = esPair.privateKey;
    rs = rsPair.privateKey;
    stranger = (await generateKeyPair('ES256')).privateKey;
    rsPublic = { ...(await exportJWK(rsPair.publicKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' };
    const keys = [
      { ...(await exportJWK(esPair.publicKey)), kid: 'es-1', alg: 'ES256', use: 'sig' },
      rsPublic,
    ];
    dir = await mkdtemp(path.join(tmpdir(), 'liveview-jwks-'));
    await writeFile(path.join(dir, 'jwks.json'), JSON.stringify({ keys }));
    server = await startAuthServer(`${DETECTOR_YAML}
auth:
  jwt:
    jwks_file: ${path.join(dir, 'jwks.json')}
    role_claim: realm_access.roles
    role_map: { scope-view: viewer, scope-ops: operator }
`);
  });
  after(async () => {
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('ES256 and RS256 tokens of the set verify; role from a dotted claim through role_map', async () => {
    expect(
      await roleOf(await sign(es, { alg: 'ES256', kid: 'es-1' }, roles(['scope-view']))),
    ).to.equal('viewer');
    expect(
      await roleOf(
        await sign(rs, { alg: 'RS256', kid: 'rs-1' }, roles(['scope-view', 'scope-ops'])),
      ),
    ).to.equal('operator');
    // Role names themselves still count, the strongest wins.
    expect(
      await roleOf(await sign(es, { alg: 'ES256', kid: 'es-1' }, roles(['scope-ops', 'admin']))),
    ).to.equal('admin');
    // Without a kid the set's matching key is found.
    expect(await roleOf(await sign(es, { alg: 'ES256' }, roles(['scope-view'])))).to.equal(
      'viewer',
    );
  });
  it('the default claim is not read when role_claim names another; unmapped values → 403', async () => {
    const other = await read(
      await sign(es, { alg: 'ES256', kid: 'es-1' }, { liveview_role: 'admin' }),
    );
    expect(other.status).to.equal(403);
    expect(other.json?.message).to.include("claim 'realm_access.roles'");
    const unmapped = await read(await sign(es, { alg: 'ES256', kid: 'es-1' }, roles(['scope-x'])));
    expect(unmapped.status).to.equal(403);
    const notAList = await read(
      await sign(es, { alg: 'ES256', kid: 'es-1' }, { realm_access: 'scope-view' }),
    );
    expect(notAList.status).to.equal(403);
  });
  it('signed by a key outside the set → 401 (same kid, or unknown kid)', async () => {
    const sameKid = await read(
      await sign(stranger, { alg: 'ES256', kid: 'es-1' }, roles(['scope-ops'])),
    );
    expect(sameKid.status).to.equal(401);
    expect(sameKid.json?.message).to.include('signature does not verify');
    const unknownKid = await read(
      await sign(stranger, { alg: 'ES256', kid: 'nobody' }, roles(['scope-ops'])),
    );
    expect(unknownKid.status).to.equal(401);
    expect(unknownKid.json?.message).to.include('no key of the JWKS matches');
  });
  it('algorithm confusion (HS256 keyed with the public key) and alg: none → 401', async () => {
    // The classic attack: the verifier's public key, which anyone may know, used as an HMAC secret.
    const hs = await new SignJWT(roles(['admin']))
      .setProtectedHeader({ alg: 'HS256', kid: 'rs-1' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JSON.stringify(rsPublic)));
    const confused = await read(hs);
    expect(confused.status).to.equal(401);
    const none = `${b64({ alg: 'none' })}.${b64({ ...roles(['admin']), exp: nowS() + 60 })}.`;
    expect((await read(none)).status).to.equal(401);
  });
});

describe('authentication: metrics_role', function () {
  this.timeout(20_000);
  it('metrics_role: viewer lets a viewer scrape; still not anonymous', async () => {
    const server = await startAuthServer(`${DETECTOR_YAML}
auth:
  metrics_role: viewer
  tokens: [{ name: prometheus, token: ${VIEWER_TOKEN} }]
`);
    try {
      const ok = await call(`${server.url}/metrics`, { credential: { bearer: VIEWER_TOKEN } });
      expect(ok.status).to.equal(200);
      expect((await call(`${server.url}/metrics`)).status).to.equal(401);
    } finally {
      await server.stop();
    }
  });
});

describe('authentication: config errors name the key path', function () {
  this.timeout(20_000);
  const valid = (name: string, token = VIEWER_TOKEN) => `{ name: ${name}, token: ${token} }`;
  const CASES: { what: string; auth: string; message: string; secret?: string }[] = [
    {
      what: 'a short token',
      auth: '{ tokens: [{ name: a, token: short-secret }] }',
      message: 'auth.tokens[0].token: too short (at least 16 characters)',
      secret: 'short-secret',
    },
    {
      what: 'both token and sha256',
      auth: `{ tokens: [{ name: a, token: ${VIEWER_TOKEN}, sha256: ${sha256(VIEWER_TOKEN)} }] }`,
      message: "auth.tokens[0]: give exactly one of 'token' and 'sha256'",
      secret: VIEWER_TOKEN,
    },
    {
      what: 'neither token nor sha256',
      auth: '{ tokens: [{ name: a, role: viewer }] }',
      message: "auth.tokens[0]: give exactly one of 'token' and 'sha256'",
    },
    {
      what: 'a sha256 that is no SHA-256',
      auth: '{ tokens: [{ name: a, sha256: abc123 }] }',
      message: 'auth.tokens[0].sha256: must be 64 hex digits',
    },
    {
      what: 'duplicate names',
      auth: `{ tokens: [${valid('lab')}, ${valid('lab', OPERATOR_TOKEN)}] }`,
      message: "auth.tokens[1].name: 'lab' is used twice",
    },
    {
      what: 'a bad role',
      auth: `{ tokens: [{ name: a, token: ${VIEWER_TOKEN}, role: root }] }`,
      message: 'auth.tokens[0].role: must be one of: viewer, operator, admin',
      secret: VIEWER_TOKEN,
    },
    {
      what: 'auth: {}',
      auth: '{}',
      message: "auth: give 'tokens' and/or 'jwt'",
    },
    {
      what: 'an unknown key',
      auth: `{ tokenz: [${valid('a')}] }`,
      message: 'auth.tokenz: unknown key',
    },
    {
      what: 'a bad metrics_role',
      auth: `{ metrics_role: everyone, tokens: [${valid('a')}] }`,
      message: 'auth.metrics_role: must be one of',
    },
    {
      what: 'url_token_ttl_s out of range',
      auth: `{ url_token_ttl_s: 1, tokens: [${valid('a')}] }`,
      message: 'auth.url_token_ttl_s: must be an integer between 5 and 3600',
    },
    {
      what: 'two JWT key sources',
      auth: `{ jwt: { secret: ${SECRET}, jwks_url: "https://idp.example.org/jwks" } }`,
      message: 'auth.jwt: give exactly one of secret, secret_file, jwks_url, jwks_file',
    },
    {
      what: 'a short JWT secret',
      auth: '{ jwt: { secret: too-short-a-secret } }',
      message: 'auth.jwt: the HMAC secret must have at least 32 characters',
      secret: 'too-short-a-secret',
    },
    {
      what: 'a role_map to no role',
      auth: `{ jwt: { secret: ${SECRET}, role_map: { staff: root } } }`,
      message: 'auth.jwt.role_map.staff: must be one of: viewer, operator, admin',
    },
    {
      what: 'a missing jwks_file',
      auth: '{ jwt: { jwks_file: /nonexistent/liveview-jwks.json } }',
      message: 'auth.jwt.jwks_file: cannot read /nonexistent/liveview-jwks.json',
    },
    {
      what: 'auth: something else',
      auth: 'yes please',
      message: "auth: must be 'none' or a mapping",
    },
  ];
  for (const c of CASES) {
    it(`${c.what} → ConfigError: ${c.message}`, async () => {
      const err = await startAuthServer(`${DETECTOR_YAML}\nauth: ${c.auth}\n`).then(
        async (s) => {
          await s.stop();
          throw new Error('the server started');
        },
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(ConfigError);
      const problems = (err as ConfigError).problems;
      expect(
        problems.some((p) => p.startsWith(c.message)),
        problems.join('\n'),
      ).to.equal(true);
      // One problem, one message: nothing that sends the user looking for another mistake.
      expect(problems, problems.join('\n')).to.have.length(1);
      if (c.secret) expect((err as Error).message).to.not.include(c.secret);
    });
  }
});
