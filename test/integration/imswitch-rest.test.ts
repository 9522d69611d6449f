import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { decodeJpeg } from '../helpers/jpeg.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { startTestServer, waitFor } from '../helpers/server.js';
import { imswitchCall, type ApiAnswer } from './imswitch-client.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
  Side:
    type: mock
    options: { width: 160, height: 120, fps: 30, dtype: uint8, bit_depth: 8 }
`;

/** The keys of ImSwitch's StreamParams.to_dict(), which the web app stores and sends back. */
const PARAM_KEYS = [
  'detector_name',
  'protocol',
  'compression_algorithm',
  'compression_level',
  'subsampling_factor',
  'throttle_ms',
  'crop_size',
  'jpeg_quality',
  'stun_servers',
  'turn_servers',
  'max_width',
  'broadcast_frames',
];

type Json = Record<string, unknown>;

describe('ImSwitch REST API (/imswitch/api), called as its web app calls it', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const readers: MultipartReader[] = [];

  const lv = (path: string, options: Parameters<typeof imswitchCall>[2] = {}) =>
    imswitchCall(base, `/LiveViewController/${path}`, options);
  const json = (a: ApiAnswer): Json => {
    expect(a.status, a.text).to.equal(200);
    return a.json as Json;
  };
  const error = (a: ApiAnswer, status: number, includes: string): void => {
    expect(a.status, a.text).to.equal(status);
    expect(a.json).to.deep.include({ status: 'error' });
    expect((a.json as Json).message).to.include(includes);
  };
  const stream = (protocol: string, detector = 'Camera') =>
    server.controller.findStream(detector, protocol);
  const param = (protocol: string, key: string, detector = 'Camera'): unknown =>
    (stream(protocol, detector)?.params as unknown as Json | undefined)?.[key];

  // A server per test: ImSwitch remembers each detector's last params, which must not leak.
  beforeEach(async () => {
    server = await startTestServer(YAML);
    base = server.url;
  });
  afterEach(async () => {
    for (const r of readers.splice(0)) r.close();
    await server?.stop();
  });

  it('SettingsController/getDetectorNames: an array of the detector names', async () => {
    const a = await imswitchCall(base, '/SettingsController/getDetectorNames');
    expect(json(a)).to.deep.equal(['Camera', 'Side']);
  });

  it('version: a non-empty version string (the web app checks the connection with it)', async () => {
    const a = json(await imswitchCall(base, '/version'));
    expect(a.version).to.be.a('string').and.not.equal('');
  });

  it("the web app's first load: getLiveViewActive, getLongExposureInfo, startLiveView(null, 'jpeg'), getActiveStreams", async () => {
    const idle = await lv('getLiveViewActive');
    expect(idle.json, 'a bare boolean').to.equal(false);
    const info = json(await lv('getLongExposureInfo'));
    expect(info).to.deep.equal({
      detector: 'Camera',
      exposureMs: 10,
      thresholdMs: 2000,
      isLongExposure: false,
    });
    const started = json(
      await lv('startLiveView', { method: 'POST', query: { protocol: 'jpeg' }, body: null }),
    );
    expect(started).to.include({ status: 'success', detector: 'Camera', protocol: 'jpeg' });
    expect(Object.keys(started.params as Json)).to.have.members(PARAM_KEYS);
    expect(started.params).to.include({ detector_name: 'Camera', protocol: 'jpeg', crop_size: 0 });
    expect((await lv('getLiveViewActive')).json).to.equal(true);
    expect(json(await lv('getActiveStreams'))).to.deep.equal({
      status: 'success',
      active_streams: [{ detector: 'Camera', protocol: 'jpeg' }],
    });
    // jpeg rides on liveview's mjpeg stream (one JPEG encoder for both).
    expect(stream('mjpeg'), 'the mjpeg stream runs').to.not.equal(undefined);
  });

  it('startLiveView maps ImSwitch params onto the stream (binary: zstandard, level clamped)', async () => {
    const a = json(
      await lv('startLiveView', {
        method: 'POST',
        query: { detectorName: 'Camera', protocol: 'binary' },
        body: {
          compression_algorithm: 'zstandard',
          compression_level: 0,
          subsampling_factor: 2,
          throttle_ms: 40,
          jpeg_quality: 60, // not a binary param: ignored, as ImSwitch does
        },
      }),
    );
    expect(a).to.include({ status: 'success', protocol: 'binary' });
    expect(a.params).to.include({
      compression_algorithm: 'zstd',
      compression_level: 1,
      subsampling_factor: 2,
      throttle_ms: 40,
    });
    expect(param('binary', 'compression')).to.equal('zstd');
    expect(param('binary', 'compression_level')).to.equal(1);
    expect(param('binary', 'subsampling_factor')).to.equal(2);
  });

  it('startLiveView again: already_running, with the new params applied (liveview keeps one stream)', async () => {
    await lv('startLiveView', { method: 'POST', query: { protocol: 'jpeg' }, body: null });
    const again = json(
      await lv('startLiveView', {
        method: 'POST',
        query: { protocol: 'jpeg' },
        body: { jpeg_quality: 42 },
      }),
    );
    expect(again).to.include({ status: 'already_running', detector: 'Camera', protocol: 'jpeg' });
    expect(again.message).to.be.a('string');
    expect(param('mjpeg', 'jpeg_quality')).to.equal(42);
    expect(json(await lv('getActiveStreams')).active_streams).to.have.length(1);
  });

  it('a second protocol of the same detector runs beside the first (liveview), both listed', async () => {
    await lv('startLiveView', { method: 'POST', query: { protocol: 'jpeg' }, body: null });
    const b = json(
      await lv('startLiveView', { method: 'POST', query: { protocol: 'binary' }, body: null }),
    );
    expect(b.status).to.equal('success');
    expect(json(await lv('getActiveStreams')).active_streams).to.deep.equal([
      { detector: 'Camera', protocol: 'jpeg' },
      { detector: 'Camera', protocol: 'binary' },
    ]);
    const stopped = json(await lv('stopLiveView'));
    expect(stopped).to.deep.equal({
      status: 'success',
      detector: 'Camera',
      protocol: 'jpeg',
      protocols: ['jpeg', 'binary'],
    });
  });

  it('stopLiveView (GET, no detector) stops the first active stream; then not_running; acquisition stops', async () => {
    await lv('startLiveView', {
      method: 'POST',
      query: { detectorName: 'Side', protocol: 'binary' },
      body: null,
    });
    expect(json(await lv('stopLiveView'))).to.include({ status: 'success', detector: 'Side' });
    expect(json(await lv('stopLiveView'))).to.include({ status: 'not_running' });
    expect(json(await lv('stopLiveView', { query: { detectorName: 'Camera' } }))).to.deep.include({
      status: 'not_running',
      detector: 'Camera',
    });
    expect((await lv('getLiveViewActive')).json).to.equal(false);
    // Nobody watches: the on-demand liveview stream stops after its grace period.
    await waitFor(() => server.controller.getActiveStreams().length === 0);
    await waitFor(() => server.controller.detectors.source('Side').status !== 'running');
  });

  it('long exposure: getLongExposureInfo says so, startLiveView refuses without force, starts with force=true', async () => {
    await server.controller.detectors.detector('Camera').setParameters({ exposure_ms: 2500 });
    const info = json(await lv('getLongExposureInfo', { query: { detectorName: 'Camera' } }));
    expect(info).to.include({ exposureMs: 2500, thresholdMs: 2000, isLongExposure: true });
    const refused = json(
      await lv('startLiveView', {
        method: 'POST',
        query: { detectorName: 'Camera', protocol: 'jpeg' },
        body: null,
      }),
    );
    expect(refused).to.include({
      status: 'long_exposure',
      detector: 'Camera',
      protocol: 'jpeg',
      exposureMs: 2500,
      thresholdMs: 2000,
    });
    expect(refused.message).to.include('force=true');
    expect((await lv('getLiveViewActive')).json).to.equal(false);
    expect(stream('mjpeg'), 'nothing started').to.equal(undefined);
    const forced = json(
      await lv('startLiveView', {
        method: 'POST',
        query: { detectorName: 'Camera', protocol: 'jpeg', force: true },
        body: null,
      }),
    );
    expect(forced.status).to.equal('success');
  });

  it('StreamControlOverlay: getStreamParameters(), setStreamParameters(format, params), per-detector save', async () => {
    await lv('startLiveView', { method: 'POST', query: { protocol: 'jpeg' }, body: null });
    const all = json(await lv('getStreamParameters'));
    expect(all).to.include({
      status: 'success',
      current_protocol: 'jpeg',
      total_active_streams: 1,
    });
    expect(all.current_active_protocols).to.deep.equal({ Camera: 'jpeg' });
    const protocols = all.protocols as Record<string, Json>;
    expect(Object.keys(protocols)).to.have.members(['binary', 'jpeg', 'mjpeg', 'webrtc']);
    expect(protocols.jpeg).to.include({ is_active: true, jpeg_quality: 80 });
    expect(protocols.jpeg.active_detectors).to.deep.equal(['Camera']);
    expect(protocols.binary).to.include({ is_active: false, compression_algorithm: 'lz4' });
    expect(all.per_detector).to.have.property('Camera');

    // The overlay's submit: protocol defaults (live), then the detector's saved params.
    const params = { jpeg_quality: 60, subsampling_factor: 2, throttle_ms: 100, crop_size: 0 };
    const set = json(
      await lv('setStreamParameters', {
        method: 'POST',
        query: { protocol: 'jpeg' },
        body: params,
      }),
    );
    expect(set).to.include({ status: 'success', protocol: 'jpeg' });
    expect(set.updated_detectors).to.deep.equal(['Camera']);
    expect(set.params).to.include({ jpeg_quality: 60, subsampling_factor: 2, throttle_ms: 100 });
    expect(param('mjpeg', 'jpeg_quality'), 'applied live').to.equal(60);
    expect(param('mjpeg', 'subsampling_factor')).to.equal(2);

    const saved = json(
      await lv('setDetectorStreamParameters', {
        method: 'POST',
        query: { detectorName: 'Camera' },
        body: { protocol: 'jpeg', ...params, jpeg_quality: 55 },
      }),
    );
    expect(saved).to.include({
      status: 'success',
      detector: 'Camera',
      restarted: false,
      updated_live: true,
    });
    expect(saved.params).to.include({ protocol: 'jpeg', jpeg_quality: 55 });
    expect(param('mjpeg', 'jpeg_quality')).to.equal(55);

    const one = json(await lv('getStreamParameters', { query: { protocol: 'jpeg' } }));
    expect(one).to.include({ status: 'success', protocol: 'jpeg', is_active: true });
    expect(one.active_detectors).to.deep.equal(['Camera']);
    expect(one.params).to.include({ jpeg_quality: 60 });
    const perDetector = json(await lv('getStreamParameters')).per_detector as Record<string, Json>;
    expect(perDetector.Camera).to.include({ protocol: 'jpeg', jpeg_quality: 55 });
  });

  it("LiveView's restart with the detector's saved params: the web app sends back what it got", async () => {
    const first = json(
      await lv('startLiveView', {
        method: 'POST',
        query: { detectorName: 'Camera', protocol: 'binary' },
        body: { subsampling_factor: 4, compression_algorithm: 'lz4', compression_level: 0 },
      }),
    );
    expect(json(await lv('stopLiveView')).status).to.equal('success');
    await waitFor(() => stream('binary') === undefined);
    // Without params the detector's saved ones apply (same protocol), as in ImSwitch.
    const plain = json(
      await lv('startLiveView', { method: 'POST', query: { protocol: 'binary' }, body: null }),
    );
    expect(plain.params).to.include({ subsampling_factor: 4 });
    await lv('stopLiveView');
    // The full to_dict() the web app keeps in Redux, sent back as the body.
    const again = json(
      await lv('startLiveView', {
        method: 'POST',
        query: { detectorName: 'Camera', protocol: 'binary' },
        body: first.params,
      }),
    );
    expect(again.status).to.equal('success');
    expect(param('binary', 'subsampling_factor')).to.equal(4);
  });

  it('mjpeg_stream?startStream=true&detectorName=…&t=… plays JPEGs of the right size; stopLiveView ends it', async () => {
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(
      `${base}/imswitch/api/LiveViewController/mjpeg_stream?startStream=true&detectorName=Camera&t=3`,
    );
    expect(reader.status).to.equal(200);
    expect(reader.contentType).to.match(/^multipart\/x-mixed-replace; ?boundary=/);
    await reader.waitForParts(3);
    for (const part of reader.parts.slice(0, 3)) {
      const img = await decodeJpeg(part.body);
      expect([img.width, img.height]).to.deep.equal([320, 240]);
    }
    expect(json(await lv('getActiveStreams')).active_streams).to.deep.equal([
      { detector: 'Camera', protocol: 'mjpeg' },
    ]);
    await lv('stopLiveView', { query: { detectorName: 'Camera' } });
    await waitFor(() => reader.ended);
  });

  it('mjpeg_stream?startStream=false stops the stream; RecordingController/video_feeder streams too', async () => {
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(`${base}/imswitch/api/RecordingController/video_feeder?startStream=true`);
    expect(reader.contentType).to.match(/^multipart\/x-mixed-replace/);
    await reader.waitForParts(2);
    const stop = json(await lv('mjpeg_stream', { query: { startStream: false } }));
    expect(stop).to.deep.equal({ status: 'success', message: 'stream stopped' });
    await waitFor(() => reader.ended);
    expect((await lv('getLiveViewActive')).json).to.equal(false);
  });

  it('mjpeg_stream at a long exposure answers long_exposure as JSON, as ImSwitch', async () => {
    await server.controller.detectors.detector('Camera').setParameters({ exposure_ms: 3000 });
    const a = json(await lv('mjpeg_stream', { query: { startStream: true } }));
    expect(a.status).to.equal('long_exposure');
  });

  describe('bad requests get the JSON error and change nothing', () => {
    it('an unknown protocol → 400 naming the known ones', async () => {
      error(
        await lv('startLiveView', { method: 'POST', query: { protocol: 'h265' } }),
        400,
        'binary, jpeg, mjpeg, webrtc',
      );
      expect((await lv('getLiveViewActive')).json).to.equal(false);
    });
    it('an unknown detector → 404', async () => {
      error(
        await lv('startLiveView', {
          method: 'POST',
          query: { detectorName: 'Nope', protocol: 'jpeg' },
        }),
        404,
        "unknown detector 'Nope'",
      );
      error(await lv('getLongExposureInfo', { query: { detectorName: 'Nope' } }), 404, 'Nope');
    });
    it('crop_size other than 0 → 400 saying what to use instead', async () => {
      error(
        await lv('startLiveView', {
          method: 'POST',
          query: { protocol: 'jpeg' },
          body: { crop_size: 512 },
        }),
        400,
        'region of interest',
      );
      expect(stream('mjpeg')).to.equal(undefined);
    });
    it('a wrong value or an unknown key → 400 naming it', async () => {
      error(
        await lv('setStreamParameters', {
          method: 'POST',
          query: { protocol: 'jpeg' },
          body: { jpeg_quality: 0 },
        }),
        400,
        'jpeg_quality',
      );
      error(
        await lv('setStreamParameters', {
          method: 'POST',
          query: { protocol: 'jpeg' },
          body: { quality: 5 },
        }),
        400,
        'quality: unknown key',
      );
      error(await lv('setStreamParameters', { method: 'POST', body: {} }), 400, 'protocol');
      error(
        await lv('setDetectorStreamParameters', { method: 'POST', body: {} }),
        400,
        'detectorName',
      );
      error(
        await lv('startLiveView', { method: 'POST', query: { protocol: 'jpeg', force: 'maybe' } }),
        400,
        'force',
      );
    });
    it('a body that is no JSON object → 400/415', async () => {
      const res = await fetch(
        `${base}/imswitch/api/LiveViewController/startLiveView?protocol=jpeg`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'text/plain' },
          body: 'jpeg_quality=5',
        },
      );
      expect(res.status).to.equal(415);
      error(
        await lv('startLiveView', { method: 'POST', query: { protocol: 'jpeg' }, body: [1, 2] }),
        400,
        'JSON object',
      );
    });
    it('a literal null body means no params', async () => {
      const res = await fetch(
        `${base}/imswitch/api/LiveViewController/startLiveView?protocol=jpeg`,
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: 'null',
        },
      );
      expect(res.status).to.equal(200);
      expect(((await res.json()) as Json).status).to.equal('success');
    });
    it('a Socket.IO polling request → 400 saying to use the websocket transport', async () => {
      const res = await fetch(`${base}/imswitch/socket.io/?EIO=4&transport=polling`);
      expect(res.status).to.equal(400);
      expect(((await res.json()) as Json).message).to.include("transports: ['websocket']");
    });
  });
});

describe('ImSwitch API off (compat.imswitch: false)', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  before(async () => {
    server = await startTestServer(`${YAML}\ncompat: { imswitch: false }\n`);
  });
  after(async () => {
    await server?.stop();
  });
  it('serves neither the REST routes nor the Socket.IO path', async () => {
    const a = await imswitchCall(server.url, '/LiveViewController/getLiveViewActive');
    expect(a.status).to.equal(404);
    const res = await fetch(`${server.url}/imswitch/socket.io/?EIO=4&transport=polling`);
    expect(res.status).to.equal(404);
  });
});

describe("ImSwitch API requests count in liveview's rate limits", function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  before(async () => {
    server = await startTestServer(`${YAML}
server:
  rate_limits: { control: { max: 2, window_s: 60 }, signaling: { max: 1, window_s: 60 } }
`);
  });
  after(async () => {
    await server?.stop();
  });
  it('stopLiveView (a GET that changes state) is a control request; reads are not limited', async () => {
    const stop = () => imswitchCall(server.url, '/LiveViewController/stopLiveView');
    expect((await stop()).status).to.equal(200);
    expect((await stop()).status).to.equal(200);
    const third = await stop();
    expect(third.status).to.equal(429);
    expect((third.json as Json).message).to.include('server.rate_limits.control');
    for (let i = 0; i < 3; i++)
      expect(
        (await imswitchCall(server.url, '/LiveViewController/getActiveStreams')).status,
      ).to.equal(200);
  });
  it('webrtc_offer is a signaling request', async () => {
    const offer = () =>
      imswitchCall(server.url, '/LiveViewController/webrtc_offer', {
        method: 'POST',
        body: { sdp: 'x' },
      });
    expect((await offer()).status).to.equal(400);
    expect((await offer()).status).to.equal(429);
  });
});
