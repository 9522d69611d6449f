import { expect } from 'chai';
import http from 'node:http';
import { aheadEnd, aheadStart, aheadTrailer } from '../../src/protocols/mjpeg/multipart.js';
import type { LiveViewServer } from '../../src/api/server.js';
import { decodeJpeg, frameNumberOf } from '../helpers/jpeg.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30 }
  Color:
    type: mock
    options: { width: 256, height: 192, fps: 30, channels: 3, dtype: uint8, bit_depth: 8 }
  # Incompressible frames fill a stalled client's socket buffers quickly.
  Noisy:
    type: mock
    options: { width: 320, height: 240, fps: 30, pattern: noise }
protocols:
  mjpeg: { throttle_ms: 0 }
`;

interface Stream {
  detectorName: string;
  protocol: string;
  clientCount: number;
  clients: { framesSkipped: number; framesSent: number }[];
  framesEncoded: number;
  onDemand: boolean;
}

describe('MJPEG protocol', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const readers: MultipartReader[] = [];

  const open = async (query = 'detectorName=Camera', paused = false): Promise<MultipartReader> => {
    const reader = new MultipartReader();
    readers.push(reader);
    return reader.connect(`${base}/liveview/mjpeg?${query}`, { paused });
  };
  const streams = async (): Promise<Stream[]> =>
    (await getJson(`${base}/liveview/getActiveStreams`)).json.streams as Stream[];

  before(async () => {
    server = await startTestServer(YAML);
    base = server.url;
  });
  afterEach(async () => {
    for (const r of readers.splice(0)) r.close();
    for (const detectorName of ['Camera', 'Color', 'Noisy']) {
      await postJson(`${base}/liveview/stopLiveView`, { detectorName });
    }
  });
  after(async () => {
    await server?.stop();
  });

  it('serves multipart/x-mixed-replace parts that are valid JPEGs of the right size with increasing frame numbers', async () => {
    const reader = await open();
    expect(reader.status).to.equal(200);
    expect(reader.contentType).to.match(/^multipart\/x-mixed-replace; boundary=/);
    await reader.waitForParts(8);
    const numbers: number[] = [];
    for (const part of reader.parts.slice(0, 8)) {
      expect(part.headers['content-type']).to.equal('image/jpeg');
      expect(part.body[0]).to.equal(0xff);
      expect(part.body[1]).to.equal(0xd8);
      const img = await decodeJpeg(part.body);
      expect([img.width, img.height]).to.deep.equal([320, 240]);
      const n = await frameNumberOf(part.body);
      expect(n, 'pixel code readable').to.be.a('number');
      expect(Number(part.headers['x-frame-number'])).to.equal(n);
      numbers.push(n as number);
    }
    for (let i = 1; i < numbers.length; i++) expect(numbers[i]).to.be.greaterThan(numbers[i - 1]);
  });

  it('connecting starts the stream on demand, and it stops after the last client left', async () => {
    const reader = await open();
    await reader.waitForParts(1);
    expect((await streams())[0]).to.include({
      detectorName: 'Camera',
      onDemand: true,
      clientCount: 1,
    });
    reader.close();
    await waitFor(async () => (await streams()).length === 0, 6000);
    await waitFor(() => server.controller.detectors.detector('Camera').state === 'idle', 3000);
  });

  it('subsampling_factor, max_width and RGB are honoured', async () => {
    await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Camera',
      protocol: 'mjpeg',
      params: { subsampling_factor: 2 },
    });
    const gray = await open();
    await gray.waitForParts(2);
    const g = await decodeJpeg(gray.parts[1].body);
    expect([g.width, g.height]).to.deep.equal([160, 120]);
    await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Color',
      protocol: 'mjpeg',
      params: { max_width: 100 },
    });
    const color = await open('detectorName=Color');
    await color.waitForParts(2);
    const c = await decodeJpeg(color.parts[1].body);
    expect([c.width, c.height, c.channels]).to.deep.equal([86, 64, 3]);
  });

  it('setStreamParams applies live without dropping connected clients', async () => {
    const reader = await open();
    await reader.waitForParts(2);
    await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'mjpeg',
      params: { max_width: 160 },
    });
    const from = reader.parts.length;
    await reader.waitForParts(from + 4);
    const last = await decodeJpeg(reader.parts[reader.parts.length - 1].body);
    expect(last.width).to.equal(160);
    expect(reader.ended).to.equal(false);
    await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'mjpeg',
      params: { max_width: 0 },
    });
  });

  it('snapshot.jpg returns one JPEG with the frame number', async () => {
    const res = await fetch(`${base}/liveview/snapshot.jpg?detectorName=Camera`);
    expect(res.status).to.equal(200);
    expect(res.headers.get('content-type')).to.equal('image/jpeg');
    const body = Buffer.from(await res.arrayBuffer());
    const n = await frameNumberOf(body);
    expect(n).to.equal(Number(res.headers.get('x-frame-number')));
  });

  it('an unknown detector is a 404 JSON error', async () => {
    for (const path of ['mjpeg', 'snapshot.jpg']) {
      const res = await fetch(`${base}/liveview/${path}?detectorName=Nope`);
      expect(res.status).to.equal(404);
      expect(await res.json()).to.deep.equal({
        status: 'error',
        message: "unknown detector 'Nope' (known detectors: Camera, Color, Noisy)",
      });
    }
  });

  it('20 clients each receive new frames while one stalled client reads nothing', async () => {
    await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Noisy',
      protocol: 'mjpeg',
      params: { jpeg_quality: 95 },
    });
    const stalled = await open('detectorName=Noisy', true);
    const clients = await Promise.all(Array.from({ length: 20 }, () => open('detectorName=Noisy')));
    await Promise.all(clients.map((c) => c.waitForParts(1)));
    const noisy = async () => (await streams()).find((s) => s.detectorName === 'Noisy') as Stream;
    // Once the kernel's socket buffers are full, the server must skip the stalled client.
    await waitFor(
      async () => Math.max(...(await noisy()).clients.map((c) => c.framesSkipped)) > 0,
      15_000,
    );
    const startCounts = clients.map((c) => c.parts.length);
    await new Promise((r) => setTimeout(r, 2000));
    for (const [i, c] of clients.entries()) {
      expect(c.parts.length - startCounts[i], `client ${i}`).to.be.greaterThan(25);
      const n = await frameNumberOf(c.parts[c.parts.length - 1].body);
      expect(n).to.be.a('number');
    }
    const status = await noisy();
    expect(status.clientCount).to.equal(21);
    const skipped = status.clients.map((c) => c.framesSkipped).sort((a, b) => b - a);
    expect(skipped[0], 'the stalled client is skipped').to.be.greaterThan(25);
    expect(skipped[1], 'no reading client is skipped much').to.be.lessThan(10);
    expect(stalled.parts).to.have.length(0);
  });

  it('a client that disconnects is removed from the stream', async () => {
    await postJson(`${base}/liveview/startLiveView`, { detectorName: 'Camera', protocol: 'mjpeg' });
    const a = await open();
    const b = await open();
    await Promise.all([a.waitForParts(1), b.waitForParts(1)]);
    a.close();
    await waitFor(async () => (await streams())[0].clientCount === 1);
    await b.waitForParts(b.parts.length + 2);
  });

  it('stopLiveView ends the clients responses', async () => {
    await postJson(`${base}/liveview/startLiveView`, { detectorName: 'Camera', protocol: 'mjpeg' });
    const reader = await open();
    await reader.waitForParts(1);
    await postJson(`${base}/liveview/stopLiveView`, { detectorName: 'Camera', protocol: 'mjpeg' });
    await waitFor(() => reader.ended);
  });

  it("a browser's <img> request (Sec-Fetch-Dest: image) gets each part's end and the next part's headers right after its JPEG", async () => {
    const start = aheadStart();
    const trailer = aheadTrailer();
    let bytes = Buffer.alloc(0);
    let ended = false;
    const req = http.get(`${base}/liveview/mjpeg?detectorName=Camera`, {
      headers: { 'Sec-Fetch-Dest': 'image' },
    });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
        req.on('response', resolve);
        req.on('error', reject);
      });
      res.on('data', (chunk: Buffer) => (bytes = Buffer.concat([bytes, chunk])));
      res.on('end', () => (ended = true));
      const parts = (): Buffer[] => {
        const out: Buffer[] = [];
        let from = start.length;
        for (let at; (at = bytes.indexOf(trailer, from)) >= 0; from = at + trailer.length) {
          out.push(bytes.subarray(from, at));
        }
        return out;
      };
      await waitFor(() => parts().length >= 4);
      expect(bytes.subarray(0, start.length).equals(start), 'first part headers').to.equal(true);
      const numbers: number[] = [];
      for (const jpeg of parts()) {
        expect([jpeg[0], jpeg[1], jpeg.at(-2), jpeg.at(-1)]).to.deep.equal([
          0xff, 0xd8, 0xff, 0xd9,
        ]);
        numbers.push((await frameNumberOf(jpeg)) as number);
      }
      for (let i = 1; i < numbers.length; i++) expect(numbers[i]).to.be.greaterThan(numbers[i - 1]);
      await postJson(`${base}/liveview/stopLiveView`, {
        detectorName: 'Camera',
        protocol: 'mjpeg',
      });
      await waitFor(() => ended);
      expect(bytes.subarray(-aheadEnd().length).equals(aheadEnd()), 'closing delimiter').to.equal(
        true,
      );
    } finally {
      req.destroy();
    }
  });

  it('framing=headers keeps per-part headers for a browser too', async () => {
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(`${base}/liveview/mjpeg?detectorName=Camera&framing=headers`);
    await reader.waitForParts(2);
    expect(Number(reader.parts[1].headers['x-frame-number'])).to.be.greaterThan(0);
    const bad = await getJson(`${base}/liveview/mjpeg?detectorName=Camera&framing=soon`);
    expect(bad.status).to.equal(400);
    expect(bad.json.message).to.match(/framing/);
  });
});
