import { expect } from 'chai';
import http from 'node:http';
import type { LiveViewServer } from '../../src/api/server.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

/** Resolves with the status code as soon as the response headers arrive, then hangs up. */
function headersOf(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      reject(new Error(`no response headers within ${timeoutMs} ms`));
    });
    req.on('error', () => undefined);
  });
}

describe('a detector that stops delivering is reported stalled', function () {
  this.timeout(20_000);
  let server: LiveViewServer;
  let base: string;
  const readers: MultipartReader[] = [];

  before(async () => {
    server = await startTestServer(`
detectors:
  Camera:
    type: mock
    options: { width: 128, height: 96, fps: 30, fault: stall, fault_after_frames: 10 }
    stall_timeout_ms: 600
  Other:
    type: mock
    options: { width: 128, height: 96, fps: 30 }
protocols:
  mjpeg: { throttle_ms: 0 }
`);
    base = server.url;
  });
  after(async () => {
    for (const r of readers) r.close();
    await server?.stop();
  });

  const health = async () =>
    (await getJson(`${base}/health`)).json.detectors as Record<string, string>;

  it('in /health, the detector listing and getActiveStreams, with what is wrong', async () => {
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(`${base}/liveview/mjpeg?detectorName=Camera`);
    await reader.waitForParts(3);
    await waitFor(async () => (await health()).Camera === 'stalled', 5000);
    expect((await health()).Other).to.equal('idle');
    const detector = (await getJson(`${base}/liveview/detectors/Camera`)).json.detector as {
      state: string;
      error: string;
    };
    expect(detector.state).to.equal('stalled');
    expect(detector.error).to.match(
      /^detector 'Camera' delivered no frame for \d+\.\d s \(stalled/,
    );
    const streams = (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as {
      state: string;
      error: string;
    }[];
    expect(streams[0]).to.include({ state: 'stalled' });
    expect(streams[0].error).to.match(/delivered no frame/);
  });

  it('a new MJPEG client of the stalled camera gets its response headers at once', async () => {
    expect(await headersOf(`${base}/liveview/mjpeg?detectorName=Camera`, 1000)).to.equal(200);
  });

  it('frames again end the stall', async () => {
    await postJson(`${base}/liveview/detectors/Camera/parameters`, { fault: 'none' });
    await waitFor(async () => (await health()).Camera === 'running', 3000);
    const detector = (await getJson(`${base}/liveview/detectors/Camera`)).json.detector as {
      error?: string;
    };
    expect(detector.error).to.equal(undefined);
  });

  it('fail_start set on a running camera: frames stop, and that is reported too', async () => {
    await postJson(`${base}/liveview/detectors/Camera/parameters`, {
      fault: 'fail_start',
      fault_after_frames: 0,
    });
    await waitFor(async () => (await health()).Camera === 'stalled', 5000);
  });
});
