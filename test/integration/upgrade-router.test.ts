import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { expect } from 'chai';
import sinon from 'sinon';
import type { LiveViewServer } from '../../src/api/server.js';
import { UpgradeRouter } from '../../src/api/upgrade-router.js';
import { BadRequestError, ConflictError } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { BinaryClient, UpgradeRefused } from '../helpers/binary-client.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
  Broken:
    type: mock
    options: { width: 320, height: 240, fps: 30, fault: fail_start }
`;

/** A sample key from RFC 6455. */
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** The handshake headers of a valid upgrade request (lower case, as Node gives them). */
const HANDSHAKE = { 'sec-websocket-key': KEY, 'sec-websocket-version': '13' };

/** An HTTP response read off a raw socket. */
interface RawResponse {
  status: number;
  reason: string;
  headers: Record<string, string>;
  body: string;
}

/** Parses a whole HTTP/1.1 response (the server closes the connection after an error). */
function parseResponse(raw: string): RawResponse {
  const end = raw.indexOf('\r\n\r\n');
  expect(end, `a complete response head in ${JSON.stringify(raw)}`).to.be.greaterThan(0);
  const [statusLine, ...headerLines] = raw.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine);
  expect(m, `status line ${statusLine}`).to.not.equal(null);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(m![1]), reason: m![2], headers, body: raw.slice(end + 4) };
}

/** Sends an upgrade request over a raw TCP socket; resolves with the response once the server closes. */
async function rawUpgrade(
  port: number,
  path: string,
  headers: Record<string, string | undefined> = {},
): Promise<RawResponse> {
  const all: Record<string, string | undefined> = {
    Host: `127.0.0.1:${port}`,
    Connection: 'Upgrade',
    Upgrade: 'websocket',
    'Sec-WebSocket-Version': '13',
    'Sec-WebSocket-Key': KEY,
    ...headers,
  };
  const socket = net.connect(port, '127.0.0.1');
  socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  const closed = new Promise<void>((resolve, reject) => {
    socket.once('close', () => resolve());
    socket.once('error', reject);
  });
  await once(socket, 'connect');
  const lines = Object.entries(all).flatMap(([k, v]) => (v === undefined ? [] : [`${k}: ${v}`]));
  socket.write(`GET ${path} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  await closed;
  return parseResponse(Buffer.concat(chunks).toString('utf8'));
}

/** Checks that a response is a JSON error exactly like REST's. */
function expectJsonError(res: RawResponse, status: number, reason: string): unknown {
  expect(`${res.status} ${res.reason}`).to.equal(`${status} ${reason}`);
  expect(res.headers['content-type']).to.match(/^application\/json\b/);
  expect(Number(res.headers['content-length'])).to.equal(Buffer.byteLength(res.body));
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(Object.keys(body).sort()).to.deep.equal(['message', 'status']);
  expect(body.status).to.equal('error');
  expect(body.message).to.be.a('string');
  return body;
}

describe('WebSocket upgrade router', function () {
  this.timeout(20_000);

  describe('on a real server', () => {
    let server: LiveViewServer;
    let base: string;
    const clients: BinaryClient[] = [];

    const activeStreams = async () =>
      (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as {
        detectorName: string;
        protocol: string;
        onDemand: boolean;
      }[];

    before(async () => {
      server = await startTestServer(YAML);
      base = server.url;
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
    });
    after(async () => {
      await server?.stop();
    });

    it('answers an upgrade to an unknown path with a JSON 404 Not Found', async () => {
      const res = await rawUpgrade(server.port, '/nope?x=1');
      expect(expectJsonError(res, 404, 'Not Found')).to.deep.equal({
        status: 'error',
        message: 'no WebSocket endpoint at /nope',
      });
      // A real WebSocket client sees the same refusal.
      const client = new BinaryClient();
      const err = await client.connect(`${base.replace('http', 'ws')}/nope`).then(
        () => {
          clients.push(client);
          throw new Error('the upgrade was accepted');
        },
        (e: unknown) => e,
      );
      expect(err).to.be.instanceOf(UpgradeRefused);
      expect((err as UpgradeRefused).status).to.equal(404);
      expect(JSON.parse((err as UpgradeRefused).body)).to.deep.equal({
        status: 'error',
        message: 'no WebSocket endpoint at /nope',
      });
    });

    it('refuses an unknown detector with 404 and the same body as REST', async () => {
      const res = await rawUpgrade(server.port, '/liveview/binary?detectorName=Nope');
      const body = expectJsonError(res, 404, 'Not Found') as { message: string };
      expect(body.message).to.include("'Nope'").and.include('Camera').and.include('Broken');
      const rest = await getJson(`${base}/liveview/detectors/Nope`);
      expect(rest.status).to.equal(404);
      expect(body).to.deep.equal(rest.json);
      expect(await activeStreams()).to.deep.equal([]);
    });

    it('refuses a detector that fails to start with 409 Conflict and the REST body', async () => {
      const res = await rawUpgrade(server.port, '/liveview/binary?detectorName=Broken');
      const body = expectJsonError(res, 409, 'Conflict') as { message: string };
      expect(body.message).to.match(/^detector 'Broken' failed to start: .*fail_start/);
      const rest = await postJson(`${base}/liveview/startLiveView`, {
        detectorName: 'Broken',
        protocol: 'binary',
      });
      expect(rest.status).to.equal(409);
      expect(body).to.deep.equal(rest.json);
      expect(await activeStreams()).to.deep.equal([]);
    });

    it('a bad handshake (no Sec-WebSocket-Key) gets a JSON 400 and leaves no stream running', async () => {
      const res = await rawUpgrade(server.port, '/liveview/binary?detectorName=Camera', {
        'Sec-WebSocket-Key': undefined,
      });
      expect(expectJsonError(res, 400, 'Bad Request')).to.deep.equal({
        status: 'error',
        message: 'invalid WebSocket handshake: missing or invalid Sec-WebSocket-Key header',
      });
      await waitFor(async () => (await activeStreams()).length === 0, 4000);
      await waitFor(() => server.controller.detectors.detector('Camera').state === 'idle', 2000);
    });

    it('a handshake the WebSocket library refuses after the stream started releases it', async () => {
      // A duplicate subprotocol passes the router's checks and fails in ws, after hub.ensure.
      const res = await rawUpgrade(server.port, '/liveview/binary?detectorName=Camera', {
        'Sec-WebSocket-Protocol': 'uc2f, uc2f',
      });
      expect(res.status).to.equal(400);
      const during = await activeStreams();
      expect(during.map((s) => [s.detectorName, s.protocol, s.onDemand])).to.deep.equal([
        ['Camera', 'binary', true],
      ]);
      await waitFor(async () => (await activeStreams()).length === 0, 4000);
      await waitFor(() => server.controller.detectors.detector('Camera').state === 'idle', 2000);
    });

    it('a client that hangs up during the upgrade leaves no stream running after the grace', async () => {
      const socket = net.connect(server.port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        // A loopback Host: any other name is refused before the stream starts (DNS rebinding).
        `GET /liveview/binary?detectorName=Camera HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\n` +
          `Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`,
      );
      socket.destroy();
      // The upgrade started the stream on demand…
      await waitFor(async () => (await activeStreams()).length === 1, 2000);
      // …and nobody holds it: it stops after the 2 s grace.
      await waitFor(async () => (await activeStreams()).length === 0, 4000);
    });

    it('a snapshot leaves no stream running after the grace', async () => {
      const res = await fetch(`${base}/liveview/snapshot.jpg?detectorName=Camera`);
      expect(res.status).to.equal(200);
      expect(res.headers.get('content-type')).to.equal('image/jpeg');
      await res.arrayBuffer();
      const during = await activeStreams();
      expect(during.map((s) => [s.detectorName, s.protocol, s.onDemand])).to.deep.equal([
        ['Camera', 'mjpeg', true],
      ]);
      await waitFor(async () => (await activeStreams()).length === 0, 4000);
      await waitFor(() => server.controller.detectors.detector('Camera').state === 'idle', 1000);
    });

    it('routes a normal binary client: the hello message arrives', async () => {
      const client = new BinaryClient();
      clients.push(client);
      await client.connect(`${base.replace('http', 'ws')}/liveview/binary?detectorName=Camera`);
      await waitFor(() => client.json('hello').length === 1, 3000);
      expect(client.json('hello')[0]).to.include({
        type: 'hello',
        detectorName: 'Camera',
        protocol: 'binary',
        format: 'UC2F',
      });
      await waitFor(() => client.frames.length >= 2, 5000);
    });
  });

  describe('UpgradeRouter', () => {
    let logger: Logger;
    let router: UpgradeRouter;

    /** Dispatches a request for `url` to the router; resolves with what it wrote to the socket. */
    const dispatch = async (
      url: string,
      method = 'GET',
      headers: Record<string, string | undefined> = {},
    ): Promise<string> => {
      const socket = new PassThrough();
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      router.handle(
        {
          url,
          method,
          headers: { upgrade: 'websocket', ...HANDSHAKE, ...headers },
        } as IncomingMessage,
        socket,
        Buffer.alloc(0),
      );
      await new Promise((r) => setImmediate(r));
      return Buffer.concat(chunks).toString('utf8');
    };

    beforeEach(() => {
      logger = { error: sinon.spy(), warn: sinon.spy(), info: sinon.spy() } as unknown as Logger;
      router = new UpgradeRouter(logger);
    });

    it('refuses a path registered twice, exact or prefix', () => {
      router.route('/a', () => undefined);
      router.route('/x/', () => undefined);
      expect(() => router.route('/a', () => undefined)).to.throw(
        'WebSocket path /a is already taken',
      );
      expect(() => router.route('/x/', () => undefined)).to.throw(
        'WebSocket path /x/ is already taken',
      );
      expect(() => router.route('relative', () => undefined)).to.throw(TypeError);
    });

    it('a prefix route takes the paths below it; an exact route only its own', async () => {
      const prefix = sinon.spy();
      const exact = sinon.spy();
      router.route('/x/', prefix);
      router.route('/x/special', exact);
      router.route('/a', sinon.spy());
      await dispatch('/x/y?q=1');
      await dispatch('/x/special');
      expect(prefix.callCount).to.equal(1);
      expect((prefix.firstCall.args[3] as URL).pathname).to.equal('/x/y');
      expect((prefix.firstCall.args[3] as URL).searchParams.get('q')).to.equal('1');
      expect(exact.callCount).to.equal(1);
      expect(parseResponse(await dispatch('/a/b')).status).to.equal(404);
      expect(parseResponse(await dispatch('/xy')).status).to.equal(404);
    });

    it('the longest matching prefix wins, whatever the registration order', async () => {
      const outer = sinon.spy();
      const inner = sinon.spy();
      router.route('/x/', outer);
      router.route('/x/y/', inner);
      await dispatch('/x/y/z');
      await dispatch('/x/w');
      expect(inner.callCount, 'handler of /x/y/').to.equal(1);
      expect(outer.callCount, 'handler of /x/').to.equal(1);
    });

    it('maps thrown and rejected errors like REST; server faults are logged', async () => {
      router.route('/bad', () => {
        throw new BadRequestError('bad thing');
      });
      router.route('/busy', () => Promise.reject(new ConflictError('busy')));
      router.route('/bug', () => Promise.reject(new Error('oops')));
      const bad = parseResponse(await dispatch('/bad'));
      expect(expectJsonError(bad, 400, 'Bad Request')).to.deep.equal({
        status: 'error',
        message: 'bad thing',
      });
      const busy = parseResponse(await dispatch('/busy'));
      expect(expectJsonError(busy, 409, 'Conflict')).to.deep.equal({
        status: 'error',
        message: 'busy',
      });
      expect((logger.error as sinon.SinonSpy).callCount, '4xx are not logged').to.equal(0);
      const bug = parseResponse(await dispatch('/bug'));
      expect(expectJsonError(bug, 500, 'Internal Server Error')).to.deep.equal({
        status: 'error',
        message: 'internal error: oops',
      });
      expect((logger.error as sinon.SinonSpy).callCount).to.equal(1);
    });

    it('refuses a bad handshake with the JSON error before the handler runs', async () => {
      const handler = sinon.spy();
      router.route('/ws', handler);
      const post = parseResponse(await dispatch('/ws', 'POST'));
      expect(expectJsonError(post, 405, 'Method Not Allowed')).to.deep.include({
        message: 'a WebSocket handshake must be a GET request, not POST',
      });
      expect(post.headers.allow).to.equal('GET');
      const version = parseResponse(await dispatch('/ws', 'GET', { 'sec-websocket-version': '7' }));
      expectJsonError(version, 400, 'Bad Request');
      expect(version.headers['sec-websocket-version']).to.equal('13, 8');
      const upgrade = parseResponse(await dispatch('/ws', 'GET', { upgrade: 'h2c' }));
      expectJsonError(upgrade, 400, 'Bad Request');
      const key = parseResponse(await dispatch('/ws', 'GET', { 'sec-websocket-key': 'short' }));
      expectJsonError(key, 400, 'Bad Request');
      expect(handler.callCount).to.equal(0);
      await dispatch('/ws');
      expect(handler.callCount).to.equal(1);
    });
  });
});
