import { expect } from 'chai';
import { SignJWT } from 'jose';
import type { LiveViewServer } from '../../src/api/server.js';
import {
  TOKENS,
  WRONG_TOKEN,
  call,
  login,
  memoryLogger,
  openSocket,
  startAuthServer,
  type TestSocket,
} from '../helpers/auth.js';
import { MultipartReader } from '../helpers/multipart-reader.js';

const SECRET = 'logging-test-hmac-secret-0123456789abcdef';
const DETECTOR_YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 160, height: 120, fps: 30 }
`;
const AUTH_YAML = `${DETECTOR_YAML}
auth:
  tokens:
    - { name: vera-viewer, token: ${TOKENS.viewer}, role: viewer }
    - { name: otto-operator, token: ${TOKENS.operator}, role: operator }
  jwt:
    secret: ${SECRET}
`;

const jwt = (claims: Record<string, unknown>, secret = SECRET): Promise<string> =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('jules')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret));

describe('authentication: credentials never reach the log', function () {
  this.timeout(30_000);

  it('no log line (at trace level) holds a token, a JWT, a URL token, a cookie or the secret', async () => {
    const log = memoryLogger();
    const server: LiveViewServer = await startAuthServer(AUTH_YAML, { logger: log.logger });
    const base = server.url;
    const ws = base.replace(/^http/, 'ws');
    const secrets: string[] = [TOKENS.viewer, TOKENS.operator, WRONG_TOKEN, SECRET];
    const sockets: TestSocket[] = [];
    const readers: MultipartReader[] = [];
    try {
      const goodJwt = await jwt({ liveview_role: 'operator' });
      const foreignJwt = await jwt({ liveview_role: 'admin' }, `${SECRET}-another`);
      const rolelessJwt = await jwt({});
      secrets.push(goodJwt, foreignJwt, rolelessJwt);

      // Bearer tokens: right, wrong, foreign, roleless, malformed header.
      for (const bearer of [TOKENS.viewer, TOKENS.operator, WRONG_TOKEN, goodJwt, foreignJwt]) {
        await call(`${base}/liveview/getActiveStreams`, { credential: { bearer } });
        await call(`${base}/liveview/startLiveView`, {
          method: 'POST',
          credential: { bearer },
          json: { detectorName: 'Camera', protocol: 'mjpeg' },
        });
      }
      await call(`${base}/liveview/getActiveStreams`, { credential: { bearer: rolelessJwt } });
      await call(`${base}/health`, {
        headers: { Authorization: `Token ${WRONG_TOKEN}` },
      });
      // Logins: good and bad, then the cookie, and a stale one.
      const good = await login(base, TOKENS.viewer);
      await login(base, WRONG_TOKEN);
      await login(base, foreignJwt);
      const cookie = good.cookie!;
      secrets.push(cookie.slice(cookie.indexOf('=') + 1));
      await call(`${base}/liveview/detectors`, { credential: { cookie } });
      await call(`${base}/liveview/stopLiveView`, {
        method: 'POST',
        credential: { cookie },
        json: { detectorName: 'Camera' },
      });
      await call(`${base}/liveview/detectors`, {
        credential: { cookie: `liveview_session=${goodJwt}` },
      });
      // URL tokens: on GET, on POST (refused), static tokens in the URL (refused).
      const urlToken = (
        await call(`${base}/auth/url-token`, {
          method: 'POST',
          credential: { bearer: TOKENS.viewer },
        })
      ).json?.token as string;
      secrets.push(urlToken);
      await call(`${base}/liveview/snapshot.jpg?token=${urlToken}`);
      await call(`${base}/liveview/startLiveView?token=${urlToken}`, { method: 'POST', json: {} });
      await call(`${base}/liveview/getActiveStreams?token=${TOKENS.operator}`);
      const reader = new MultipartReader();
      readers.push(reader);
      await reader.connect(`${base}/liveview/mjpeg?token=${urlToken}`);
      await reader.waitForParts(1);
      // WebSockets: subprotocol right and wrong, ?token=, cookie, a setParams refused.
      const sub = openSocket(`${ws}/liveview/binary`, {
        protocols: ['x', `liveview.bearer.${TOKENS.viewer}`],
      });
      sockets.push(sub);
      await sub.opened;
      await sub.next('hello');
      sub.ws.send(JSON.stringify({ type: 'setParams', params: { compression: 'zstd' } }));
      await sub.next('error');
      for (const s of [
        openSocket(`${ws}/liveview/binary`, { protocols: [`liveview.bearer.${WRONG_TOKEN}`] }),
        openSocket(`${ws}/liveview/binary?token=${WRONG_TOKEN}`),
      ]) {
        sockets.push(s);
        await s.opened.catch(() => undefined);
      }
      for (const s of [
        openSocket(`${ws}/liveview/binary?token=${urlToken}`),
        openSocket(`${ws}/liveview/binary`, { headers: { Cookie: cookie } }),
      ]) {
        sockets.push(s);
        await s.opened;
      }
    } finally {
      await Promise.all(sockets.map((s) => s.close()));
      for (const r of readers) r.close();
      await server.stop();
    }
    const text = log.text();
    // The capture works: the start, the stop and more were logged.
    expect(log.lines().map((l) => l.msg)).to.include.members(['liveview listening', 'stopped']);
    // Refusals are the client's business: nothing of this run is a server error.
    expect(log.lines().filter((l) => l.level >= 50)).to.deep.equal([]);
    for (const secret of secrets) {
      expect(text.includes(secret), `a log line holds ${secret.slice(0, 12)}…`).to.equal(false);
    }
  });
});

describe('authentication: the startup warning for auth: none beyond loopback', function () {
  this.timeout(20_000);

  const authWarnings = async (host: string, auth: string): Promise<string[]> => {
    const log = memoryLogger();
    const server = await startAuthServer(`${DETECTOR_YAML}\nauth: ${auth}\n`, {
      logger: log.logger,
      host,
    });
    await server.stop();
    return log
      .lines()
      .filter((l) => l.level === 40 && /\bauth\b/.test(l.msg))
      .map((l) => l.msg);
  };
  const TOKEN_AUTH = `{ tokens: [{ name: a, token: ${TOKENS.admin}, role: admin }] }`;

  it('0.0.0.0 with auth: none → exactly one warn line, naming the host and auth', async () => {
    const warnings = await authWarnings('0.0.0.0', 'none');
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('0.0.0.0').and.to.include('auth: none');
  });
  it('0.0.0.0 with auth on → none', async () => {
    expect(await authWarnings('0.0.0.0', TOKEN_AUTH)).to.deep.equal([]);
  });
  it('127.0.0.1 with auth: none → none', async () => {
    expect(await authWarnings('127.0.0.1', 'none')).to.deep.equal([]);
  });
});
