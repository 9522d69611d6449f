import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import type { LiveViewServer } from '../../src/api/server.js';
import { discoverDevices } from '../../src/plugins/genicam/discovery.js';
import { GenicamDetector } from '../../src/plugins/genicam/genicam-detector.js';
import { parseGenicamOptions } from '../../src/plugins/genicam/options.js';
import { arvToolControl, FakeGvCamera, missingAravis } from '../helpers/fake-gv-camera.js';
import { LossyLink } from '../helpers/lossy-link.js';
import { captureFrames } from '../helpers/frames.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));

function detector(options: Record<string, unknown> = {}): GenicamDetector {
  return new GenicamDetector(
    'Gige',
    parseGenicamOptions({ address: '127.0.0.1', ...options }, 'detectors.Gige.options'),
    createLogger('silent'),
  );
}

const capture = (d: GenicamDetector, count: number, timeoutMs = 30_000): Promise<Frame[]> =>
  captureFrames(d, count, timeoutMs);

function runCli(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout }));
  });
}

describe('GenICam detector against Aravis fake GigE Vision camera', function () {
  this.timeout(60_000);
  let camera: FakeGvCamera | undefined;
  const detectors: GenicamDetector[] = [];
  const open = (options: Record<string, unknown> = {}) => {
    const d = detector(options);
    detectors.push(d);
    return d;
  };

  before(function () {
    const missing = missingAravis();
    if (missing) {
      // On CI the fake camera must run: a missing package is a failure there, not a skip.
      if (process.env.CI) throw new Error(`cannot run the GenICam tests: ${missing}`);
      this.skip();
    }
  });

  beforeEach(async () => {
    camera = new FakeGvCamera();
    await camera.start();
  });

  afterEach(async () => {
    for (const d of detectors.splice(0)) await d.close();
    await camera?.kill();
  });

  it('discovery finds it by broadcast on loopback and by unicast, with its identity', async () => {
    for (const found of [
      await discoverDevices({ interfaces: ['lo'], timeoutMs: 300 }),
      await discoverDevices({ interfaces: [], addresses: ['127.0.0.1'], timeoutMs: 300 }),
    ]) {
      expect(found).to.have.length(1);
      expect(found[0]).to.include({
        vendor: 'Aravis',
        model: 'Fake',
        serial: 'GV01',
        ip: '127.0.0.1',
      });
      expect(found[0]!.mac).to.match(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    }
    const cli = await runCli(['discover', '--interface', 'lo', '--timeout', '300']);
    expect(cli.code).to.equal(0);
    expect(cli.stdout).to.match(/^127\.0\.0\.1: Aravis Fake serial GV01 mac [0-9a-f:]+ version/m);
  });

  it('reads Width, Height and PixelFormat as arv-tool reports them; sets and reads back', async () => {
    const d = open();
    const aravis = await arvToolControl('Width', 'Height', 'PixelFormat');
    const width = await d.getFeature('Width');
    expect(width).to.include({ type: 'Integer', access: 'RW', value: Number(aravis.Width) });
    expect(width.max).to.equal(2048);
    expect((await d.getFeature('Height')).value).to.equal(Number(aravis.Height));
    expect((await d.getFeature('PixelFormat')).value).to.equal(aravis.PixelFormat);

    const set = await d.setParameters({ Width: 320, Height: 240, ExposureTime: 5000 });
    expect(set).to.include({ Width: 320, Height: 240, ExposureTime: 5000 });
    expect(await arvToolControl('Width', 'Height', 'ExposureTimeAbs')).to.deep.equal({
      Width: '320',
      Height: '240',
      ExposureTimeAbs: '5000',
    });
    const specs = Object.fromEntries(d.getParameterSpecs().map((s) => [s.name, s]));
    expect(specs.Width).to.include({ type: 'integer', min: 1, max: 2048 });
    expect(specs.PixelFormat!.values).to.include.members(['Mono8', 'Mono16', 'RGB8', 'BayerRG8']);
    expect(specs.ExposureTime!.description).to.contain('ExposureTimeAbs');
    // The control privilege is given back when idle: Aravis can take it.
    expect(d.getParameters()).to.include({ Width: 320 });
  });

  it('streams 200 frames with none incomplete, at the size and format asked', async () => {
    const d = open({ features: { AcquisitionFrameRate: 200, Width: 256, Height: 128 } });
    await d.start();
    const frames = await capture(d, 200);
    for (const f of frames)
      expect(f).to.include({ width: 256, height: 128, dtype: 'uint8', channels: 1 });
    for (let i = 1; i < frames.length; i++)
      expect(frames[i]!.frameNumber).to.equal(frames[i - 1]!.frameNumber + 1);
    const stream = d.info.stream as { completed: number; incomplete: number };
    expect(stream.incomplete).to.equal(0);
    expect(stream.completed).to.be.at.least(200);
    // The fake camera draws a moving diagonal pattern.
    expect(
      Buffer.compare(Buffer.from(frames[0]!.data.buffer), Buffer.from(frames[1]!.data.buffer)),
    ).to.not.equal(0);
  });

  it('Mono16 arrives as uint16 frames; a format change while streaming restarts the stream', async () => {
    const d = open({ features: { AcquisitionFrameRate: 100, Width: 64, Height: 32 } });
    await d.start();
    expect((await capture(d, 3))[0]).to.include({ dtype: 'uint8', pixelFormat: 'Mono8' });
    await d.setParameters({ PixelFormat: 'Mono16' });
    const frames = await capture(d, 3);
    expect(frames[2]).to.include({ dtype: 'uint16', bitDepth: 16, width: 64, height: 32 });
    expect(d.state).to.equal('running');
  });

  it('explains unknown, read-only and out-of-range features', async () => {
    const d = open();
    await expectRejection(
      d.getFeature('NoSuchFeature'),
      'NotFoundError',
      /no feature 'NoSuchFeature'/,
    );
    await expectRejection(d.setFeature('SensorWidth', 100), 'ConflictError', /SensorWidth/);
    await expectRejection(d.setFeature('Width', 99_999), 'BadRequestError', /Width.*2048/);
    await expectRejection(d.setParameters({ Width: 99_999 }), 'BadRequestError', /Width.*2048/);
  });

  it('with 1 % of packets lost (fake camera -r 10), incomplete frames are asked for, counted and dropped', async () => {
    await camera!.kill();
    camera = new FakeGvCamera(10);
    await camera.start();
    const d = open({ features: { AcquisitionFrameRate: 200, Width: 512, Height: 512 } });
    await d.start();
    // Aravis's fake camera ignores PACKETRESEND: most 512x512 frames (about 190 packets) lose one.
    const frames = await capture(d, 20);
    for (const f of frames) expect(f.data).to.have.length(512 * 512);
    await waitFor(() => (d.info.stream as { incomplete: number }).incomplete >= 20, 10_000);
    const stream = d.info.stream as {
      completed: number;
      incomplete: number;
      resendRequested: number;
    };
    expect(stream.resendRequested, 'packets were asked for again').to.be.greaterThan(0);
  });

  it('with 1 % of packets lost by a resend-capable link, at least 99 % of frames complete', async () => {
    const link = new LossyLink(0.01);
    await link.open();
    try {
      const d = open({
        control_port: link.controlPort,
        // The link relays in this process: a rate it can relay without losses of its own.
        features: { AcquisitionFrameRate: 50, Width: 512, Height: 512 },
      });
      await d.start();
      const frames = await capture(d, 200);
      for (const f of frames) expect(f.data).to.have.length(512 * 512);
      const stream = d.info.stream as {
        completed: number;
        incomplete: number;
        resentReceived: number;
      };
      expect(link.dropped, 'the link lost packets').to.be.greaterThan(100);
      expect(stream.resentReceived, 'lost packets came back').to.be.greaterThan(100);
      expect(stream.completed / (stream.completed + stream.incomplete)).to.be.at.least(0.99);
      await d.close();
    } finally {
      link.close();
    }
  });

  describe('through the server', () => {
    let server: LiveViewServer;
    const readers: MultipartReader[] = [];
    beforeEach(async () => {
      server = await startTestServer(`
detectors:
  Gige:
    type: genicam
    options: { address: 127.0.0.1, reconnect_ms: 300, heartbeat_ms: 300, gvcp_timeout_ms: 100, features: { AcquisitionFrameRate: 50, Width: 320, Height: 240 } }
`);
    });
    afterEach(async () => {
      for (const r of readers.splice(0)) r.close();
      await server.stop();
    });

    it('lists the camera, serves its features over REST and streams it as MJPEG', async () => {
      const list = (await getJson(`${server.url}/liveview/detectors`)).json;
      expect((list.available as Record<string, unknown[]>).genicam![0]).to.include({
        serial: 'GV01',
        ip: '127.0.0.1',
      });
      const feature = await getJson(`${server.url}/liveview/detectors/Gige/features/Width`);
      expect(feature.status).to.equal(200);
      expect(feature.json.feature).to.include({ name: 'Width', type: 'Integer', access: 'RW' });
      const put = await fetch(`${server.url}/liveview/detectors/Gige/features/Height`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ value: 200 }),
      });
      expect(put.status).to.equal(200);
      expect(((await put.json()) as { feature: { value: number } }).feature.value).to.equal(200);
      const bad = await postJson(`${server.url}/liveview/detectors/Gige/features/Width`, {
        value: 5000,
      });
      expect(bad.status).to.equal(400);
      expect(bad.json.message).to.match(/Width/);
      const missing = await getJson(`${server.url}/liveview/detectors/Gige/features/Nope`);
      expect(missing.status).to.equal(404);

      const reader = new MultipartReader();
      readers.push(reader);
      await reader.connect(`${server.url}/liveview/mjpeg?detectorName=Gige`);
      await reader.waitForParts(5, 10_000);
      expect(reader.parts[0]!.headers['content-type']).to.equal('image/jpeg');
    });

    it('a camera that vanishes sets the stream to error; it recovers when the camera is back', async () => {
      const start = await postJson(`${server.url}/liveview/startLiveView`, {
        detectorName: 'Gige',
        protocol: 'binary',
      });
      expect(start.status).to.equal(200);
      const state = async () => {
        const streams = (await getJson(`${server.url}/liveview/getActiveStreams`)).json.streams as {
          detectorName: string;
          state?: string;
          detectorState?: string;
          error?: string;
        }[];
        return streams.find((s) => s.detectorName === 'Gige');
      };
      const detectorState = async () =>
        (await getJson(`${server.url}/liveview/detectors/Gige`)).json.detector as {
          state: string;
          error?: string;
        };
      await waitFor(async () => (await detectorState()).state === 'running', 5000);
      await camera!.kill();
      await waitFor(async () => (await detectorState()).state === 'error', 10_000);
      expect((await detectorState()).error).to.match(/stopped answering/);
      expect(await state()).to.include({ state: 'error' });
      expect((await state())!.error).to.match(/stopped answering/);
      camera = new FakeGvCamera();
      await camera.start();
      await waitFor(async () => (await detectorState()).state === 'running', 15_000);
      await waitFor(async () => (await state())?.state === 'running', 5000);
      const before =
        server.controller.detectors.detector('Gige').getLatestFrame()?.frameNumber ?? -1;
      await waitFor(
        () =>
          (server.controller.detectors.detector('Gige').getLatestFrame()?.frameNumber ?? -1) >
          before + 3,
        10_000,
      );
    });
  });
});

async function expectRejection(p: Promise<unknown>, name: string, message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    expect((err as Error).constructor.name).to.equal(name);
    expect((err as Error).message).to.match(message);
    return;
  }
  expect.fail(`expected a ${name}`);
}
