import { expect } from 'chai';
import { FrameSource } from '../../src/core/frame-source.js';
import { BucketCounts, StreamTotals } from '../../src/core/stream-totals.js';
import { nowNs, type Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import { StreamParams } from '../../src/core/stream-params.js';
import { BaseSession } from '../../src/core/stream-session.js';
import { StreamWorker, type EncodedUnit } from '../../src/core/stream-worker.js';
import { FakeDetector } from '../helpers/fake-detector.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Encodes to the frame number after `encodeMs`, stamped as captured `ageMs` ago (0: no timestamp). */
class TimedWorker extends StreamWorker<StreamParams, number> {
  encodeMs = 0;
  ageMs = 0;
  protected async encode(frame: Frame): Promise<EncodedUnit<number>> {
    if (this.encodeMs) await sleep(this.encodeMs);
    const timestamp = this.ageMs ? nowNs() - BigInt(this.ageMs * 1e6) : 0n;
    return {
      data: frame.frameNumber,
      frameNumber: frame.frameNumber,
      timestamp,
      width: 4,
      height: 2,
    };
  }
}

/** A session that "sends" 100 bytes per unit, or skips when `busy`. */
class ByteSession extends BaseSession<number> {
  busy = false;
  constructor(onClosed: (s: BaseSession<number>) => void) {
    super('bytes', 'test', onClosed);
  }
  protected deliver(): void {
    if (this.busy) {
      this.framesSkipped++;
      return;
    }
    this.bytesSent += 100;
    this.framesSent++;
  }
  protected release(): void {}
}

describe('metrics: BucketCounts and StreamTotals', () => {
  it('puts an observation in the first bucket whose bound it does not exceed', () => {
    const h = new BucketCounts([0.1, 1]);
    for (const v of [0, 0.1, 0.10001, 1, 5, NaN, Infinity]) h.observe(v);
    expect(h.counts).to.deep.equal([2, 2, 1]);
    expect(h.count).to.equal(5);
    expect(h.sum).to.be.closeTo(6.20001, 1e-9);
  });

  it('adds totals field by field, histograms included', () => {
    const a = new StreamTotals();
    a.framesSent = 3;
    a.bytesSent = 10;
    a.encodeSeconds.observe(0.002);
    const b = new StreamTotals();
    b.framesSent = 4;
    b.framesDropped = 2;
    b.encodeSeconds.observe(0.002);
    b.latencySeconds.observe(0.03);
    a.add(b);
    expect(a).to.include({ framesSent: 7, bytesSent: 10, framesDropped: 2 });
    expect(a.encodeSeconds.count).to.equal(2);
    expect(a.latencySeconds.count).to.equal(1);
    expect(b.framesSent, 'the added one is unchanged').to.equal(4);
  });
});

describe('metrics: what a StreamWorker counts', () => {
  let detector: FakeDetector;
  let source: FrameSource;
  const workers: TimedWorker[] = [];

  beforeEach(() => {
    detector = new FakeDetector();
    source = new FrameSource(detector, createLogger('silent'), { graceMs: 0 });
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    await source.close();
  });

  async function startWorker(): Promise<TimedWorker> {
    const worker = new TimedWorker({
      detectorName: 'Fake',
      protocol: 'test',
      params: Object.assign(new StreamParams(), { throttle_ms: 0 }),
      source,
      logger: createLogger('silent'),
    });
    workers.push(worker);
    await worker.start();
    return worker;
  }
  const session = (worker: TimedWorker): ByteSession => {
    const s = new ByteSession((closed) => worker.removeSession(closed));
    worker.addSession(s);
    return s;
  };
  const frames = async (n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      detector.push();
      await sleep(5);
    }
  };

  it('counts bytes per session and per stream, and keeps the counts of a session that left', async () => {
    const worker = await startWorker();
    const a = session(worker);
    const b = session(worker);
    await frames(2);
    b.busy = true;
    await frames(1);
    expect(worker.status()).to.include({ framesSent: 5, framesSkipped: 1, bytesSent: 500 });
    expect(worker.status().clients.map((c) => c.bytesSent)).to.deep.equal([300, 200]);
    a.close();
    // getActiveStreams lists the connected clients; the totals keep what the others got.
    expect(worker.status()).to.include({ framesSent: 2, bytesSent: 200 });
    expect(worker.totals()).to.include({
      framesEncoded: 3,
      framesSent: 5,
      framesSkipped: 1,
      bytesSent: 500,
    });
    expect(worker.totals().encodeSeconds.count).to.equal(3);
  });

  it('times encodes, and capture→send only for units with a capture time', async () => {
    const worker = await startWorker();
    session(worker);
    worker.encodeMs = 20;
    await frames(1);
    await sleep(30);
    const encode = worker.totals().encodeSeconds;
    expect(encode.count).to.equal(1);
    expect(encode.sum).to.be.within(0.015, 1);
    expect(worker.totals().latencySeconds.count, 'FakeDetector frames have no timestamp').to.equal(
      0,
    );
    worker.encodeMs = 0;
    worker.ageMs = 50;
    await frames(1);
    const latency = worker.totals().latencySeconds;
    expect(latency.count).to.equal(1);
    expect(latency.sum).to.be.within(0.045, 1);
  });

  it('hands its totals to the FrameSource when it stops, so a restarted stream counts on', async () => {
    const first = await startWorker();
    session(first);
    session(first);
    await frames(2);
    await first.stop();
    expect(source.stoppedStreams.get('test')).to.include({
      framesEncoded: 2,
      framesSent: 4,
      bytesSent: 400,
    });
    const second = await startWorker();
    session(second);
    await frames(1);
    await second.stop();
    const totals = source.stoppedStreams.get('test');
    expect(totals).to.include({ framesEncoded: 3, framesSent: 5, bytesSent: 500 });
    expect(totals?.encodeSeconds.count).to.equal(3);
    expect([...source.stoppedStreams.keys()]).to.deep.equal(['test']);
  });

  it('a stream that never started hands nothing over', async () => {
    detector.failStart = new Error('no camera');
    const worker = new TimedWorker({
      detectorName: 'Fake',
      protocol: 'test',
      params: new StreamParams(),
      source,
      logger: createLogger('silent'),
    });
    await worker.start().catch(() => undefined);
    await worker.stop();
    expect(source.stoppedStreams.size).to.equal(0);
  });
});
