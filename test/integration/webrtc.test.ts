import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { liveEncoders } from '../../src/protocols/webrtc/video-encoder.js';
import type { WebrtcWorker } from '../../src/protocols/webrtc/worker.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';
import { TestViewer } from '../helpers/webrtc-viewer.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  webrtc: { codec: VP8, ice_host_addresses: [127.0.0.1] }
# A WHEP player served from another origin (the CORS test below); any other origin is refused.
server: { cors_origins: ['http://127.0.0.1:9999'] }
`;

const CHILD = fileURLToPath(new URL('../helpers/webrtc-viewer-child.js', import.meta.url));

describe('WebRTC protocol', function () {
  this.timeout(40_000);
  let server: LiveViewServer;
  let base: string;
  const viewers: TestViewer[] = [];

  const worker = () => server.controller.findStream('Camera', 'webrtc') as WebrtcWorker | undefined;
  const viewer = (codecs?: ('VP8' | 'H264')[]) => {
    const v = new TestViewer({ codecs });
    viewers.push(v);
    return v;
  };
  /** Connects a viewer with the design note's signaling. */
  const connectByOffer = async (v: TestViewer) => {
    const { status, json } = await postJson(`${base}/liveview/webrtc_offer`, {
      detectorName: 'Camera',
      sdp: await v.offer(),
      type: 'offer',
    });
    expect(status, String(json.message)).to.equal(200);
    expect(json).to.include({ status: 'success', type: 'answer' });
    await v.accept(json.sdp as string);
    return v;
  };
  const whep = (path = '', init: RequestInit = {}) =>
    fetch(`${base}/liveview/whep/Camera${path}`, init);

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

  it('webrtc_offer answers, and decoded frames carry increasing frame numbers in the pixel code', async () => {
    const v = await connectByOffer(viewer());
    await waitFor(() => v.frames.length >= 20, 10_000);
    expect(v.codec).to.equal('VP8');
    const numbers = v.frames.map((f) => f.frameNumber);
    expect(
      numbers.every((n) => typeof n === 'number'),
      'every frame has a readable pixel code',
    ).to.equal(true);
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]!).to.be.greaterThan(numbers[i - 1]!);
    expect(v.frames[0]).to.include({ width: 320, height: 240, keyframe: true });
    expect(v.decodeErrors).to.equal(0);
    const latencies = v.frames.map((f) => f.receivedAt - f.timestampMs!);
    expect(Math.max(...latencies.slice(5))).to.be.lessThan(500);
  });

  it('sends a metadata message per frame on the metadata data channel', async () => {
    const v = await connectByOffer(viewer());
    await waitFor(() => v.metadata.length >= 5, 10_000);
    const m = v.metadata[v.metadata.length - 1];
    expect(m).to.include({ detectorName: 'Camera', width: 320, height: 240 });
    expect(m.frameNumber).to.be.a('number');
    expect(m.captureTimeMs).to.be.a('number');
    expect(m.window).to.have.keys('min', 'max');
  });

  it('an offer with only H.264 gets H.264 (constrained baseline, packetization mode 1)', async () => {
    const v = await connectByOffer(viewer(['H264']));
    await waitFor(() => v.frames.length >= 10, 10_000);
    expect(v.codec).to.equal('H264');
    expect(v.frames.every((f) => typeof f.frameNumber === 'number')).to.equal(true);
  });

  it('three viewers of one stream share one encoder, and it stops with the last viewer', async () => {
    const before = liveEncoders;
    const vs = await Promise.all([viewer(), viewer(), viewer()].map(connectByOffer));
    await waitFor(() => vs.every((v) => v.frames.length >= 5), 10_000);
    expect(worker()?.encoderCount).to.equal(1);
    expect(liveEncoders - before).to.equal(1);
    const status = (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as {
      protocol: string;
      clientCount: number;
    }[];
    expect(status.find((s) => s.protocol === 'webrtc')?.clientCount).to.equal(3);
    await Promise.all(vs.map((v) => v.close()));
    await waitFor(() => liveEncoders === before, 15_000);
  });

  it('a new viewer gets a keyframe at once, and a PLI forces another', async () => {
    // No periodic keyframe during the test: a keyframe after the PLI is the PLI's, and a
    // periodic one just before it cannot swallow it (PLIs within 500 ms of a keyframe wait).
    server.controller.setStreamParams('webrtc', { keyframe_interval_ms: 60_000 });
    try {
      const first = await connectByOffer(viewer());
      await waitFor(() => first.frames.length >= 10, 10_000);
      const joinedAt = Date.now();
      const second = await connectByOffer(viewer());
      await waitFor(() => second.frames.length >= 1, 5000);
      expect(second.frames[0].keyframe).to.equal(true);
      expect(second.frames[0].receivedAt - joinedAt).to.be.lessThan(2000);
      await new Promise((r) => setTimeout(r, 700));
      const keyframesBefore = first.frames.filter((f) => f.keyframe).length;
      await first.sendPli();
      await waitFor(() => first.frames.filter((f) => f.keyframe).length > keyframesBefore, 2000);
    } finally {
      server.controller.setStreamParams('webrtc', { keyframe_interval_ms: 2000 });
    }
  });

  it('bandwidth: the encoder follows the weakest viewer down to min_bitrate, and back up', async () => {
    await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Camera',
      protocol: 'webrtc',
      params: { codec: 'H264', max_bitrate: 3_000_000, min_bitrate: 400_000 },
    });
    const strong = await connectByOffer(viewer(['H264']));
    const weak = await connectByOffer(viewer(['H264']));
    await waitFor(() => strong.frames.length >= 3 && weak.frames.length >= 3, 10_000);
    expect(worker()?.targetBitrate('H264')).to.equal(3_000_000);
    await strong.sendRemb(10_000_000);
    await weak.sendRemb(1_000_000);
    // 85 % of the weakest estimate.
    await waitFor(() => worker()?.targetBitrate('H264') === 850_000, 5000);
    await weak.sendRemb(100_000);
    await waitFor(() => worker()?.targetBitrate('H264') === 400_000, 5000);
    const n = strong.frames.length;
    await waitFor(() => strong.frames.length > n + 5, 5000);
    // The weak viewer leaves: the strong one's estimate rules, capped at max_bitrate.
    await weak.close();
    await waitFor(() => worker()?.targetBitrate('H264') === 3_000_000, 10_000);
  });

  it('a viewer that vanishes without closing is cleaned up', async () => {
    const child = spawn(process.execPath, [CHILD, base, 'Camera'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('receiving') && resolve());
        child.on('exit', (code) => reject(new Error(`viewer exited with ${code}`)));
      });
      expect(worker()?.sessions.size).to.equal(1);
      child.kill('SIGKILL');
      await waitFor(() => (worker()?.sessions.size ?? 0) === 0, 20_000);
    } finally {
      child.kill('SIGKILL');
    }
  });

  describe('WHEP', () => {
    it('POST answers 201 with the SDP, a Location and an ETag; DELETE ends the session', async () => {
      const v = viewer();
      const res = await whep('', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: await v.offer(),
      });
      expect(res.status).to.equal(201);
      expect(res.headers.get('content-type')).to.match(/^application\/sdp/);
      const location = res.headers.get('location')!;
      expect(location).to.match(/^\/liveview\/whep\/Camera\/[0-9a-f-]{36}$/);
      expect(res.headers.get('etag')).to.be.a('string');
      await v.accept(await res.text());
      await waitFor(() => v.frames.length >= 3, 10_000);
      const patch = await fetch(`${base}${location}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
        body: 'a=mid:0\r\na=candidate:1 1 udp 2113937151 127.0.0.1 50000 typ host\r\n',
      });
      expect(patch.status).to.equal(204);
      const del = await fetch(`${base}${location}`, { method: 'DELETE' });
      expect(del.status).to.equal(200);
      await waitFor(() => (worker()?.sessions.size ?? 0) === 0, 5000);
      const again = await fetch(`${base}${location}`, { method: 'DELETE' });
      expect(again.status).to.equal(404);
    });

    it('OPTIONS answers 204 with Accept-Post and CORS', async () => {
      const res = await whep('', {
        method: 'OPTIONS',
        headers: { Origin: 'http://127.0.0.1:9999', 'Access-Control-Request-Method': 'POST' },
      });
      expect(res.status).to.equal(204);
      expect(res.headers.get('accept-post')).to.equal('application/sdp');
      expect(res.headers.get('access-control-allow-origin')).to.equal('http://127.0.0.1:9999');
      expect(res.headers.get('access-control-expose-headers')).to.include('Location');
    });

    it('a wrong content type is 415', async () => {
      const res = await whep('', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{}',
      });
      expect(res.status).to.equal(415);
      expect(((await res.json()) as { message: string }).message).to.equal(
        'WHEP needs Content-Type: application/sdp (got application/json)',
      );
    });

    it('malformed SDP is 400 with a message', async () => {
      for (const [body, message] of [
        ['hello', 'malformed SDP offer: it must be SDP text starting with "v=0"'],
        ['v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n', 'the SDP offer has no video section'],
      ]) {
        const res = await whep('', {
          method: 'POST',
          headers: { 'Content-Type': 'application/sdp' },
          body,
        });
        expect(res.status).to.equal(400);
        expect(((await res.json()) as { message: string }).message).to.include(message);
      }
    });

    it('an unknown session is 404 for PATCH and DELETE, and a wrong PATCH type 415', async () => {
      const unknown = '/00000000-0000-0000-0000-000000000000';
      const patch = await whep(unknown, {
        method: 'PATCH',
        headers: { 'Content-Type': 'application/trickle-ice-sdpfrag' },
        body: 'a=mid:0\r\n',
      });
      expect(patch.status).to.equal(404);
      expect((await whep(unknown, { method: 'DELETE' })).status).to.equal(404);
      const v = viewer();
      const res = await whep('', {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: await v.offer(),
      });
      const location = res.headers.get('location')!;
      await v.accept(await res.text());
      const wrong = await fetch(`${base}${location}`, {
        method: 'PATCH',
        headers: { 'Content-Type': 'text/plain' },
        body: 'x',
      });
      expect(wrong.status).to.equal(415);
    });

    it('an unknown detector is 404', async () => {
      const res = await fetch(`${base}/liveview/whep/Nope`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/sdp' },
        body: await viewer().offer(),
      });
      expect(res.status).to.equal(404);
    });
  });

  it('startLiveView with protocol webrtc answers the WHEP url; params change live without dropping viewers', async () => {
    const { json } = await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Camera',
      protocol: 'webrtc',
    });
    expect(json.url).to.equal('/liveview/whep/Camera');
    const v = await connectByOffer(viewer());
    await waitFor(() => v.frames.length >= 5, 10_000);
    await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'webrtc',
      params: { max_width: 160, max_bitrate: 1_000_000 },
    });
    await waitFor(() => v.frames.some((f) => f.width === 160), 10_000);
    expect(worker()?.targetBitrate('VP8')).to.equal(1_000_000);
    expect(worker()?.sessions.size).to.equal(1);
    await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'webrtc',
      params: { max_width: 0, max_bitrate: 4_000_000 },
    });
  });
});
