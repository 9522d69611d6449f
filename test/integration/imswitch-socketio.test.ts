import { expect } from 'chai';
import type { LiveViewServer } from '../../src/api/server.js';
import type { Frame } from '../../src/core/frame.js';
import { PIXEL_FORMATS } from '../../src/protocols/binary/packet.js';
import { openSocket, WsRefused } from '../helpers/auth.js';
import { decodeJpeg } from '../helpers/jpeg.js';
import { MultipartReader } from '../helpers/multipart-reader.js';
import { startTestServer, waitFor } from '../helpers/server.js';
import { ImswitchSocket, imswitchCall, type SocketFrame } from './imswitch-client.js';

/** ImSwitch's limit: it sends while `sent - acked` is at most 3 (MAX_FRAME_LAG), so 4 wait at most. */
const MAX_UNACKED_FRAMES = 4;

const YAML = `
detectors:
  Camera:
    type: mock
    options: { width: 320, height: 240, fps: 30, dtype: uint16, bit_depth: 12 }
protocols:
  binary: { throttle_ms: 0 }
  mjpeg: { throttle_ms: 0 }
`;

interface Client {
  id: string;
  framesSent: number;
  framesSkipped: number;
}

describe("ImSwitch's Socket.IO channel (/imswitch/socket.io/)", function () {
  this.timeout(30_000);
  let server: LiveViewServer;
  let base: string;
  const sockets: ImswitchSocket[] = [];
  const readers: MultipartReader[] = [];
  /** Frames the detector emitted, by capture time, to check what arrives bit for bit. */
  const emitted = new Map<bigint, Frame>();

  const connect = async (acking = true): Promise<ImswitchSocket> => {
    const s = new ImswitchSocket(base);
    s.acking = acking;
    sockets.push(s);
    await s.connected();
    return s;
  };
  const start = (protocol: string, body: unknown = null) =>
    imswitchCall(base, '/LiveViewController/startLiveView', {
      method: 'POST',
      query: { detectorName: 'Camera', protocol },
      body,
    });
  const stop = () =>
    imswitchCall(base, '/LiveViewController/stopLiveView', { query: { detectorName: 'Camera' } });
  const socketClients = (protocol: string): Client[] =>
    (server.controller.streamStatus('Camera', protocol)?.clients ?? []).filter((c) =>
      c.id.startsWith('socketio-'),
    );
  const expectBitExact = (frame: SocketFrame): void => {
    const packet = frame.packet!;
    const source = emitted.get(packet.timestamp);
    expect(source, `the detector emitted frame ${packet.frameNumber}`).to.not.equal(undefined);
    expect(packet.frameNumber).to.equal(source!.frameNumber);
    expect(packet.pixels).to.be.instanceOf(Uint16Array);
    expect(
      Buffer.from(packet.pixels.buffer, packet.pixels.byteOffset, packet.pixels.byteLength),
    ).to.deep.equal(
      Buffer.from(source!.data.buffer, source!.data.byteOffset, source!.data.byteLength),
    );
  };

  // A server per test: ImSwitch remembers each detector's last params, which must not leak.
  beforeEach(async () => {
    server = await startTestServer(YAML);
    base = server.url;
    emitted.clear();
    server.controller.detectors.detector('Camera').on('frame', (f) => {
      emitted.set(f.timestamp, f);
      if (emitted.size > 500) emitted.delete(emitted.keys().next().value!);
    });
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.close();
    for (const r of readers.splice(0)) r.close();
    await server?.stop();
  });

  it('connects as the web app does and gets server_capabilities', async () => {
    const s = await connect();
    await waitFor(() => s.capabilities !== undefined);
    expect(s.capabilities).to.deep.equal({
      messagepack: true,
      binary_streaming: true,
      protocol_version: '1.0',
    });
  });

  it('binary: frame events are msgpack {metadata, data: UC2F}, bit-exact, frame_id counting per client from 0', async () => {
    const s = await connect();
    expect((await start('binary')).status).to.equal(200);
    await waitFor(() => s.frames.length >= 6);
    s.frames.forEach((frame, i) => {
      const m = frame.metadata;
      expect(m).to.include({
        frame_id: i,
        protocol: 'binary',
        format: 'binary',
        detector_name: 'Camera',
        compression_algorithm: 'lz4',
        width: 320,
        height: 240,
      });
      expect(m.pixel_size).to.be.a('number');
      expect(Math.abs((m.server_timestamp as number) - Date.now() / 1000)).to.be.below(60);
      expect(m.compressed_bytes).to.equal(frame.packet!.payload.length);
      expect(m.frame_number).to.equal(frame.packet!.frameNumber);
      expect(frame.packet).to.include({
        width: 320,
        height: 240,
        bitDepth: 12,
        channels: 1,
        pixelFormat: PIXEL_FORMATS.GRAY16,
        compression: 'lz4',
      });
      expectBitExact(frame);
    });
    // A client that joins later counts its own frame ids, from 0.
    const late = await connect();
    await waitFor(() => late.frames.length >= 2);
    expect(late.frames.map((f) => f.metadata.frame_id).slice(0, 2)).to.deep.equal([0, 1]);
  });

  it("binary params changed live reach the watchers (the binary worker's params message)", async () => {
    const s = await connect();
    await start('binary');
    await waitFor(() => s.frames.length >= 2);
    const set = await imswitchCall(base, '/LiveViewController/setStreamParameters', {
      method: 'POST',
      query: { protocol: 'binary' },
      body: { compression_algorithm: 'none', subsampling_factor: 2 },
    });
    expect(set.status, set.text).to.equal(200);
    await waitFor(() => s.frames.some((f) => f.metadata.compression_algorithm === 'none'));
    const changed = s.frames.find((f) => f.metadata.compression_algorithm === 'none')!;
    expect(changed.packet).to.include({ compression: 'none', width: 160, height: 120 });
  });

  it('jpeg: frame events are msgpack {metadata, image: base64 JPEG} of the stream size', async () => {
    const s = await connect();
    const started = await start('jpeg', { subsampling_factor: 2, jpeg_quality: 70 });
    expect(started.status, started.text).to.equal(200);
    await waitFor(() => s.frames.length >= 3);
    for (const frame of s.frames.slice(0, 3)) {
      expect(frame.metadata).to.include({
        protocol: 'jpeg',
        format: 'jpeg',
        detector_name: 'Camera',
        jpeg_quality: 70,
        width: 160,
        height: 120,
      });
      const img = await decodeJpeg(frame.jpeg!);
      expect([img.width, img.height]).to.deep.equal([160, 120]);
    }
  });

  it('jpeg frames are the MJPEG stream’s JPEG bytes: one encoder for both', async () => {
    const s = await connect();
    await start('jpeg');
    const reader = new MultipartReader();
    readers.push(reader);
    await reader.connect(
      `${base}/imswitch/api/LiveViewController/mjpeg_stream?detectorName=Camera`,
    );
    await reader.waitForParts(5);
    await waitFor(() => s.frames.length >= 5);
    const byNumber = new Map(
      reader.parts.map((p) => [Number(p.headers['x-frame-number']), p.body]),
    );
    const same = s.frames.filter((f) => byNumber.has(f.metadata.frame_number as number));
    expect(same.length, 'frames both clients got').to.be.greaterThan(0);
    for (const f of same)
      expect(f.jpeg).to.deep.equal(byNumber.get(f.metadata.frame_number as number));
    // Both protocols are one liveview stream: one JPEG per frame for both clients.
    expect(server.controller.getActiveStreams().map((a) => a.protocol)).to.deep.equal(['mjpeg']);
  });

  it(`flow control: a client that stops acking gets ${MAX_UNACKED_FRAMES} frames, then is held back (counted); the others go on`, async () => {
    const good = await connect();
    const silent = await connect(false);
    await start('binary');
    await waitFor(() => good.frames.length >= 30);
    expect(silent.frames.length).to.equal(MAX_UNACKED_FRAMES);
    const clients = socketClients('binary');
    const held = clients.find((c) => c.framesSent === MAX_UNACKED_FRAMES);
    expect(held, JSON.stringify(clients)).to.not.equal(undefined);
    await waitFor(() => socketClients('binary').some((c) => c.framesSkipped > 0));
    // One acknowledgement frees one frame.
    silent.ack(0);
    await waitFor(() => silent.frames.length === MAX_UNACKED_FRAMES + 1);
    expect(silent.frames[MAX_UNACKED_FRAMES].metadata.frame_id).to.equal(MAX_UNACKED_FRAMES);
    for (const f of [...good.frames.slice(0, 5), ...silent.frames]) expectBitExact(f);
  });

  it('clients hold the stream like any liveview client: it stops when the last leaves, restarts when one comes', async () => {
    await start('jpeg');
    // Started with nobody watching: the stream stops after its grace period, the ImSwitch stream stays active.
    await waitFor(() => server.controller.findStream('Camera', 'mjpeg') === undefined);
    expect((await imswitchCall(base, '/LiveViewController/getLiveViewActive')).json).to.equal(true);
    const s = await connect();
    await waitFor(() => s.frames.length >= 2);
    expect(server.controller.findStream('Camera', 'mjpeg')).to.not.equal(undefined);
    s.close();
    await waitFor(() => server.controller.findStream('Camera', 'mjpeg') === undefined);
    await waitFor(() => server.controller.detectors.source('Camera').status !== 'running');
  });

  it('stopLiveView detaches the clients; startLiveView attaches them again', async () => {
    const s = await connect();
    await start('binary');
    await waitFor(() => s.frames.length >= 2);
    expect((await stop()).json).to.include({ status: 'success' });
    expect(socketClients('binary')).to.deep.equal([]);
    const count = s.frames.length;
    await start('binary');
    await waitFor(() => s.frames.length >= count + 2);
    expect(socketClients('binary')).to.have.length(1);
  });

  it('a stream stopped through the liveview API is no longer active for ImSwitch either', async () => {
    const s = await connect();
    await start('binary');
    await waitFor(() => s.frames.length >= 1);
    await server.controller.stopLiveView({ detectorName: 'Camera', protocol: 'binary' });
    await waitFor(
      async () =>
        (await imswitchCall(base, '/LiveViewController/getLiveViewActive')).json === false,
    );
  });

  describe('refused upgrades get the JSON error', () => {
    const upgrade = async (
      query: string,
      headers: Record<string, string> = {},
    ): Promise<WsRefused> => {
      const ws = openSocket(`${base.replace('http', 'ws')}/imswitch/socket.io/?${query}`, {
        headers,
      });
      const err = await ws.opened.then(
        () => {
          throw new Error('the upgrade was accepted');
        },
        (e: unknown) => e,
      );
      await ws.close();
      expect(err).to.be.instanceOf(WsRefused);
      return err as WsRefused;
    };
    it('an Engine.IO 3 client → 400', async () => {
      const err = await upgrade('EIO=3&transport=websocket');
      expect(err.status).to.equal(400);
      expect(err.json.message).to.include('Engine.IO protocol 4');
    });
    it('a polling handshake on the upgrade path → 400', async () => {
      const err = await upgrade('EIO=4&transport=polling');
      expect(err.status).to.equal(400);
      expect(err.json.message).to.include('websocket transport');
    });
    it("a foreign page's origin → 403 (the upgrade router's guards run first)", async () => {
      const err = await upgrade('EIO=4&transport=websocket', { Origin: 'http://evil.example' });
      expect(err.status).to.equal(403);
    });
  });
});
