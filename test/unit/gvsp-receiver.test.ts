import { expect } from 'chai';
import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { encodeGvspBlock, type GvspLeaderFields } from '../../src/plugins/genicam/gvsp.js';
import {
  GvspReceiver,
  type GvspFrame,
  type GvspReceiverOptions,
} from '../../src/plugins/genicam/gvsp-receiver.js';
import { ThreadedGvspReceiver } from '../../src/plugins/genicam/gvsp-threaded-receiver.js';

const MONO16 = 0x01100007;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A 32x64 Mono16 image (4096 bytes) whose bytes depend on the block id. */
function image(seed: number, length = 4096): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + seed * 13) & 0xff);
}

/** Leader, 5 payload packets (4 × 1000 bytes + 96) and trailer (packet id 6). */
function block(blockId: number | bigint, data = image(Number(blockId)), extendedIds = false) {
  const leader: GvspLeaderFields = {
    blockId,
    extendedIds,
    pixelFormat: MONO16,
    width: 32,
    height: 64,
    offsetX: 8,
    offsetY: 4,
    timestamp: 123456789n,
  };
  return { data, packets: encodeGvspBlock(leader, data, 1000) };
}

// The same behaviour is asked of every way of receiving: recvmmsg, Node's dgram, a worker thread.
const IMPLEMENTATIONS: [string, (o: GvspReceiverOptions) => GvspReceiver | ThreadedGvspReceiver][] =
  [
    ['GVSP receiver', (o) => new GvspReceiver(o)],
    ['GVSP receiver on Node dgram', (o) => new GvspReceiver({ ...o, transport: 'dgram' })],
    ['GVSP receiver on a worker thread', (o) => new ThreadedGvspReceiver(o)],
  ];

for (const [title, createReceiver] of IMPLEMENTATIONS)
  describe(title, () => {
    let receiver: GvspReceiver | ThreadedGvspReceiver;
    let sender: dgram.Socket;
    let frames: GvspFrame[];
    let incomplete: [bigint, number][];
    let resends: [bigint, number, number][];

    async function start(opts: Partial<GvspReceiverOptions> = {}): Promise<void> {
      receiver = createReceiver({ host: '127.0.0.1', frameTimeoutMs: 100, ...opts });
      frames = [];
      incomplete = [];
      resends = [];
      receiver.on('frame', (f) => frames.push(f));
      receiver.on('incomplete', (id, missing) => incomplete.push([id, missing]));
      await receiver.open();
    }

    const send = (packets: Uint8Array[]) =>
      packets.reduce(
        (p, packet) =>
          p.then(
            () =>
              new Promise<void>((resolve, reject) =>
                sender.send(packet, receiver.port, '127.0.0.1', (err) =>
                  err ? reject(err) : resolve(),
                ),
              ),
          ),
        Promise.resolve(),
      );

    async function until(cond: () => boolean, ms = 1000): Promise<void> {
      const end = Date.now() + ms;
      while (!cond()) {
        if (Date.now() > end) throw new Error('timed out waiting');
        await sleep(2);
      }
    }

    beforeEach(async () => {
      sender = dgram.createSocket('udp4');
      await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
    });

    afterEach(async () => {
      await receiver?.close();
      sender.close();
    });

    it('assembles complete frames with their exact bytes and geometry', async () => {
      await start();
      const a = block(1);
      const b = block(2);
      await send([...a.packets, ...b.packets]);
      await until(() => frames.length === 2);
      expect(frames.map((f) => f.blockId)).to.deep.equal([1n, 2n]);
      expect(frames[0]).to.deep.include({
        timestampTicks: 123456789n,
        pixelFormat: MONO16,
        width: 32,
        height: 64,
        offsetX: 8,
        offsetY: 4,
        paddingX: 0,
        resent: 0,
      });
      expect(Buffer.from(frames[0].data).equals(Buffer.from(a.data))).to.equal(true);
      expect(Buffer.from(frames[1].data).equals(Buffer.from(b.data))).to.equal(true);
      const s = receiver.stats;
      expect(s).to.include({ completed: 2, incomplete: 0, malformed: 0, packetsReceived: 14 });
      expect(s.bytesReceived).to.equal(
        [...a.packets, ...b.packets].reduce((n, p) => n + p.length, 0),
      );
      expect(s.receiveBufferBytes).to.be.greaterThan(0);
      // Linux on x64/arm64 reads in batches unless Node's socket is asked for.
      if (process.platform === 'linux')
        expect(s.transport).to.equal(title.includes('dgram') ? 'dgram' : 'recvmmsg');
    });

    it('asks for a dropped packet again and completes the frame with it', async () => {
      const { data, packets } = block(5);
      await start({
        resendDelayMs: 5,
        requestResend: (id, first, last) => {
          resends.push([id, first, last]);
          void send(packets.slice(first, last + 1));
        },
      });
      await send(packets.filter((_, i) => i !== 3));
      await until(() => frames.length === 1);
      expect(resends).to.deep.equal([[5n, 3, 3]]);
      expect(frames[0].resent).to.equal(1);
      expect(Buffer.from(frames[0].data).equals(Buffer.from(data))).to.equal(true);
      expect(receiver.stats).to.include({ resendRequested: 1, resentReceived: 1, completed: 1 });
    });

    it('asks for a lost trailer once the block falls silent', async () => {
      const { packets } = block(9);
      await start({
        requestResend: (id, first, last) => {
          resends.push([id, first, last]);
          void send(packets.slice(first, last + 1));
        },
      });
      await send(packets.slice(0, 6));
      await until(() => frames.length === 1);
      expect(resends).to.deep.equal([[9n, 6, 6]]);
    });

    it('waits longer for a silent tail than for a gap: a sender that pauses is not asked again', async () => {
      await start({
        resendDelayMs: 10,
        frameTimeoutMs: 400,
        requestResend: (id, first, last) => resends.push([id, first, last]),
      });
      const { data, packets } = block(8);
      await send(packets.slice(0, 3));
      await sleep(20); // past the gap delay (10 ms), within the tail delay (40 ms)
      await send(packets.slice(3));
      await until(() => frames.length === 1);
      expect(resends).to.deep.equal([]);
      expect(Buffer.from(frames[0].data).equals(Buffer.from(data))).to.equal(true);
    });

    it('asks for a lost leader and places the packets that came before it', async () => {
      const { data, packets } = block(4);
      await start({
        requestResend: (id, first, last) => {
          resends.push([id, first, last]);
          void send(packets.slice(first, last + 1));
        },
      });
      await send(packets.slice(1));
      await until(() => frames.length === 1);
      expect(resends).to.deep.equal([[4n, 0, 0]]);
      expect(Buffer.from(frames[0].data).equals(Buffer.from(data))).to.equal(true);
    });

    it('drops a frame whose packet never comes, after the timeout and a bounded number of asks', async () => {
      await start({
        frameTimeoutMs: 80,
        resendDelayMs: 2,
        maxResendRequests: 2,
        requestResend: (id, first, last) => resends.push([id, first, last]),
      });
      const { packets } = block(7);
      await send([...packets.slice(0, 2), ...packets.slice(3)]);
      await until(() => incomplete.length === 1);
      expect(incomplete).to.deep.equal([[7n, 1]]);
      expect(resends).to.deep.equal([
        [7n, 2, 2],
        [7n, 2, 2],
      ]);
      expect(frames).to.have.length(0);
      expect(receiver.stats).to.include({ incomplete: 1, completed: 0, resendRequested: 2 });
    });

    it('assembles packets in any order (leader last, short last packet first)', async () => {
      await start();
      const a = block(11);
      const [leader, ...rest] = a.packets;
      await send([...rest.reverse(), leader]);
      const b = block(12);
      const [l2, p1, p2, p3, p4, p5, t2] = b.packets;
      await send([l2, p5, p3, t2, p1, p4, p2]);
      await until(() => frames.length === 2);
      expect(Buffer.from(frames[0].data).equals(Buffer.from(a.data))).to.equal(true);
      expect(Buffer.from(frames[1].data).equals(Buffer.from(b.data))).to.equal(true);
      expect(receiver.stats.malformed).to.equal(0);
    });

    it('assembles interleaved blocks and emits them in block order across the 16-bit wrap', async () => {
      let resendNow: () => void = () => undefined;
      const a = block(65535);
      const b = block(1);
      await start({
        requestResend: (id, first, last) => {
          resends.push([id, first, last]);
          resendNow = () => void send(a.packets.slice(first, last + 1));
        },
      });
      const interleaved = a.packets.flatMap((p, i) => [p, b.packets[i]]);
      // Block 65535 loses packet 2: block 1 completes first but waits for it.
      await send(interleaved.filter((p) => p !== a.packets[2]));
      await until(() => resends.length === 1);
      expect(frames).to.have.length(0);
      resendNow();
      await until(() => frames.length === 2);
      expect(frames.map((f) => f.blockId)).to.deep.equal([65535n, 1n]);
      expect(Buffer.from(frames[0].data).equals(Buffer.from(a.data))).to.equal(true);
      expect(Buffer.from(frames[1].data).equals(Buffer.from(b.data))).to.equal(true);
    });

    it('does not hold a frame longer than the timeout of an older, incomplete one', async () => {
      await start({ frameTimeoutMs: 60 });
      const a = block(20);
      const b = block(21);
      await send([...a.packets.slice(0, 3), ...b.packets]);
      await until(() => frames.length === 1);
      expect(incomplete.map(([id]) => id)).to.deep.equal([20n]);
      expect(frames[0].blockId).to.equal(21n);
    });

    it('ignores late and duplicate packets of finished blocks', async () => {
      await start({ frameTimeoutMs: 50 });
      const { packets } = block(30);
      await send([...packets, packets[2]]);
      await until(() => frames.length === 1);
      await send([packets[3], packets[0]]);
      await sleep(120);
      expect(frames).to.have.length(1);
      expect(incomplete).to.have.length(0);
      // Packets that make no event reach a worker thread's counters within its report interval.
      await until(() => receiver.stats.ignored === 3, 1000);
      expect(receiver.stats).to.include({ completed: 1, incomplete: 0 });
    });

    it('assembles extended-id (64-bit block id) streams', async () => {
      await start();
      const { data, packets } = block(0x1_0000_0002n, image(3), true);
      await send(packets);
      await until(() => frames.length === 1);
      expect(frames[0].blockId).to.equal(0x1_0000_0002n);
      expect(Buffer.from(frames[0].data).equals(Buffer.from(data))).to.equal(true);
    });

    it('stops asking once the device says the packet is gone', async () => {
      await start({
        frameTimeoutMs: 60,
        resendDelayMs: 2,
        requestResend: (id, first, last) => {
          resends.push([id, first, last]);
          const gone = Buffer.from(packets[first]);
          gone.writeUInt16BE(0x800c, 0);
          void send([gone.subarray(0, 8)]);
        },
      });
      const { packets } = block(40);
      await send(packets.filter((_, i) => i !== 1));
      await until(() => incomplete.length === 1);
      expect(resends).to.have.length(1);
    });

    it('counts malformed packets and keeps going', async () => {
      await start();
      const { packets } = block(50);
      await send([Uint8Array.from([0, 0, 0, 1, 3]), ...packets]);
      await until(() => frames.length === 1);
      expect(receiver.stats.malformed).to.equal(1);
    });

    it('open() rejects with the reason when the port is taken', async () => {
      const taken = sender.address().port;
      const r = createReceiver({ host: '127.0.0.1', port: taken });
      let failure: unknown;
      await r.open().catch((err: unknown) => (failure = err));
      expect(String(failure)).to.match(/EADDRINUSE/);
      await r.close();
    });

    it('close() resolves, is idempotent, clears its timers and stops counting', async () => {
      await start({ frameTimeoutMs: 150 });
      const port = receiver.port;
      await send(block(60).packets.slice(0, 3));
      await sleep(30);
      await receiver.close();
      await receiver.close();
      const before = receiver.stats;
      expect(before.packetsReceived).to.equal(3);
      await new Promise<void>((r) =>
        sender.send(block(61).packets[0], port, '127.0.0.1', () => r()),
      );
      await sleep(250);
      expect(receiver.stats).to.deep.equal(before);
      expect(incomplete).to.have.length(0);
      expect(frames).to.have.length(0);
    });
  });

describe('GVSP receiver after a stalled event loop', () => {
  it('reads what queued up during the stall before asking for anything again', async () => {
    const resends: number[][] = [];
    const frames: GvspFrame[] = [];
    const receiver = new GvspReceiver({
      host: '127.0.0.1',
      // Ticks every 5 ms; a silent tail is asked for after 40 ms.
      resendDelayMs: 10,
      requestResend: (_id, first, last) => resends.push([first, last]),
    });
    receiver.on('frame', (f) => frames.push(f));
    await receiver.open();
    const { data, packets } = block(70);
    // Another thread sends the rest of the block while this one is stalled.
    const sender = new Worker(
      `const { parentPort, workerData: w } = require('node:worker_threads');
       const s = require('node:dgram').createSocket('udp4');
       parentPort.on('message', (from) => {
         parentPort.postMessage('stall');
         setTimeout(() => {
           for (const p of w.packets.slice(from)) s.send(p, w.port, '127.0.0.1');
         }, 10);
       });`,
      { eval: true, workerData: { packets, port: receiver.port } },
    );
    const first = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => sender.once('online', () => r()));
      for (const p of packets.slice(0, 3))
        await new Promise<void>((r) => first.send(p, receiver.port, '127.0.0.1', () => r()));
      while (receiver.stats.packetsReceived < 3) await sleep(1);
      // A tick notes the packets; the silence stays under the tail delay.
      await sleep(15);
      // The stall happens in an I/O callback, as a GC pause or a busy handler would: the next
      // loop turn runs timers before it reads the socket.
      sender.once('message', () => {
        const until = performance.now() + 100;
        while (performance.now() < until) {
          // stalled: the receiver's timer and socket both wait
        }
      });
      sender.postMessage(3);
      const end = Date.now() + 1000;
      while (frames.length === 0 && Date.now() < end) await sleep(2);
      expect(frames).to.have.length(1);
      expect(Buffer.from(frames[0].data).equals(Buffer.from(data))).to.equal(true);
      expect(resends).to.deep.equal([]);
    } finally {
      first.close();
      await sender.terminate();
      await receiver.close();
    }
  });
});
