import { expect } from 'chai';
import { FrameSource } from '../../src/core/frame-source.js';
import type { Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import { StreamParams } from '../../src/core/stream-params.js';
import { BaseSession } from '../../src/core/stream-session.js';
import {
  MAX_FRAMES_IN_FLIGHT,
  StreamWorker,
  type EncodedUnit,
  type StageMarks,
  type WorkerContext,
} from '../../src/core/stream-worker.js';
import { FakeDetector } from '../helpers/fake-detector.js';
import { waitFor } from '../helpers/server.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Each frame's encode waits until the test opens its gate; `convertLate` frames mark `convert`
 * only when the gate opens (a long conversion), the others at once.
 */
class GatedWorker extends StreamWorker<StreamParams, number> {
  protected override readonly framesInFlight: number;
  readonly started: number[] = [];
  active = 0;
  mostActive = 0;
  convertLate = new Set<number>();
  private readonly gates = new Map<number, () => void>();

  constructor(context: WorkerContext<StreamParams>, framesInFlight: number) {
    super(context);
    this.framesInFlight = framesInFlight;
  }

  /** Lets frame `n`'s encode finish (waits until it has started). */
  async open(n: number): Promise<void> {
    await waitFor(() => this.gates.has(n));
    this.gates.get(n)!();
  }

  protected async encode(
    frame: Frame,
    _p: StreamParams,
    marks: StageMarks,
  ): Promise<EncodedUnit<number>> {
    const n = frame.frameNumber;
    this.started.push(n);
    this.mostActive = Math.max(this.mostActive, ++this.active);
    if (!this.convertLate.has(n)) marks.mark('convert');
    await new Promise<void>((resolve) => this.gates.set(n, resolve));
    if (this.convertLate.has(n)) marks.mark('convert');
    this.active--;
    return { data: n, frameNumber: n, timestamp: 0n, width: 4, height: 2 };
  }
}

/** Keeps the frame numbers it was sent, in order. */
class RecordingSession extends BaseSession<number> {
  readonly got: number[] = [];
  constructor(onClosed: (s: BaseSession<number>) => void) {
    super('record', 'test', onClosed);
  }
  protected deliver(unit: EncodedUnit<number>): void {
    this.got.push(unit.data);
    this.framesSent++;
  }
  protected release(): void {}
}

describe('StreamWorker with frames in flight', () => {
  let detector: FakeDetector;
  let source: FrameSource;
  let worker: GatedWorker | undefined;

  const startWorker = async (framesInFlight: number): Promise<[GatedWorker, RecordingSession]> => {
    const w = new GatedWorker(
      {
        detectorName: 'Fake',
        protocol: 'test',
        params: Object.assign(new StreamParams(), { throttle_ms: 0 }),
        source,
        logger: createLogger('silent'),
      },
      framesInFlight,
    );
    worker = w;
    await w.start();
    const session = new RecordingSession((s) => w.removeSession(s));
    w.addSession(session);
    return [w, session];
  };

  beforeEach(() => {
    detector = new FakeDetector();
    source = new FrameSource(detector, createLogger('silent'), { graceMs: 0 });
  });
  afterEach(async () => {
    // Open every gate so that stop() does not wait on a frame forever.
    const w = worker;
    if (w) {
      const stopping = w.stop();
      for (const n of w.started) await w.open(n);
      await stopping;
    }
    worker = undefined;
    await source.close();
  });

  it('encodes the next frame while the one before is still in its encoder, never more than framesInFlight', async () => {
    const [w] = await startWorker(2);
    detector.push();
    await waitFor(() => w.started.length === 1);
    detector.push();
    await waitFor(() => w.started.length === 2);
    detector.push();
    await sleep(30);
    expect(w.started, 'the third waits for a free slot').to.deep.equal([0, 1]);
    expect(w.mostActive).to.equal(2);
    await w.open(0);
    await waitFor(() => w.started.length === 3);
    expect(w.mostActive).to.equal(2);
  });

  it('hands units over in frame order when a later frame finishes first', async () => {
    const [w, session] = await startWorker(2);
    detector.push();
    await waitFor(() => w.started.length === 1);
    detector.push();
    await waitFor(() => w.started.length === 2);
    await w.open(1);
    await sleep(30);
    expect(session.got, 'frame 1 waits for frame 0').to.deep.equal([]);
    expect(w.framesEncoded).to.equal(0);
    await w.open(0);
    await waitFor(() => session.got.length === 2);
    expect(session.got).to.deep.equal([0, 1]);
    expect(w.framesEncoded).to.equal(2);
  });

  it('with framesInFlight 1 (the default) a frame waits until the one before was handed over', async () => {
    const [w, session] = await startWorker(1);
    detector.push();
    await waitFor(() => w.started.length === 1);
    detector.push();
    await sleep(30);
    expect(w.started).to.deep.equal([0]);
    await w.open(0);
    await waitFor(() => w.started.length === 2);
    await w.open(1);
    await waitFor(() => session.got.length === 2);
    expect(session.got).to.deep.equal([0, 1]);
    expect(w.mostActive).to.equal(1);
  });

  it("times each frame's stages on its own clock while frames overlap", async () => {
    const [w, session] = await startWorker(2);
    w.convertLate.add(0);
    detector.push();
    await waitFor(() => w.started.length === 1);
    await sleep(60);
    detector.push();
    await waitFor(() => w.started.length === 2);
    await sleep(60);
    // Frame 0 converts for ~120 ms from its own start; frame 1 marks at once.
    await w.open(0);
    await w.open(1);
    await waitFor(() => session.got.length === 2);
    const convert = w.status().latencyMs.convert!;
    expect(convert.p50, 'frame 1').to.be.below(20);
    expect(convert.p95, 'frame 0, from its own start (not frame 1 start)').to.be.at.least(110);
  });

  it('caps framesInFlight at MAX_FRAMES_IN_FLIGHT (the buffer rings are sized for it)', async () => {
    const [w] = await startWorker(5);
    for (let i = 0; i < 4; i++) detector.push();
    await waitFor(() => w.started.length === MAX_FRAMES_IN_FLIGHT);
    await sleep(30);
    detector.push();
    await sleep(30);
    expect(w.mostActive).to.equal(MAX_FRAMES_IN_FLIGHT);
  });
});
