import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import { decodeJpeg, frameNumberOf } from '../helpers/jpeg.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

describe('third-party plugins', function () {
  this.timeout(20_000);
  let server: LiveViewServer;
  let base: string;
  const readers: MultipartReader[] = [];

  before(async () => {
    server = await startTestServer(`
plugins:
  - ./plugins/ramp-detector
  - ./plugins/counter-protocol
detectors:
  Ramp:
    type: ramp
    options: { fps: 40 }
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
protocols:
  mjpeg: { throttle_ms: 0 }
  counter: { throttle_ms: 0 }
`);
    base = server.url;
  });
  after(async () => {
    for (const r of readers) r.close();
    await server?.stop();
  });

  it('lists the detector of a plugin loaded from a local folder', async () => {
    const { json } = await getJson(`${base}/liveview/detectors`);
    const detectors = json.detectors as { name: string; type: string; info: { vendor: string } }[];
    expect(detectors[0]).to.deep.include({ name: 'Ramp', type: 'ramp' });
    expect(detectors[0].info.vendor).to.equal('Acme');
  });

  it('streams the plugin detector over MJPEG with increasing frame numbers', async () => {
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(`${base}/liveview/mjpeg?detectorName=Ramp`);
    await reader.waitForParts(5);
    const numbers = await Promise.all(reader.parts.slice(0, 5).map((p) => frameNumberOf(p.body)));
    for (let i = 1; i < numbers.length; i++) {
      expect(numbers[i]).to.be.greaterThan(numbers[i - 1] as number);
    }
    const img = await decodeJpeg(reader.parts[0].body);
    expect([img.width, img.height]).to.deep.equal([160, 120]);
    reader.close();
  });

  it('two protocols on one detector at once: the detector acquires once and both get every frame', async () => {
    const source = server.controller.detectors.source('Camera');
    const reader = new MultipartReader();
    readers.push(reader);
    const started = await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Camera',
      protocol: 'counter',
    });
    expect(started.json).to.include({
      status: 'success',
      url: '/liveview/counter?detectorName=Camera',
    });
    await reader.connect(`${base}/liveview/mjpeg?detectorName=Camera`);
    await reader.waitForParts(10);
    const received = source.framesReceived;
    const counted = (await getJson(`${base}/liveview/counter?detectorName=Camera`)).json
      .counted as number;
    expect(counted).to.be.greaterThan(5);
    // One detector, two readers of its one FrameSource.
    expect(source.readerCount).to.equal(2);
    const streams = (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as {
      detectorName: string;
      protocol: string;
    }[];
    expect(
      streams
        .filter((s) => s.detectorName === 'Camera')
        .map((s) => s.protocol)
        .sort(),
    ).to.deep.equal(['counter', 'mjpeg']);
    // The mock detector runs at 30 fps: both protocols together did not make it acquire twice.
    await new Promise((r) => setTimeout(r, 1000));
    const perSecond = source.framesReceived - received;
    expect(perSecond).to.be.within(20, 40);
    reader.close();
    await postJson(`${base}/liveview/stopLiveView`, { detectorName: 'Camera' });
    await waitFor(() => source.readerCount === 0, 5000);
  });

  it('acquisition stops after the last stream stops', async () => {
    const detector = server.controller.detectors.detector('Camera');
    await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Camera',
      protocol: 'counter',
    });
    expect(detector.state).to.equal('running');
    await postJson(`${base}/liveview/stopLiveView`, { detectorName: 'Camera' });
    await waitFor(() => detector.state === 'idle', 4000);
  });
});
