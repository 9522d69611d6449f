import http from 'node:http';
import { expect } from 'chai';
import WebSocket from 'ws';
import type { LiveViewServer } from '../../src/api/server.js';
import { SMALL_MOCK_YAML, startTestServer } from '../helpers/server.js';

/** An answer with lower-case headers and the body as text. */
interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/**
 * A request through node:http, which (unlike fetch) sends the Host header it is given. The body
 * of a streaming answer is not awaited: `streaming` resolves at the headers and ends the request.
 */
function request(
  server: LiveViewServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
  streaming = false,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        path,
        method: options.method ?? 'GET',
        headers: options.headers,
      },
      (res) => {
        if (streaming) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
          res.destroy();
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** The JSON error of a refusal: 403, `{status: 'error', message}` with all of `mentions`. */
function expectRefused(answer: Answer, ...mentions: string[]): void {
  expect(answer.status, answer.body).to.equal(403);
  expect(answer.headers['content-type']).to.match(/^application\/json/);
  const json = JSON.parse(answer.body) as { status: string; message: string };
  expect(json.status).to.equal('error');
  for (const m of mentions) expect(json.message).to.include(m);
}

/** Opens a WebSocket to the binary stream; resolves open, or with the refusal's status and body. */
function openWebSocket(
  server: LiveViewServer,
  headers: Record<string, string> = {},
  origin?: string,
): Promise<{ open: true } | { open: false; status: number; type?: string; body: string }> {
  const socket = new WebSocket(
    `ws://127.0.0.1:${server.port}/liveview/binary?detectorName=Camera`,
    {
      headers,
      ...(origin === undefined ? {} : { origin }),
    },
  );
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.once('close', () => resolve({ open: true }));
      socket.close(1000);
    });
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () =>
        resolve({
          open: false,
          status: res.statusCode ?? 0,
          type: res.headers['content-type'],
          body,
        }),
      );
    });
    socket.once('error', reject);
  });
}

/** Expects a WebSocket refusal with the JSON error. */
function expectWsRefused(
  result: Awaited<ReturnType<typeof openWebSocket>>,
  ...mentions: string[]
): void {
  expect(result.open, 'the upgrade is refused').to.equal(false);
  if (result.open) return;
  expectRefused(
    { status: result.status, headers: { 'content-type': result.type }, body: result.body },
    ...mentions,
  );
}

const START = JSON.stringify({ detectorName: 'Camera', protocol: 'mjpeg' });
const JSON_TYPE = { 'Content-Type': 'application/json' };

describe('origins, hosts and security headers (integration)', function () {
  this.timeout(15_000);
  let server: LiveViewServer | undefined;

  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  /** Starts a server with the small mock camera and a `server:` section. */
  async function start(serverSection: string): Promise<LiveViewServer> {
    server = await startTestServer(`${SMALL_MOCK_YAML}\nserver: ${serverSection}\n`);
    return server;
  }

  describe('with cors_origins [http://localhost:3000]', () => {
    const ALLOWED = 'http://localhost:3000';
    const EVIL = 'http://evil.example';
    let s: LiveViewServer;
    beforeEach(async () => {
      s = await start(`{ cors_origins: ['${ALLOWED}'] }`);
    });

    it('refuses a preflight from a foreign origin with 403 naming the origin and the key', async () => {
      const answer = await request(s, '/liveview/startLiveView', {
        method: 'OPTIONS',
        headers: { Origin: EVIL, 'Access-Control-Request-Method': 'POST' },
      });
      expectRefused(answer, `"${EVIL}"`, 'server.cors_origins');
      expect(answer.headers['access-control-allow-origin']).to.equal(undefined);
    });

    it('refuses a POST and a GET from a foreign origin, and the POST starts nothing', async () => {
      const post = await request(s, '/liveview/startLiveView', {
        method: 'POST',
        headers: { ...JSON_TYPE, Origin: EVIL },
        body: START,
      });
      expectRefused(post, EVIL, 'server.cors_origins');
      expect(s.controller.getActiveStreams()).to.deep.equal([]);
      // A form post (text/plain, no preflight) is refused too: the Origin decides, not the type.
      const form = await request(s, '/liveview/startLiveView', {
        method: 'POST',
        headers: { 'Content-Type': 'text/plain', Origin: 'null' },
        body: START,
      });
      expectRefused(form, '"null"');
      expectRefused(
        await request(s, '/liveview/getActiveStreams', { headers: { Origin: EVIL } }),
        EVIL,
      );
    });

    it('answers an allowed preflight with the origin, credentials and Authorization', async () => {
      const answer = await request(s, '/liveview/startLiveView', {
        method: 'OPTIONS',
        headers: {
          Origin: ALLOWED,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });
      // Express answers OPTIONS of its own routes with 200 and Allow; any 2xx passes a preflight.
      expect(answer.status).to.be.within(200, 204);
      expect(answer.headers['access-control-allow-origin']).to.equal(ALLOWED);
      expect(answer.headers['access-control-allow-credentials']).to.equal('true');
      expect(answer.headers['access-control-allow-methods']).to.include('POST');
      expect(answer.headers['access-control-allow-headers']).to.include('authorization');
      expect(answer.headers.vary).to.include('Origin');
    });

    it('answers an allowed WHEP preflight with Accept-Post and the exposed headers', async () => {
      const answer = await request(s, '/liveview/whep/Camera', {
        method: 'OPTIONS',
        headers: { Origin: ALLOWED, 'Access-Control-Request-Method': 'POST' },
      });
      expect(answer.status).to.equal(204);
      expect(answer.headers['accept-post']).to.equal('application/sdp');
      expect(answer.headers['access-control-allow-origin']).to.equal(ALLOWED);
      expect(answer.headers['access-control-allow-credentials']).to.equal('true');
      for (const name of ['Location', 'Link', 'ETag', 'Accept-Post'])
        expect(answer.headers['access-control-expose-headers']).to.include(name);
    });

    it('serves a POST from the allowed origin and from the own origin', async () => {
      const allowed = await request(s, '/liveview/stopLiveView', {
        method: 'POST',
        headers: { ...JSON_TYPE, Origin: ALLOWED },
        body: START,
      });
      expect(allowed.status, allowed.body).to.equal(200);
      expect(allowed.headers['access-control-allow-origin']).to.equal(ALLOWED);
      for (const [host, origin] of [
        [`127.0.0.1:${s.port}`, `http://127.0.0.1:${s.port}`],
        [`localhost:${s.port}`, `http://localhost:${s.port}`],
      ]) {
        const own = await request(s, '/liveview/stopLiveView', {
          method: 'POST',
          headers: { ...JSON_TYPE, Host: host, Origin: origin },
          body: START,
        });
        expect(own.status, own.body).to.equal(200);
      }
      // The same host on another port is another origin.
      expectRefused(
        await request(s, '/liveview/stopLiveView', {
          method: 'POST',
          headers: { ...JSON_TYPE, Host: `localhost:${s.port}`, Origin: 'http://localhost:1' },
          body: START,
        }),
        'http://localhost:1',
      );
    });

    it('counts X-Forwarded-Proto as the scheme (a TLS-terminating proxy)', async () => {
      const headers = { ...JSON_TYPE, Host: 'localhost', Origin: 'https://localhost' };
      expectRefused(
        await request(s, '/liveview/stopLiveView', { method: 'POST', headers, body: START }),
      );
      const proxied = await request(s, '/liveview/stopLiveView', {
        method: 'POST',
        headers: { ...headers, 'X-Forwarded-Proto': 'https' },
        body: START,
      });
      expect(proxied.status, proxied.body).to.equal(200);
    });

    it('refuses a WebSocket from a foreign origin with the JSON 403, accepts the others', async () => {
      expectWsRefused(await openWebSocket(s, {}, EVIL), EVIL, 'server.cors_origins');
      expect(await openWebSocket(s, {}, ALLOWED)).to.deep.equal({ open: true });
      expect(await openWebSocket(s, {}, `http://127.0.0.1:${s.port}`)).to.deep.equal({
        open: true,
      });
      // Programs send no Origin.
      expect(await openWebSocket(s)).to.deep.equal({ open: true });
    });

    it('lets the allowed origin embed the stream and snapshot (CORP cross-origin)', async () => {
      const snapshot = await request(s, '/liveview/snapshot.jpg?detectorName=Camera');
      expect(snapshot.status).to.equal(200);
      expect(snapshot.headers['content-type']).to.equal('image/jpeg');
      expect(snapshot.headers['cross-origin-resource-policy']).to.equal('cross-origin');
      const stream = await request(s, '/liveview/mjpeg?detectorName=Camera', {}, true);
      expect(stream.status).to.equal(200);
      expect(stream.headers['content-type']).to.match(/^multipart\/x-mixed-replace/);
      expect(stream.headers['cross-origin-resource-policy']).to.equal('cross-origin');
      // The API itself stays same-origin for no-cors reads.
      const api = await request(s, '/liveview/getActiveStreams');
      expect(api.headers['cross-origin-resource-policy']).to.equal('same-origin');
    });
  });

  describe('with the defaults', () => {
    let s: LiveViewServer;
    beforeEach(async () => {
      s = await start('{}');
    });

    it('allows no other origin, not even another port of this machine', async () => {
      expectRefused(
        await request(s, '/liveview/whep/Camera', {
          method: 'OPTIONS',
          headers: { Origin: 'http://127.0.0.1:9999', 'Access-Control-Request-Method': 'POST' },
        }),
        'http://127.0.0.1:9999',
        'server.cors_origins',
      );
      // Requests without Origin (curl, programs, same-origin GETs) are served as before.
      const plain = await request(s, '/liveview/getActiveStreams');
      expect(plain.status).to.equal(200);
      expect(JSON.parse(plain.body)).to.deep.include({ status: 'success' });
    });

    it('refuses a rebinding Host for REST and WebSocket, with the name and the key', async () => {
      for (const host of ['attacker.example', `attacker.example:${s.port}`]) {
        expectRefused(
          await request(s, '/health', { headers: { Host: host } }),
          '"attacker.example"',
          'server.allowed_hosts',
        );
        // Even with an Origin that is "same-origin" for that Host: the rebinding case itself.
        expectRefused(
          await request(s, '/liveview/startLiveView', {
            method: 'POST',
            headers: { ...JSON_TYPE, Host: host, Origin: `http://${host}` },
            body: START,
          }),
          'server.allowed_hosts',
        );
        expectWsRefused(
          await openWebSocket(s, { Host: host }, `http://${host}`),
          'server.allowed_hosts',
        );
      }
      expect(s.controller.getActiveStreams()).to.deep.equal([]);
    });

    it('accepts loopback names and IP addresses as Host', async () => {
      for (const host of [
        `localhost:${s.port}`,
        `127.0.0.1:${s.port}`,
        `[::1]:${s.port}`,
        `cam.localhost:${s.port}`,
        `192.168.1.20:${s.port}`,
      ]) {
        const answer = await request(s, '/health', { headers: { Host: host } });
        expect(answer.status, host).to.equal(200);
      }
      expect(await openWebSocket(s, { Host: `localhost:${s.port}` })).to.deep.equal({
        open: true,
      });
    });

    it('sends the security headers with pages, JSON, streams and errors', async () => {
      const page = await request(s, '/');
      expect(page.status).to.equal(200);
      const csp = page.headers['content-security-policy'] as string;
      for (const directive of [
        "default-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "img-src 'self' blob: data:",
        "media-src 'self' blob:",
        "frame-ancestors 'self'",
        "object-src 'none'",
        "base-uri 'self'",
      ])
        expect(csp).to.include(directive);
      expect(csp).to.not.include('unsafe-inline');
      expect(csp).to.not.include('upgrade-insecure-requests');
      expect(page.headers['x-content-type-options']).to.equal('nosniff');
      expect(page.headers['x-frame-options']).to.equal('SAMEORIGIN');
      expect(page.headers['referrer-policy']).to.equal('same-origin');
      expect(page.headers['cross-origin-opener-policy']).to.equal('same-origin');
      expect(page.headers['cross-origin-resource-policy']).to.equal('same-origin');
      // Plain HTTP: HSTS would be ignored, and must not be sent.
      expect(page.headers['strict-transport-security']).to.equal(undefined);
      expect(page.headers['x-powered-by']).to.equal(undefined);

      const api = await request(s, '/liveview/protocols');
      expect(api.status).to.equal(200);
      expect(api.headers['content-type']).to.match(/^application\/json/);
      expect(api.headers['x-content-type-options']).to.equal('nosniff');
      const missing = await request(s, '/liveview/nothing');
      expect(missing.status).to.equal(404);
      expect(missing.headers['content-security-policy']).to.include("default-src 'self'");
      // Nobody else is allowed, so nobody else may embed the stream.
      const stream = await request(s, '/liveview/mjpeg?detectorName=Camera', {}, true);
      expect(stream.status).to.equal(200);
      expect(stream.headers['cross-origin-resource-policy']).to.equal('same-origin');
      expect(stream.headers['x-content-type-options']).to.equal('nosniff');
    });
  });

  it('allowed_hosts: exact names and .suffixes, case and port ignored', async () => {
    const s = await start("{ allowed_hosts: [Scope.Example.org, '.lab.example'] }");
    for (const host of [
      'scope.example.org',
      'SCOPE.example.org:8001',
      'lab.example',
      'cam.lab.example:8001',
      'localhost',
    ]) {
      expect((await request(s, '/health', { headers: { Host: host } })).status, host).to.equal(200);
    }
    for (const host of ['example.org', 'evil.example', 'lab.example.evil'])
      expectRefused(await request(s, '/health', { headers: { Host: host } }), host);
    expect(await openWebSocket(s, { Host: 'cam.lab.example' })).to.deep.equal({ open: true });
    expectWsRefused(await openWebSocket(s, { Host: 'evil.example' }), 'server.allowed_hosts');
  });

  it("allowed_hosts '*' and cors_origins '*': any host, any origin without credentials", async () => {
    const s = await start("{ allowed_hosts: ['*'], cors_origins: ['*'] }");
    expect(
      (await request(s, '/health', { headers: { Host: 'anything.example' } })).status,
    ).to.equal(200);
    const preflight = await request(s, '/liveview/startLiveView', {
      method: 'OPTIONS',
      headers: {
        Origin: 'http://evil.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'content-type',
      },
    });
    expect(preflight.status).to.be.within(200, 204);
    expect(preflight.headers['access-control-allow-origin']).to.equal('*');
    expect(preflight.headers['access-control-allow-credentials']).to.equal(undefined);
    // '*' is about web origins; the opaque origin of sandboxed frames has to be listed.
    expectRefused(
      await request(s, '/liveview/getActiveStreams', { headers: { Origin: 'null' } }),
      '"null"',
    );
    expect(await openWebSocket(s, {}, 'http://evil.example')).to.deep.equal({ open: true });
  });

  it('with authentication on, an empty allowed_hosts means any host', async () => {
    const s = await start(
      '{}\nauth: { tokens: [{ name: t, token: 0123456789abcdef0123, role: admin }] }',
    );
    expect(
      (await request(s, '/health', { headers: { Host: 'scope.example.org' } })).status,
    ).to.equal(200);
  });

  it('rejects malformed entries as config errors naming the key', async () => {
    for (const [section, key] of [
      ["{ cors_origins: ['http://localhost:3000/'] }", 'server.cors_origins'],
      ["{ cors_origins: ['localhost:3000'] }", 'server.cors_origins'],
      ["{ allowed_hosts: ['https://scope.example.org'] }", 'server.allowed_hosts'],
      ["{ allowed_hosts: ['scope.example.org:8001'] }", 'server.allowed_hosts'],
    ]) {
      let message = '';
      try {
        await start(section);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(message, section).to.match(
        new RegExp(`^${key.replace('.', '\\.')}: each entry must be`),
      );
    }
  });
});
