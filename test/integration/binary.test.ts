import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import type { Frame } from '../../src/core/frame.js';
import { PIXEL_FORMATS } from '../../src/protocols/binary/packet.js';
import { BinaryClient, UpgradeRefused, type ReceivedFrame } from '../helpers/binary-client.js';
import { getJson, postJson, startTestServer, waitFor } from '../helpers/server.js';

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30, dtype: uint16, bit_depth: 12 }
  Color:
    type: mock
    options: { width: 128, height: 96, fps: 30, dtype: uint8, bit_depth: 8, channels: 3 }
  Float:
    type: mock
    options: { width: 128, height: 96, fps: 30, dtype: float32, bit_depth: 16 }
protocols:
  binary: { throttle_ms: 0 }
`;

interface StreamInfo {
  detectorName: string;
  protocol: string;
  clientCount: number;
  clients: { framesSent: number; framesSkipped: number }[];
}

describe('binary protocol (UC2F over WebSocket)', function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const clients: BinaryClient[] = [];
  /** Frames the detectors emitted, by capture time, to check what arrives bit for bit. */
  const emitted = new Map<bigint, Frame>();

  const connect = async (query = 'detectorName=Camera', ackDelayMs: number | null = 0) => {
    const client = new BinaryClient();
    client.ackDelayMs = ackDelayMs;
    clients.push(client);
    return client.connect(`${base.replace('http', 'ws')}/liveview/binary?${query}`);
  };
  const binaryStream = async (detectorName = 'Camera'): Promise<StreamInfo | undefined> =>
    ((await getJson(`${base}/liveview/getActiveStreams`)).json.streams as StreamInfo[]).find(
      (s) => s.detectorName === detectorName && s.protocol === 'binary',
    );
  const expectBitExact = (frame: ReceivedFrame, factor = 1) => {
    const source = emitted.get(frame.timestamp);
    expect(source, `the detector emitted frame ${frame.frameNumber}`).to.not.equal(undefined);
    const { width, channels } = source!;
    expect(frame.frameNumber).to.equal(source!.frameNumber);
    let mismatches = 0;
    for (let y = 0; y < frame.height; y++) {
      for (let x = 0; x < frame.width; x++) {
        for (let c = 0; c < channels; c++) {
          const got = frame.pixels[(y * frame.width + x) * channels + c];
          const want = source!.data[(y * factor * width + x * factor) * channels + c];
          if (!Object.is(got, want)) mismatches++;
        }
      }
    }
    expect(mismatches, 'pixels that differ').to.equal(0);
  };

  before(async () => {
    server = await startTestServer(YAML);
    base = server.url;
    for (const name of ['Camera', 'Color', 'Float']) {
      server.controller.detectors.detector(name).on('frame', (f) => {
        emitted.set(f.timestamp, f);
        if (emitted.size > 500) emitted.delete(emitted.keys().next().value!);
      });
    }
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const detectorName of ['Camera', 'Color', 'Float']) {
      await postJson(`${base}/liveview/stopLiveView`, { detectorName });
    }
    await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'binary',
      params: { compression: 'lz4', max_in_flight: 3, subsampling_factor: 1 },
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('startLiveView answers where to connect', async () => {
    const { status, json } = await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Camera',
      protocol: 'binary',
    });
    expect(status).to.equal(200);
    expect(json.url).to.equal('/liveview/binary?detectorName=Camera');
  });

  it('greets, announces the compression before the first frame, and sends 16-bit frames bit-exact', async () => {
    const client = await connect();
    await waitFor(() => client.frames.length >= 5);
    const first = client.messages.slice(0, 3);
    expect(first[0]).to.deep.include({ kind: 'json' });
    expect((first[0] as { message: Record<string, unknown> }).message).to.include({
      type: 'hello',
      detectorName: 'Camera',
      format: 'UC2F',
    });
    expect((first[1] as { message: Record<string, unknown> }).message).to.deep.equal({
      type: 'compression',
      algorithm: 'lz4',
      level: 0,
    });
    expect(first[2].kind).to.equal('frame');
    const frames = client.frames;
    for (const f of frames) {
      expect(f).to.include({
        width: 320,
        height: 240,
        stride: 640,
        bitDepth: 12,
        channels: 1,
        pixelFormat: PIXEL_FORMATS.GRAY16,
        compression: 'lz4',
      });
      expect(f.pixels).to.be.instanceOf(Uint16Array);
      expectBitExact(f);
    }
    const numbers = frames.map((f) => f.frameNumber);
    expect(numbers).to.deep.equal([...numbers].sort((a, b) => a - b));
    expect(numbers.every((n) => typeof n === 'number')).to.equal(true);
    expect(new Set(numbers).size).to.equal(numbers.length);
  });

  for (const compression of ['none', 'zstd'] as const) {
    it(`compression ${compression} is lossless too`, async () => {
      await postJson(`${base}/liveview/startLiveView`, {
        detectorName: 'Camera',
        protocol: 'binary',
        params: { compression, compression_level: 3 },
      });
      const client = await connect();
      await waitFor(() => client.frames.length >= 3);
      expect(client.json('compression')[0]).to.deep.equal({
        type: 'compression',
        algorithm: compression,
        level: compression === 'zstd' ? 3 : 0,
      });
      for (const f of client.frames) {
        expect(f.compression).to.equal(compression);
        expectBitExact(f);
      }
      if (compression === 'none') {
        expect(client.frames[0].payload.length).to.equal(320 * 240 * 2);
      } else {
        expect(client.frames[0].payload.length).to.be.lessThan(320 * 240 * 2);
      }
    });
  }

  it('uint8 RGB and float32 frames arrive bit-exact', async () => {
    const color = await connect('detectorName=Color');
    const float = await connect('detectorName=Float');
    await waitFor(() => color.frames.length >= 3 && float.frames.length >= 3);
    expect(color.frames[0]).to.include({
      channels: 3,
      pixelFormat: PIXEL_FORMATS.RGB24,
      stride: 384,
    });
    expect(float.frames[0]).to.include({
      channels: 1,
      pixelFormat: PIXEL_FORMATS.GRAY32F,
      bitDepth: 16,
    });
    expect(float.frames[0].pixels).to.be.instanceOf(Float32Array);
    for (const f of [...color.frames, ...float.frames]) expectBitExact(f);
  });

  it('subsampling_factor 2 sends every second pixel of every second row', async () => {
    await postJson(`${base}/liveview/startLiveView`, {
      detectorName: 'Camera',
      protocol: 'binary',
      params: { subsampling_factor: 2 },
    });
    const client = await connect();
    await waitFor(() => client.frames.length >= 2);
    expect(client.frames[0]).to.include({ width: 160, height: 120, stride: 320 });
    expectBitExact(client.frames[0], 2);
  });

  it('a compression change is announced before the first packet that uses it', async () => {
    const client = await connect();
    await waitFor(() => client.frames.length >= 2);
    await postJson(`${base}/liveview/setStreamParams`, {
      protocol: 'binary',
      params: { compression: 'zstd' },
    });
    await waitFor(() => client.frames.some((f) => f.compression === 'zstd'));
    const firstZstd = client.messages.findIndex(
      (m) => m.kind === 'frame' && m.frame.compression === 'zstd',
    );
    const announcement = client.messages.findIndex(
      (m) =>
        m.kind === 'json' && m.message.type === 'compression' && m.message.algorithm === 'zstd',
    );
    expect(announcement).to.be.within(0, firstZstd - 1);
    expect(client.json('params').length).to.be.greaterThan(0);
    for (const f of client.frames) expectBitExact(f);
  });

  it('a client that never acknowledges gets max_in_flight frames, and a fast one is not slowed', async () => {
    const silent = await connect('detectorName=Camera', null);
    const fast = await connect();
    await waitFor(() => fast.frames.length >= 40, 5000);
    expect(silent.frames).to.have.length(3);
    const status = await binaryStream();
    expect(status?.clientCount).to.equal(2);
    const skipped = status!.clients.map((c) => c.framesSkipped).sort((a, b) => b - a);
    expect(skipped[0], 'the silent client is skipped').to.be.greaterThan(20);
    expect(skipped[1], 'the fast client is not').to.be.lessThan(3);
  });

  it('a client that acknowledges slowly gets the newest frames, never more than max_in_flight outstanding', async () => {
    const slow = await connect('detectorName=Camera', 200);
    const startedAt = Date.now();
    await waitFor(() => slow.frames.length >= 12, 8000);
    // Outstanding = received and not yet acknowledged: every frame is acknowledged 200 ms later.
    expect(slow.maxOutstanding).to.equal(3);
    const frames = slow.frames;
    const gaps = frames.slice(1).map((f, i) => f.frameNumber - frames[i].frameNumber);
    expect(Math.min(...gaps)).to.be.greaterThan(0);
    expect(Math.max(...gaps), 'older frames are skipped for it').to.be.greaterThan(1);
    // 3 credits renewed every 200 ms: about 15 frames/s, not the camera's 30.
    const rate = frames.length / ((Date.now() - startedAt) / 1000);
    expect(rate).to.be.lessThan(22);
    // The newest frame it got is recent, not a queued old one.
    const latest = server.controller.detectors.detector('Camera').getLatestFrame()!;
    expect(latest.frameNumber - frames[frames.length - 1].frameNumber).to.be.lessThan(12);
  });

  it('getStatus answers the stream status', async () => {
    const client = await connect();
    await waitFor(() => client.frames.length >= 2);
    client.send({ type: 'getStatus' });
    await waitFor(() => client.json('status').length > 0);
    const status = client.json('status')[0] as { stream: StreamInfo };
    expect(status.stream).to.include({
      detectorName: 'Camera',
      protocol: 'binary',
      clientCount: 1,
    });
  });

  it('setParams with a bad value answers an error and keeps the socket', async () => {
    const client = await connect();
    client.send({ type: 'setParams', params: { compression: 'brotli' } });
    await waitFor(() => client.json('error').length > 0);
    expect(client.json('error')[0].message).to.equal(
      'params.compression: must be one of: none, lz4, zstd',
    );
    const n = client.frames.length;
    await waitFor(() => client.frames.length > n + 2);
    expect(client.closeCode).to.equal(undefined);
  });

  describe('garbage from a client closes only that socket, with a code and a reason', () => {
    const cases: [string, (c: BinaryClient) => void, number, string][] = [
      ['bad JSON', (c) => c.sendRaw('{"type": ack'), 1007, 'invalid JSON'],
      [
        'a binary message',
        (c) => c.sendRaw(Buffer.from([1, 2, 3])),
        1003,
        'binary messages are not accepted',
      ],
      [
        'an unknown type',
        (c) => c.send({ type: 'reboot' }),
        1008,
        "known 'type' (ack, getStatus, setParams)",
      ],
      ['a JSON array', (c) => c.sendRaw('[1,2]'), 1008, "known 'type'"],
      [
        'an ack without a number',
        (c) => c.send({ type: 'ack', frameNumber: 'x' }),
        1008,
        'frameNumber must be a number',
      ],
      ['a huge message', (c) => c.sendRaw('x'.repeat(200_000)), 1009, ''],
    ];
    for (const [name, act, code, reason] of cases) {
      it(name, async () => {
        const bystander = await connect();
        const culprit = await connect();
        await waitFor(() => culprit.frames.length >= 1);
        act(culprit);
        await culprit.waitClosed();
        expect(culprit.closeCode).to.equal(code);
        expect(culprit.closeReason).to.include(reason);
        const n = bystander.frames.length;
        await waitFor(() => bystander.frames.length >= n + 3);
        expect(bystander.closeCode).to.equal(undefined);
        expect((await getJson(`${base}/health`)).status).to.equal(200);
      });
    }
  });

  it('an unknown detector refuses the upgrade with 404 and a message', async () => {
    try {
      await connect('detectorName=Nope');
      expect.fail('the upgrade should be refused');
    } catch (err) {
      expect(err).to.be.instanceOf(UpgradeRefused);
      expect((err as UpgradeRefused).status).to.equal(404);
      expect(JSON.parse((err as UpgradeRefused).body)).to.deep.equal({
        status: 'error',
        message: "unknown detector 'Nope' (known detectors: Camera, Color, Float)",
      });
    }
  });

  it('the stream started on demand stops after the last client leaves', async () => {
    const client = await connect();
    await waitFor(() => client.frames.length >= 1);
    expect(await binaryStream()).to.not.equal(undefined);
    await client.close();
    await waitFor(async () => (await binaryStream()) === undefined, 5000);
  });
});
