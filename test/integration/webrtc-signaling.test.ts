import { createHmac } from 'node:crypto';
import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { WebrtcParams } from '../../src/protocols/webrtc/params.js';
import type { WebrtcWorker } from '../../src/protocols/webrtc/worker.js';
import { postJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc: { ice_host_addresses: [127.0.0.1] }
`;

const INJECTION = 'stun:a>\r\nX-Evil: 1';

describe('WebRTC signaling: bad input is refused cleanly', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const viewers: TestViewer[] = [];

  const worker = () => server.controller.findStream('Camera', 'webrtc') as WebrtcWorker | undefined;
  /** The WHEP sessions the protocol holds (a private map: nothing else shows them). */
  const whepSessions = () => {
    const protocol = server.controller.registry.allProtocols().find((p) => p.name === 'webrtc');
    return (protocol as unknown as { whepSessions: Map<string, unknown> }).whepSessions;
  };
  const offer = async () => {
    const v = new TestViewer({ codecs: ['VP8'], dataChannel: false });
    viewers.push(v);
    return v.offer();
  };
  const whepPost = (body: string, type = 'application/sdp') =>
    fetch(`${base}/liveview/whep/Camera`, {
      method: 'POST',
      headers: { 'Content-Type': type },
      body,
    });
  const messageOf = async (res: Response) => ((await res.json()) as { message: string }).message;

  before(async () => {
    server = await startTestServer(YAML);
    base = server.url;
  });
  afterEach(async () => {
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    await postJson(`${base}/liveview/stopLiveView`, { detectorName: 'Camera' });
  });
  after(async () => {
    await server?.stop();
  });

  describe('ICE server params (header injection)', () => {
    it('startLiveView and setStreamParams refuse a STUN URL with CR/LF: 400 naming params.stun_servers', async () => {
      const start = await postJson(`${base}/liveview/startLiveView`, {
        detectorName: 'Camera',
        protocol: 'webrtc',
        params: { stun_servers: [INJECTION] },
      });
      expect(start.status).to.equal(400);
      expect(start.json.message).to.equal(
        'params.stun_servers: [0] "stun:a>\\r\\nX-Evil: 1" must be a STUN URL such as stun:stun.example.org:3478 (RFC 7064: stun: or stuns:, host, optional port)',
      );
      expect(worker(), 'no stream was started').to.equal(undefined);

      await postJson(`${base}/liveview/startLiveView`, {
        detectorName: 'Camera',
        protocol: 'webrtc',
      });
      const set = await postJson(`${base}/liveview/setStreamParams`, {
        protocol: 'webrtc',
        params: {
          turn_servers: [{ urls: ['turn:t.example.org'], username: 'u', credential: 'p"\r\nX: 1' }],
        },
      });
      expect(set.status).to.equal(400);
      expect(set.json.message).to.match(/^params\.turn_servers\.0\.credential: /);
      // The stream keeps its params and still answers WHEP.
      const res = await whepPost(await offer());
      expect(res.status).to.equal(201);
      expect(res.headers.get('link')).to.equal(null);
    });

    it('a WHEP POST that fails leaves no viewer, no session and no header of a success', async () => {
      await postJson(`${base}/liveview/startLiveView`, {
        detectorName: 'Camera',
        protocol: 'webrtc',
      });
      // What validation now refuses, put straight into a running stream: the answer cannot carry it.
      worker()!.updateParams(Object.assign(new WebrtcParams(), { stun_servers: [INJECTION] }));
      const res = await whepPost(await offer());
      expect(res.status).to.equal(500);
      expect(res.headers.get('location')).to.equal(null);
      // (express's own weak ETag of the JSON error body is fine; the session's would be "<uuid>")
      expect(res.headers.get('etag') ?? '').to.not.match(/^"[0-9a-f-]{36}"$/);
      expect(res.headers.get('link')).to.equal(null);
      expect(await messageOf(res)).to.include('Link header');
      expect(worker()!.sessions.size, 'viewers').to.equal(0);
      expect(whepSessions().size, 'WHEP sessions').to.equal(0);
    });
  });

  describe('content types and sizes', () => {
    it('WHEP POST with Content-Type application/json (an SDP body) is 415 naming application/sdp', async () => {
      const res = await whepPost(await offer(), 'application/json');
      expect(res.status).to.equal(415);
      expect(await messageOf(res)).to.equal(
        'WHEP needs Content-Type: application/sdp (got application/json)',
      );
      const upper = await fetch(`${base}/LIVEVIEW/WHEP/Camera`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: 'v=0',
      });
      expect(upper.status).to.equal(415);
    });

    it('WHEP PATCH with Content-Type application/json is 415 naming the trickle-ICE type', async () => {
      const created = await whepPost(await offer());
      expect(created.status).to.equal(201);
      const res = await fetch(`${base}${created.headers.get('location')}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/json' },
        body: 'a=candidate:1 1 udp 1 127.0.0.1 9 typ host',
      });
      expect(res.status).to.equal(415);
      expect(await messageOf(res)).to.equal(
        'WHEP needs Content-Type: application/trickle-ice-sdpfrag (got application/json)',
      );
    });

    it('the REST API still parses JSON and still answers invalid JSON with 400', async () => {
      const bad = await postJson(`${base}/liveview/startLiveView`, '{"detectorName":', true);
      expect(bad.status).to.equal(400);
      expect(bad.json.message).to.match(/^invalid JSON in request body/);
      const ok = await postJson(`${base}/liveview/webrtc_offer`, {
        detectorName: 'Camera',
        sdp: await offer(),
        type: 'offer',
      });
      expect(ok.status).to.equal(200);
    });

    it('an SDP body over 256 KB is 413 naming 256 KB', async () => {
      const sdp = (await offer()) + `a=x-pad:${'x'.repeat(300 * 1024)}\r\n`;
      const res = await whepPost(sdp);
      expect(res.status).to.equal(413);
      expect(await messageOf(res)).to.equal('request body too large (limit 256 KB)');
    });
  });

  describe('offers that can never connect', () => {
    for (const attribute of ['fingerprint', 'ice-ufrag', 'ice-pwd']) {
      it(`an offer without a=${attribute} is 400 naming it, for webrtc_offer and WHEP`, async () => {
        const sdp = (await offer()).replace(new RegExp(`a=${attribute}:[^\\r]*\\r\\n`, 'g'), '');
        const byNote = await postJson(`${base}/liveview/webrtc_offer`, {
          detectorName: 'Camera',
          sdp,
          type: 'offer',
        });
        expect(byNote.status).to.equal(400);
        expect(byNote.json.message).to.include(`the SDP offer has no a=${attribute}`);
        const byWhep = await whepPost(sdp);
        expect(byWhep.status).to.equal(400);
        expect(await messageOf(byWhep)).to.include(`the SDP offer has no a=${attribute}`);
        expect(byWhep.headers.get('location')).to.equal(null);
        await waitFor(() => (worker()?.sessions.size ?? 0) === 0, 1000);
        expect(whepSessions().size).to.equal(0);
      });
    }
  });
});

describe('WebRTC TURN credentials: hidden in every answer that shows params, minted per viewer', function () {
  this.timeout(30_000);
  const SECRET = 'turn-shared-secret-4f9c';
  const STATIC = 'static-turn-pass-77e1';
  let server: LiveViewServer;
  let base: string;
  const viewers: TestViewer[] = [];

  before(async () => {
    server = await startTestServer(`
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc:
    ice_host_addresses: [127.0.0.1]
    stun_servers: ['stun:stun.example.org:3478']
    turn_servers:
      - { urls: ['turn:rest.example.org:3478'], secret: '${SECRET}', ttl_s: 600 }
      - { urls: ['turn:static.example.org'], username: fixed, credential: '${STATIC}' }
`);
    base = server.url;
  });
  afterEach(async () => {
    await Promise.all(viewers.splice(0).map((v) => v.close()));
    await postJson(`${base}/liveview/stopLiveView`, { detectorName: 'Camera' });
  });
  after(async () => {
    await server?.stop();
  });

  const text = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${base}${path}`, init);
    return { status: res.status, body: await res.text(), headers: res.headers };
  };
  const post = (path: string, body: unknown) =>
    text(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
  const expectHidden = (body: string, where: string) => {
    expect(body, where).to.not.include(SECRET);
    expect(body, where).to.not.include(STATIC);
  };
  /** Checks the minted TURN REST entry: username `<expiry>:anonymous`, HMAC-SHA1 of the secret. */
  const expectMinted = (server: { urls: unknown; username?: string; credential?: string }) => {
    expect(server.urls).to.deep.equal(['turn:rest.example.org:3478']);
    expect(server.username).to.match(/^\d+:anonymous$/);
    const expiry = Number(server.username!.split(':')[0]);
    expect(expiry - Date.now() / 1000).to.be.within(595, 601);
    expect(server.credential).to.equal(
      createHmac('sha1', SECRET).update(server.username!).digest('base64'),
    );
  };

  it('getStreamParams, /protocols, startLiveView, getActiveStreams and setStreamParams show placeholders', async () => {
    const params = await text('/liveview/getStreamParams?protocol=webrtc');
    expect(params.status).to.equal(200);
    expectHidden(params.body, 'getStreamParams');
    const turn = (JSON.parse(params.body) as { params: WebrtcParams }).params.turn_servers;
    expect(turn[0].secret).to.match(/^\(redacted:[0-9a-f]{16}\)$/);
    expect(turn[1].credential).to.match(/^\(redacted:[0-9a-f]{16}\)$/);
    expect(turn[1].username).to.equal('fixed');
    expectHidden((await text('/liveview/protocols')).body, '/liveview/protocols');
    const start = await post('/liveview/startLiveView', {
      detectorName: 'Camera',
      protocol: 'webrtc',
    });
    expect(start.status).to.equal(200);
    expectHidden(start.body, 'startLiveView');
    expectHidden((await text('/liveview/getActiveStreams')).body, 'getActiveStreams');
    const set = await post('/liveview/setStreamParams', {
      protocol: 'webrtc',
      params: { throttle_ms: 40 },
    });
    expect(set.status).to.equal(200);
    expectHidden(set.body, 'setStreamParams');
  });

  it('params sent back as shown keep the real secret and credential', async () => {
    const shown = JSON.parse((await text('/liveview/getStreamParams?protocol=webrtc')).body) as {
      params: unknown;
    };
    const set = await post('/liveview/setStreamParams', {
      protocol: 'webrtc',
      params: shown.params,
    });
    expect(set.status, set.body).to.equal(200);
    const ice = JSON.parse(
      (await text('/liveview/webrtc/ice_servers?detectorName=Camera')).body,
    ) as {
      iceServers: { urls: unknown; username?: string; credential?: string }[];
    };
    expectMinted(ice.iceServers[1]);
    expect(ice.iceServers[2]).to.deep.equal({
      urls: ['turn:static.example.org'],
      username: 'fixed',
      credential: STATIC,
    });
  });

  it('GET /liveview/webrtc/ice_servers mints per request (RTCIceServer shape, no-store); unknown detector 404', async () => {
    const res = await text('/liveview/webrtc/ice_servers?detectorName=Camera');
    expect(res.status).to.equal(200);
    expect(res.headers.get('cache-control')).to.equal('no-store');
    const body = JSON.parse(res.body) as {
      status: string;
      iceServers: { urls: unknown; username?: string; credential?: string }[];
      expiresAt: number;
    };
    expect(body.status).to.equal('success');
    expect(body.iceServers[0]).to.deep.equal({ urls: 'stun:stun.example.org:3478' });
    expectMinted(body.iceServers[1]);
    expect(body.expiresAt).to.equal(Number(body.iceServers[1].username!.split(':')[0]));
    expect((await text('/liveview/webrtc/ice_servers')).status).to.equal(200);
    const unknown = await text('/liveview/webrtc/ice_servers?detectorName=Nope');
    expect(unknown.status).to.equal(404);
    expect(JSON.parse(unknown.body)).to.include({ status: 'error' });
  });

  it('the webrtc_offer answer and the WHEP 201 Link headers (and OPTIONS) carry minted credentials', async () => {
    const v1 = new TestViewer({ codecs: ['VP8'], dataChannel: false });
    viewers.push(v1);
    const answer = await postJson(`${base}/liveview/webrtc_offer`, {
      detectorName: 'Camera',
      sdp: await v1.offer(),
      type: 'offer',
    });
    expect(answer.status).to.equal(200);
    const iceServers = answer.json.iceServers as { urls: unknown; username?: string }[];
    expectMinted(iceServers[1]);
    expect(answer.json.expiresAt).to.equal(Number(iceServers[1].username!.split(':')[0]));

    const v2 = new TestViewer({ codecs: ['VP8'], dataChannel: false });
    viewers.push(v2);
    const whep = await text('/liveview/whep/Camera', {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: await v2.offer(),
    });
    expect(whep.status).to.equal(201);
    const links = whep.headers.get('link')!.split(/,\s*(?=<)/);
    expect(links[0]).to.equal('<stun:stun.example.org:3478>; rel="ice-server"');
    const m =
      /^<turn:rest\.example\.org:3478>; rel="ice-server"; username="(\d+:anonymous)"; credential="([^"]+)"; credential-type="password"$/.exec(
        links[1],
      );
    expect(m, links[1]).to.not.equal(null);
    expectMinted({ urls: ['turn:rest.example.org:3478'], username: m![1], credential: m![2] });
    expect(links[2]).to.equal(
      `<turn:static.example.org>; rel="ice-server"; username="fixed"; credential="${STATIC}"; credential-type="password"`,
    );
    // The stream runs now: OPTIONS announces the ICE servers too.
    const options = await text('/liveview/whep/Camera', { method: 'OPTIONS' });
    expect(options.status).to.equal(204);
    expect(options.headers.get('link')).to.match(/username="\d+:anonymous"/);
  });
});
