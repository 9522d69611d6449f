// Runs inside the QEMU VM (test/vm/vivid-vm.sh) against the kernel's vivid driver: a real V4L2
// device. test/e2e/v4l2.e2e.test.ts starts it; it is not part of the host's mocha run.
import { expect } from 'chai';
import type { Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import { startServer, type LiveViewServer } from '../../src/api/server.js';
import { V4l2DetectorProvider, listDevices } from '../../src/plugins/v4l2/index.js';
import type { V4l2Detector } from '../../src/plugins/v4l2/v4l2-detector.js';
import { captureFrames } from '../helpers/frames.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { decodeJpeg } from '../helpers/jpeg.js';

const provider = new V4l2DetectorProvider();
const detectors: V4l2Detector[] = [];

function detector(options: Record<string, unknown>): V4l2Detector {
  const d = provider.create('Cam', provider.parseOptions(options, 'options'), {
    logger: createLogger('silent'),
    configDir: '.',
  }) as V4l2Detector;
  detectors.push(d);
  return d;
}

const capture = (d: V4l2Detector, count: number, timeoutMs = 20_000): Promise<Frame[]> =>
  captureFrames(d, count, timeoutMs);

function mean(f: Frame): number {
  let sum = 0;
  for (let i = 0; i < f.data.length; i++) sum += f.data[i];
  return sum / f.data.length;
}

function differ(a: Frame, b: Frame): boolean {
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return true;
  return false;
}

describe('V4L2 detector against vivid (in the VM)', function () {
  this.timeout(120_000);

  afterEach(async () => {
    for (const d of detectors.splice(0)) await d.close();
  });

  it('lists /dev/video0 with its formats, sizes and rates', () => {
    const devices = listDevices();
    const video0 = devices.find((d) => d.path === '/dev/video0');
    expect(video0?.capabilities?.driver).to.equal('vivid');
    const yuyv = video0!.formats!.find((f) => f.fourcc === 'YUYV')!;
    expect(yuyv.sizes.map((s) => `${s.width}x${s.height}`)).to.include.members([
      '320x180',
      '640x360',
      '1280x720',
    ]);
    expect(yuyv.sizes[0].fps).to.include(30);
  });

  for (const [width, height] of [
    [320, 180],
    [640, 360],
  ]) {
    it(`captures YUYV at ${width}x${height}: right size, changing content, increasing sequence`, async () => {
      const d = detector({ pixel_format: 'YUYV', width, height, fps: 30 });
      await d.start();
      const frames = await capture(d, 10);
      for (const f of frames) expect(f).to.include({ width, height, channels: 3, dtype: 'uint8' });
      expect(frames[0].data).to.have.length(width * height * 3);
      const seq = frames.map((f) => f.frameNumber);
      for (let i = 1; i < seq.length; i++) expect(seq[i]).to.be.greaterThan(seq[i - 1]);
      const driverSeq = frames.map((f) => f.metadata.sequence as number);
      for (let i = 1; i < driverSeq.length; i++)
        expect(driverSeq[i]).to.be.at.least(driverSeq[i - 1]);
      expect(driverSeq[9]).to.be.greaterThan(driverSeq[0]);
      expect(differ(frames[0], frames[9]), 'the picture moves').to.equal(true);
      const now = Date.now();
      expect(Number(frames[9].timestamp / 1_000_000n)).to.be.within(now - 5000, now + 1000);
      expect(d.getParameters()).to.include({ pixel_format: 'YUYV', width, height });
    });
  }

  it('captures GREY and Y16 (uint16 frames), and NV12 as gray', async () => {
    const grey = detector({ pixel_format: 'GREY', width: 640, height: 360 });
    await grey.start();
    const g = await capture(grey, 3);
    expect(g[0]).to.include({ channels: 1, dtype: 'uint8', width: 640, height: 360 });
    await grey.close();
    const y16 = detector({ pixel_format: 'Y16', width: 320, height: 180 });
    await y16.start();
    const y = await capture(y16, 3);
    expect(y[0]).to.include({ channels: 1, dtype: 'uint16', bitDepth: 16, pixelFormat: 'Mono16' });
    expect(Math.max(...y[0].data)).to.be.greaterThan(255);
    await y16.close();
    const nv12 = detector({ pixel_format: 'NV12', width: 320, height: 180, color: 'gray' });
    await nv12.start();
    expect((await capture(nv12, 3))[0]).to.include({ channels: 1, width: 320 });
  });

  it('a control set as a parameter changes the pixels', async () => {
    // A still picture without text, so that only the brightness changes the pixels.
    const still = {
      test_pattern: '100% Colorbar',
      osd_text_mode: 'None',
      horizontal_movement: 'No Movement',
    };
    const d = detector({
      pixel_format: 'YUYV',
      color: 'gray',
      width: 320,
      height: 180,
      controls: still,
    });
    await d.start();
    // Frames already in the driver's buffers were made before a change: look a few frames later.
    const meanAfter = async (brightness: number) => {
      await d.setParameters({ brightness });
      return mean((await capture(d, 10))[9]);
    };
    const dark = await meanAfter(40);
    const bright = await meanAfter(220);
    expect(d.getParameters().brightness).to.equal(220);
    expect(bright - dark).to.be.greaterThan(30);
    try {
      await d.setParameters({ brightness: 999 });
      expect.fail('out of range');
    } catch (err) {
      expect((err as Error).message).to.equal(
        "parameter 'brightness' must be an integer between 0 and 255",
      );
    }
  });

  it('a missing device and a bad format are clear errors at start', async () => {
    const missing = detector({ device: '/dev/video9' });
    try {
      await missing.start();
      expect.fail('should not start');
    } catch (err) {
      expect((err as Error).message).to.include('no device /dev/video9');
    }
    const bad = detector({ pixel_format: 'MJPG' });
    try {
      await bad.start();
      expect.fail('should not start');
    } catch (err) {
      expect((err as Error).message).to.include('does not offer MJPG');
    }
  });

  it('an unplugged device (vivid disconnect) sets error, and it recovers', async () => {
    const d = detector({ pixel_format: 'YUYV', width: 320, height: 180, reconnect_ms: 300 });
    const states: string[] = [];
    d.on('state', (s) => states.push(s));
    await d.start();
    await capture(d, 3);
    await d.setParameters({ disconnect: true });
    const deadline = Date.now() + 30_000;
    while (!states.includes('error') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(states).to.include('error');
    expect(d.error).to.match(/stopped delivering/);
    while (d.state !== 'running' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 100));
    expect(d.state).to.equal('running');
    await capture(d, 3);
  });

  describe('through the server', () => {
    let server: LiveViewServer;
    before(async () => {
      server = await startServer({
        configText: `detectors:\n  Cam:\n    type: v4l2\n    options: { pixel_format: YUYV, width: 640, height: 360 }\n`,
        configDir: '.',
        port: 0,
        host: '127.0.0.1',
        logLevel: 'silent',
      });
    });
    after(async () => {
      await server?.stop();
    });

    it('describes the device and streams it as MJPEG', async () => {
      const res = await fetch(`${server.url}/liveview/detectors/Cam`);
      const { detector: info } = (await res.json()) as {
        detector: { info: { formats: unknown[] }; parameterSpecs: { name: string }[] };
      };
      expect(info.info.formats.length).to.be.greaterThan(5);
      expect(info.parameterSpecs.map((s) => s.name)).to.include.members([
        'brightness',
        'contrast',
        'pixel_format',
      ]);
      const reader = new MultipartReader();
      await reader.connect(`${server.url}/liveview/mjpeg?detectorName=Cam`);
      await reader.waitForParts(3, 30_000);
      const image = await decodeJpeg(reader.parts[2].body);
      expect([image.width, image.height]).to.deep.equal([640, 360]);
      reader.close();
    });
  });
});
