import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { expect } from 'chai';
import WebSocket from 'ws';
import { startServer, type LiveViewServer } from '../../src/api/server.js';
import { ConfigError } from '../../src/core/errors.js';
import { FIXTURES_DIR, SMALL_MOCK_YAML, startTestServer } from '../helpers/server.js';

/** A fetch answer with its JSON body read. */
interface Answer {
  status: number;
  retryAfter: string | null;
  json: Record<string, unknown>;
}

async function request(
  url: string,
  method: string,
  body: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(url, { method, headers, body });
  const text = await res.text();
  return {
    status: res.status,
    retryAfter: res.headers.get('retry-after'),
    json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** A valid setStreamParams call (changes a default, starts nothing). */
function setStreamParams(base: string, headers: Record<string, string> = {}): Promise<Answer> {
  return request(
    `${base}/liveview/setStreamParams`,
    'POST',
    JSON.stringify({ protocol: 'mjpeg', params: { throttle_ms: 40 } }),
    { 'Content-Type': 'application/json', ...headers },
  );
}

/** A WHEP POST whose body is not an offer: refused by the route, but counted first. */
function whepPost(base: string): Promise<Answer> {
  return request(`${base}/liveview/whep/Camera`, 'POST', 'not sdp', {
    'Content-Type': 'application/sdp',
  });
}

/** How a WebSocket upgrade ended: opened (then closed by us) or refused with an HTTP answer. */
type UpgradeOutcome =
  | { opened: true }
  | {
      opened: false;
      status: number;
      retryAfter: string | undefined;
      json: Record<string, unknown>;
    };

async function upgrade(url: string, headers: Record<string, string> = {}): Promise<UpgradeOutcome> {
  const ws = new WebSocket(url, { headers });
  return new Promise<UpgradeOutcome>((resolve, reject) => {
    ws.once('open', () => {
      ws.once('close', () => resolve({ opened: true }));
      ws.close();
    });
    ws.once('unexpected-response', (_req, res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('end', () => {
        resolve({
          opened: false,
          status: res.statusCode ?? 0,
          retryAfter: res.headers['retry-after'],
          json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>,
        });
        ws.terminate();
      });
    });
    ws.once('error', reject);
  });
}

function expect429(answer: Answer, message: RegExp): void {
  expect(answer.status).to.equal(429);
  expect(answer.json.status).to.equal('error');
  expect(answer.json.message).to.match(message);
  const retryAfter = Number(answer.retryAfter);
  expect(retryAfter).to.be.greaterThan(0);
  expect(retryAfter).to.be.at.most(60);
}

describe('rate limits', function () {
  this.timeout(20_000);

  describe('with small limits', () => {
    let server: LiveViewServer;
    let base: string;

    beforeEach(async () => {
      server = await startTestServer(`${SMALL_MOCK_YAML}
server:
  rate_limits:
    signaling: { max: 3, window_s: 60 }
    control: { max: 3, window_s: 60 }
    login: { max: 2, window_s: 60 }
`);
      base = server.url;
    });
    afterEach(async () => {
      await server?.stop();
    });

    it('the 4th control request in the window gets 429 with the JSON error and Retry-After; reads stay open', async () => {
      for (let i = 0; i < 3; i++) expect((await setStreamParams(base)).status).to.equal(200);
      const refused = await setStreamParams(base);
      expect429(
        refused,
        /^too many control requests from 127\.0\.0\.1: limit 3 per 60 s; retry in \d+ s \(server\.rate_limits\.control\.max raises the limit, 0 turns it off\)$/,
      );
      // The same route in other case, and another control route, share the window.
      expect(
        (await request(`${base}/LiveView/SetStreamParams/`, 'POST', '{}', jsonType)).status,
      ).to.equal(429);
      expect(
        (await request(`${base}/liveview/startLiveView`, 'POST', '{}', jsonType)).status,
      ).to.equal(429);
      // Reads are not limited.
      for (let i = 0; i < 10; i++) {
        expect(
          (await request(`${base}/liveview/getActiveStreams`, 'GET', undefined)).status,
        ).to.equal(200);
        expect(
          (await request(`${base}/liveview/getStreamParams?protocol=mjpeg`, 'GET', undefined))
            .status,
        ).to.equal(200);
      }
      expect((await request(`${base}/health`, 'GET', undefined)).status).to.equal(200);
      // Refusals change nothing: the last accepted value is in force.
      const params = await request(
        `${base}/liveview/getStreamParams?protocol=mjpeg`,
        'GET',
        undefined,
      );
      expect((params.json.params as Record<string, unknown>).throttle_ms).to.equal(40);
    });

    it('WHEP requests and WebSocket upgrades share the signaling window; the upgrade gets the same 429', async () => {
      expect((await whepPost(base)).status).to.be.oneOf([400, 415]);
      expect((await whepPost(base)).status).to.be.oneOf([400, 415]);
      const ws = `${base.replace(/^http/, 'ws')}/liveview/binary`;
      expect(await upgrade(ws)).to.deep.equal({ opened: true });
      const refused = await upgrade(ws);
      expect(refused.opened).to.equal(false);
      if (refused.opened) return;
      expect429(
        { status: refused.status, retryAfter: refused.retryAfter ?? null, json: refused.json },
        /^too many signaling requests from 127\.0\.0\.1: limit 3 per 60 s; retry in \d+ s \(server\.rate_limits\.signaling\.max raises/,
      );
      expect429(await whepPost(base), /^too many signaling requests from 127\.0\.0\.1/);
      // MJPEG clients are signaling too; control has its own window.
      expect429(
        await request(`${base}/liveview/snapshot.jpg`, 'GET', undefined),
        /^too many signaling requests/,
      );
      expect((await setStreamParams(base)).status).to.equal(200);
    });

    it('POST /auth/login has its own, tighter window', async () => {
      for (let i = 0; i < 2; i++) {
        const res = await request(`${base}/auth/login`, 'POST', '{"token":"x"}', jsonType);
        expect(res.status).to.not.equal(429);
      }
      expect429(
        await request(`${base}/auth/login`, 'POST', '{"token":"x"}', jsonType),
        /^too many login attempts from 127\.0\.0\.1: limit 2 per 60 s; retry in \d+ s \(server\.rate_limits\.login\.max/,
      );
      expect((await setStreamParams(base)).status).to.equal(200);
    });
  });

  it('max 0 turns a class off', async () => {
    const server = await startTestServer(`${SMALL_MOCK_YAML}
server:
  rate_limits:
    signaling: { max: 0 }
    control: { max: 0, window_s: 1 }
`);
    try {
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${server.url}/liveview/setStreamParams`, {
          method: 'POST',
          headers: jsonType,
          body: JSON.stringify({ protocol: 'mjpeg', params: { throttle_ms: 40 } }),
        });
        expect(res.status).to.equal(200);
        expect(res.headers.get('ratelimit')).to.equal(null);
      }
      for (let i = 0; i < 20; i++) expect((await whepPost(server.url)).status).to.not.equal(429);
    } finally {
      await server.stop();
    }
  });

  it('by default a client sees how much of its window is left (RateLimit headers)', async () => {
    const server = await startTestServer(SMALL_MOCK_YAML);
    try {
      const res = await setStreamParams(server.url);
      expect(res.status).to.equal(200);
      const raw = await fetch(`${server.url}/liveview/setStreamParams`, {
        method: 'POST',
        headers: jsonType,
        body: JSON.stringify({ protocol: 'mjpeg', params: { throttle_ms: 40 } }),
      });
      expect(raw.headers.get('ratelimit-policy')).to.match(/^"control"; q=1200; w=60\b/);
      expect(raw.headers.get('ratelimit')).to.match(/^"control"; r=1198; t=\d+$/);
    } finally {
      await server.stop();
    }
  });

  it('behind a trusted proxy, each forwarded client has its own window (HTTP and WebSocket)', async () => {
    const server = await startTestServer(`${SMALL_MOCK_YAML}
server:
  trust_proxy: [loopback]
  rate_limits:
    signaling: { max: 1 }
    control: { max: 1 }
`);
    try {
      const a = { 'X-Forwarded-For': '203.0.113.5' };
      const b = { 'X-Forwarded-For': '198.51.100.7' };
      expect((await setStreamParams(server.url, a)).status).to.equal(200);
      expect429(
        await setStreamParams(server.url, a),
        /^too many control requests from 203\.0\.113\.5:/,
      );
      expect((await setStreamParams(server.url, b)).status).to.equal(200);
      const ws = `${server.url.replace(/^http/, 'ws')}/liveview/binary`;
      expect(await upgrade(ws, a)).to.deep.equal({ opened: true });
      const refused = await upgrade(ws, a);
      expect(refused).to.include({ opened: false, status: 429 });
      expect(refused.opened === false && refused.json.message).to.match(/from 203\.0\.113\.5:/);
      expect(await upgrade(ws, b)).to.deep.equal({ opened: true });
    } finally {
      await server.stop();
    }
  });

  it('without trust_proxy, X-Forwarded-For is ignored: the socket address is the client', async () => {
    const server = await startTestServer(`${SMALL_MOCK_YAML}
server:
  rate_limits:
    control: { max: 1 }
`);
    try {
      expect(
        (await setStreamParams(server.url, { 'X-Forwarded-For': '203.0.113.5' })).status,
      ).to.equal(200);
      expect429(
        await setStreamParams(server.url, { 'X-Forwarded-For': '198.51.100.7' }),
        /^too many control requests from 127\.0\.0\.1:/,
      );
    } finally {
      await server.stop();
    }
  });

  it('limits are per client address: 127.0.0.1 and ::1 on a dual-stack server', async function () {
    if (!(await canListenOn('::1'))) this.skip();
    const server = await startServer({
      configText: `${SMALL_MOCK_YAML}
server:
  rate_limits:
    control: { max: 1 }
`,
      configDir: FIXTURES_DIR,
      port: 0,
      host: '::',
      logLevel: 'silent',
    });
    try {
      const v4 = `http://127.0.0.1:${server.port}`;
      const v6 = `http://[::1]:${server.port}`;
      expect((await setStreamParams(v4)).status).to.equal(200);
      // An IPv4 client on an IPv6 socket (::ffff:127.0.0.1) is counted as 127.0.0.1.
      expect429(
        await setStreamParams(v4),
        /^too many control requests from (::ffff:)?127\.0\.0\.1:/,
      );
      expect((await setStreamParams(v6)).status).to.equal(200);
      expect429(await setStreamParams(v6), /^too many control requests from ::1:/);
    } finally {
      await server.stop();
    }
  });

  it('a config error names the key path, before any port is opened', async () => {
    let error: unknown;
    try {
      const server = await startTestServer(`${SMALL_MOCK_YAML}
server:
  trust_proxy: true
  rate_limits:
    control: { max: -1 }
    signaling: { windw_s: 5 }
`);
      await server.stop();
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    expect((error as ConfigError).problems).to.include.members([
      'server.rate_limits.control.max: must be an integer between 0 and 1000000',
      'server.rate_limits.signaling.windw_s: unknown key (known keys: max, window_s)',
    ]);
    expect(
      (error as ConfigError).problems.some((p) =>
        p.startsWith('server.trust_proxy: true would let'),
      ),
    ).to.equal(true);
  });
});

const jsonType = { 'Content-Type': 'application/json' };

/** Whether this machine can bind `host` (IPv6 may be off in containers). */
async function canListenOn(host: string): Promise<boolean> {
  const probe = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(0, host, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    if (probe.listening) await new Promise<void>((resolve) => probe.close(() => resolve()));
  }
}
