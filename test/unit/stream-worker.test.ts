import { expect } from 'chai';
import { FrameSource } from '../../src/core/frame-source.js';
import type { Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import { StreamParams } from '../../src/core/stream-params.js';
import {
  StreamWorker,
  type EncodedUnit,
  type StreamSession,
} from '../../src/core/stream-worker.js';
import { FakeDetector } from '../helpers/fake-detector.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Encodes to the frame number, taking `encodeMs`. */
class TestWorker extends StreamWorker<StreamParams, number> {
  encodeMs = 0;
  encoded: number[] = [];
  failNext = false;
  protected async encode(frame: Frame): Promise<EncodedUnit<number>> {
    if (this.encodeMs) await sleep(this.encodeMs);
    if (this.failNext) {
      this.failNext = false;
      throw new Error('encoder broke');
    }
    this.encoded.push(frame.frameNumber);
    return {
      data: frame.frameNumber,
      frameNumber: frame.frameNumber,
      timestamp: 0n,
      width: 4,
      height: 2,
    };
  }
}

class TestSession implements StreamSession<number> {
  readonly remote = 'test';
  framesSent = 0;
  framesSkipped = 0;
  received: number[] = [];
  closed = false;
  throwOnSend = false;
  constructor(readonly id: string) {}
  send(unit: EncodedUnit<number>): void {
    if (this.throwOnSend) throw new Error('socket gone');
    this.received.push(unit.data);
    this.framesSent++;
  }
  close(): void {
    this.closed = true;
  }
}

function params(overrides: Partial<StreamParams> = {}): StreamParams {
  return Object.assign(new StreamParams(), overrides);
}

describe('StreamWorker', () => {
  let detector: FakeDetector;
  let worker: TestWorker;

  async function startWorker(p: StreamParams): Promise<TestWorker> {
    detector = new FakeDetector();
    const source = new FrameSource(detector, createLogger('silent'), { graceMs: 0 });
    worker = new TestWorker({
      detectorName: 'Fake',
      protocol: 'test',
      params: p,
      source,
      logger: createLogger('silent'),
    });
    await worker.start();
    return worker;
  }

  afterEach(async () => {
    await worker?.stop();
  });

  it('encodes once per frame and gives the same unit to every session', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    const a = new TestSession('a');
    const b = new TestSession('b');
    worker.addSession(a);
    worker.addSession(b);
    for (let i = 0; i < 3; i++) {
      detector.push();
      await sleep(5);
    }
    expect(worker.encoded).to.deep.equal([0, 1, 2]);
    expect(a.received).to.deep.equal([0, 1, 2]);
    expect(b.received).to.deep.equal([0, 1, 2]);
    expect(worker.status().framesSent).to.equal(6);
  });

  it('does not encode while nobody watches', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    detector.push();
    await sleep(5);
    expect(worker.encoded).to.deep.equal([]);
  });

  it('throttles to throttle_ms, takes the newest frame and does not count throttled frames as dropped', async () => {
    await startWorker(params({ throttle_ms: 60 }));
    worker.addSession(new TestSession('a'));
    for (let i = 0; i < 12; i++) {
      detector.push();
      await sleep(10);
    }
    await sleep(70);
    // 120 ms of frames at one per 10 ms with at most one encode per 60 ms.
    expect(worker.encoded.length).to.be.within(2, 4);
    expect(worker.encoded[0]).to.equal(0);
    expect(worker.encoded[worker.encoded.length - 1]).to.equal(11);
    expect(worker.status().framesDropped).to.equal(0);
  });

  it('a slow encoder drops frames (counted) instead of queueing them', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    worker.encodeMs = 40;
    worker.addSession(new TestSession('a'));
    for (let i = 0; i < 10; i++) {
      detector.push();
      await sleep(8);
    }
    await sleep(100);
    const dropped = worker.status().framesDropped;
    expect(worker.encoded.length + dropped).to.equal(10);
    expect(dropped).to.be.greaterThan(3);
    expect(worker.encoded[worker.encoded.length - 1]).to.equal(9);
  });

  it('an encode error is counted and the stream goes on', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    const s = new TestSession('a');
    worker.addSession(s);
    worker.failNext = true;
    detector.push();
    await sleep(5);
    detector.push();
    await sleep(5);
    expect(worker.encodeErrors).to.equal(1);
    expect(s.received).to.deep.equal([1]);
  });

  it('a session that throws is closed and removed; the others go on', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    const bad = new TestSession('bad');
    const good = new TestSession('good');
    bad.throwOnSend = true;
    worker.addSession(bad);
    worker.addSession(good);
    detector.push();
    await sleep(5);
    detector.push();
    await sleep(5);
    expect(bad.closed).to.equal(true);
    expect([...worker.sessions]).to.deep.equal([good]);
    expect(good.received).to.deep.equal([0, 1]);
  });

  it('nextUnit resolves with the next encoded unit even without sessions, and times out otherwise', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    const next = worker.nextUnit(1000);
    detector.push();
    expect((await next).frameNumber).to.equal(0);
    let message = '';
    await worker.nextUnit(30).catch((e: Error) => (message = e.message));
    expect(message).to.equal("no frame from detector 'Fake' within 30 ms (state: running)");
  });

  it('tells the idle listener when the last session leaves, and stop closes sessions', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    let idle = 0;
    worker.onIdle(() => idle++);
    const a = new TestSession('a');
    const b = new TestSession('b');
    worker.addSession(a);
    worker.addSession(b);
    worker.removeSession(a);
    expect(idle).to.equal(0);
    worker.removeSession(b);
    expect(idle).to.equal(1);
    const c = new TestSession('c');
    worker.addSession(c);
    await worker.stop();
    expect(c.closed).to.equal(true);
    await sleep(5);
    expect(detector.state).to.equal('idle');
  });

  it('updateParams takes effect on the next frame', async () => {
    await startWorker(params({ throttle_ms: 0 }));
    worker.updateParams(params({ throttle_ms: 1000 }));
    expect(worker.params.throttle_ms).to.equal(1000);
  });
});
