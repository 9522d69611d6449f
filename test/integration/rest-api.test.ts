import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { getJson, postJson, startTestServer } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
  Second:
    type: mock
    options: { width: 160, height: 120, fps: 20, dtype: uint8, bit_depth: 8 }
protocols:
  mjpeg: { jpeg_quality: 70 }
`;

interface Stream {
  detectorName: string;
  protocol: string;
  params: Record<string, unknown>;
  clientCount: number;
  framesSent: number;
  framesDropped: number;
  fps: number;
  startedAt: string;
  url: string;
}

describe('REST liveview API', function () {
  let server: LiveViewServer;
  let base: string;

  const streams = async (): Promise<Stream[]> =>
    (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as Stream[];

  before(async () => {
    server = await startTestServer(YAML);
    base = server.url;
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const detectorName of ['Camera', 'Second']) {
      await postJson(`${base}/liveview/stopLiveView`, { detectorName });
    }
  });

  it('GET /health answers ok with detector states', async () => {
    const { status, json } = await getJson(`${base}/health`);
    expect(status).to.equal(200);
    expect(json.status).to.equal('ok');
    expect(json.detectors).to.have.keys('Camera', 'Second');
  });

  it('GET /liveview/detectors lists names, types, info and parameters', async () => {
    const { status, json } = await getJson(`${base}/liveview/detectors`);
    expect(status).to.equal(200);
    expect(json.defaultDetector).to.equal('Camera');
    const detectors = json.detectors as {
      name: string;
      type: string;
      info: { sensorWidth: number };
      parameters: Record<string, unknown>;
    }[];
    expect(detectors.map((d) => d.name)).to.deep.equal(['Camera', 'Second']);
    expect(detectors[0].type).to.equal('mock');
    expect(detectors[0].info.sensorWidth).to.equal(320);
    expect(detectors[0].parameters).to.include.keys('exposure_ms', 'gain');
  });

  it('startLiveView defaults to the first detector and answers the client url', async () => {
    const { status, json } = await postJson(`${base}/liveview/startLiveView`, {
      protocol: 'mjpeg',
    });
    expect(status).to.equal(200);
    expect(json).to.include({
      status: 'success',
      detectorName: 'Camera',
      protocol: 'mjpeg',
      url: '/liveview/mjpeg?detectorName=Camera',
    });
    expect(json.params).to.include({ jpeg_quality: 70, throttle_ms: 50 });
    const list = await streams();
    expect(list).to.have.length(1);
    expect(list[0]).to.include({ detectorName: 'Camera', protocol: 'mjpeg', clientCount: 0 });
    expect(Date.parse(list[0].startedAt)).to.be.closeTo(Date.now(), 10_000);
  });

  it('starting a running stream again is not an error and applies new params', async () => {
    await postJson(`${base}/liveview/startLiveView`, { detectorName: 'Second', protocol: 'mjpeg' });
    const again = await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Second',
      protocol: 'mjpeg',
      params: { jpeg_quality: 40 },
    });
    expect(again.status).to.equal(200);
    expect(again.json.params).to.include({ jpeg_quality: 40 });
    expect(await streams()).to.have.length(1);
  });

  it('stopLiveView without protocol stops every stream of the detector', async () => {
    await postJson(`${base}/liveview/startLiveView`, { detectorName: 'Second', protocol: 'mjpeg' });
    const { status, json } = await postJson(`${base}/liveview/stopLiveView`, {
      detectorName: 'Second',
    });
    expect(status).to.equal(200);
    expect(json).to.deep.equal({ status: 'success', detectorName: 'Second', stopped: ['mjpeg'] });
    expect(await streams()).to.have.length(0);
  });

  it('setStreamParams changes the defaults and the running streams of that protocol', async () => {
    await postJson(`${base}/liveview/startLiveView`, { detectorName: 'Camera', protocol: 'mjpeg' });
    const set = await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'mjpeg',
      params: { jpeg_quality: 55, max_width: 100 },
    });
    expect(set.status).to.equal(200);
    expect(set.json.params).to.include({ jpeg_quality: 55, max_width: 100, throttle_ms: 50 });
    const got = await getJson(`${base}/liveview/getStreamParams?protocol=mjpeg`);
    expect(got.json.params).to.include({ jpeg_quality: 55, max_width: 100 });
    expect((await streams())[0].params).to.include({ jpeg_quality: 55, max_width: 100 });
    await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'mjpeg',
      params: { jpeg_quality: 70, max_width: 0 },
    });
  });

  it('POST /liveview/detectors/{name}/parameters sets detector parameters', async () => {
    const { status, json } = await postJson(`${base}/liveview/detectors/Camera/parameters`, {
      exposure_ms: 20,
      gain: 2,
    });
    expect(status).to.equal(200);
    expect(json.parameters).to.include({ exposure_ms: 20, gain: 2 });
    const listed = await getJson(`${base}/liveview/detectors/Camera`);
    expect((listed.json.detector as { parameters: object }).parameters).to.include({
      exposure_ms: 20,
    });
  });

  describe('errors: a 4xx with a clear message, and the server keeps serving', () => {
    const cases: {
      name: string;
      path: string;
      body: unknown;
      raw?: boolean;
      status: number;
      message: string | RegExp;
    }[] = [
      {
        name: 'bad JSON',
        path: '/liveview/startLiveView',
        body: '{"protocol": "mjpeg",',
        raw: true,
        status: 400,
        message: /^invalid JSON in request body: /,
      },
      {
        name: 'a __proto__ key in params (dropped silently before)',
        path: '/liveview/startLiveView',
        body: '{"protocol": "mjpeg", "params": {"__proto__": {"jpeg_quality": 5}}}',
        raw: true,
        status: 400,
        message: 'params.__proto__: this key name is not allowed',
      },
      {
        name: 'a constructor key in params (a 500 before)',
        path: '/liveview/setStreamParams',
        body: { protocol: 'mjpeg', params: { constructor: { x: 1 } } },
        status: 400,
        message: 'params.constructor: this key name is not allowed',
      },
      {
        name: 'a JSON array as body',
        path: '/liveview/startLiveView',
        body: [1, 2],
        status: 400,
        message: 'request body: must be a JSON object',
      },
      {
        name: 'missing protocol',
        path: '/liveview/startLiveView',
        body: {},
        status: 400,
        message: 'protocol: must be a non-empty string',
      },
      {
        name: 'unknown protocol',
        path: '/liveview/startLiveView',
        body: { protocol: 'rtsp' },
        status: 400,
        message: "unknown protocol 'rtsp' (known protocols: binary, mjpeg, webrtc)",
      },
      {
        name: 'unknown detector',
        path: '/liveview/startLiveView',
        body: { detectorName: 'Nope', protocol: 'mjpeg' },
        status: 404,
        message: "unknown detector 'Nope' (known detectors: Camera, Second)",
      },
      {
        name: 'bad params value',
        path: '/liveview/startLiveView',
        body: { protocol: 'mjpeg', params: { jpeg_quality: 101 } },
        status: 400,
        message: 'params.jpeg_quality: must be an integer between 1 and 100',
      },
      {
        name: 'unknown param',
        path: '/liveview/startLiveView',
        body: { protocol: 'mjpeg', params: { quality: 5 } },
        status: 400,
        message: /^params\.quality: unknown key \(known keys: .*jpeg_quality/,
      },
      {
        name: 'fixed normalization without a window',
        path: '/liveview/setStreamParams',
        body: { protocol: 'mjpeg', params: { normalization: 'fixed' } },
        status: 400,
        message: 'params.norm_min: must be a number; params.norm_max: must be a number',
      },
      {
        name: 'unknown key in the body',
        path: '/liveview/startLiveView',
        body: { protocol: 'mjpeg', detector: 'Camera' },
        status: 400,
        message: 'detector: unknown key (known keys: detectorName, protocol, params)',
      },
      {
        name: 'stop on an unknown detector',
        path: '/liveview/stopLiveView',
        body: { detectorName: 'Nope' },
        status: 404,
        message: "unknown detector 'Nope' (known detectors: Camera, Second)",
      },
      {
        name: 'detector parameter out of range',
        path: '/liveview/detectors/Camera/parameters',
        body: { gain: 1000 },
        status: 400,
        message: /^parameter 'gain' must be a number between /,
      },
      {
        name: 'unknown detector parameter',
        path: '/liveview/detectors/Camera/parameters',
        body: { shutter: 1 },
        status: 400,
        message: /^unknown parameter 'shutter' for detector 'Camera' \(known: /,
      },
      {
        name: 'parameters of an unknown detector',
        path: '/liveview/detectors/Nope/parameters',
        body: { gain: 1 },
        status: 404,
        message: "unknown detector 'Nope' (known detectors: Camera, Second)",
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const { status, json } = await postJson(`${base}${c.path}`, c.body, c.raw);
        expect(status).to.equal(c.status);
        expect(json.status).to.equal('error');
        if (typeof c.message === 'string') expect(json.message).to.equal(c.message);
        else expect(json.message).to.match(c.message);
        const health = await getJson(`${base}/health`);
        expect(health.status).to.equal(200);
      });
    }

    it('getStreamParams without protocol', async () => {
      const { status, json } = await getJson(`${base}/liveview/getStreamParams`);
      expect(status).to.equal(400);
      expect(json.message).to.equal(
        "query parameter 'protocol' is required (known protocols: binary, mjpeg, webrtc)",
      );
    });

    it('an unknown endpoint is a JSON 404', async () => {
      const { status, json } = await getJson(`${base}/liveview/nothing`);
      expect(status).to.equal(404);
      expect(json).to.deep.equal({
        status: 'error',
        message: 'no such endpoint: GET /liveview/nothing',
      });
    });

    it('a bad request leaves a running stream untouched', async () => {
      await postJson(`${base}/liveview/startLiveView`, { protocol: 'mjpeg' });
      const before = (await streams())[0].params;
      await postJson(`${base}/liveview/setStreamParams`, {
        protocol: 'mjpeg',
        params: { jpeg_quality: 0 },
      });
      expect((await streams())[0].params).to.deep.equal(before);
    });
  });
});
