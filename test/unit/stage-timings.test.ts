import { expect } from 'chai';
import { FrameSource } from '../../src/core/frame-source.js';
import type { Frame } from '../../src/core/frame.js';
import { createLogger } from '../../src/core/logger.js';
import {
  STAGES,
  SampleRing,
  StageTimings,
  nearestRank,
  type Stage,
  type StageSink,
} from '../../src/core/stage-timings.js';
import { StreamParams } from '../../src/core/stream-params.js';
import { BaseSession } from '../../src/core/stream-session.js';
import { StreamTotals } from '../../src/core/stream-totals.js';
import { StreamWorker, type EncodedUnit } from '../../src/core/stream-worker.js';
import { FakeDetector } from '../helpers/fake-detector.js';
import { waitFor } from '../helpers/server.js';

/** A clock the test moves by hand, in ms since the epoch. */
class ManualClock {
  t = 1_700_000_000_000;
  readonly now = (): number => this.t;
}

/** A sink that keeps every observation per stage, in seconds. */
function recordingSink(): { sink: StageSink; seen: Map<Stage, number[]> } {
  const seen = new Map<Stage, number[]>();
  const observer = (stage: Stage) => ({
    observe(seconds: number): void {
      seen.set(stage, [...(seen.get(stage) ?? []), seconds]);
    },
  });
  const sink = Object.fromEntries(STAGES.map((stage) => [stage, observer(stage)])) as StageSink;
  return { sink, seen };
}

describe('stage timings: percentiles', () => {
  it('takes the nearest rank: always one of the values', () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(nearestRank(sorted, 10, 50)).to.equal(5);
    expect(nearestRank(sorted, 10, 95)).to.equal(10);
    expect(nearestRank(sorted, 10, 90)).to.equal(9);
    expect(nearestRank(sorted, 1, 50)).to.equal(1);
    expect(nearestRank(sorted, 4, 50)).to.equal(2);
    expect(nearestRank(sorted, 4, 95)).to.equal(4);
    expect(Number.isNaN(nearestRank(sorted, 0, 50))).to.equal(true);
    const twenty = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(nearestRank(twenty, 20, 95)).to.equal(19);
  });

  it('reads p50 and p95 of the samples in any order, ignoring non-finite ones', () => {
    const ring = new SampleRing(16, 5000);
    for (const v of [7, 3, 10, 1, 9, 2, 8, 5, 4, 6, NaN, Infinity]) ring.add(v, 1000);
    expect(ring.length).to.equal(10);
    expect(ring.percentiles(1000)).to.deep.equal({ p50: 5, p95: 10 });
  });

  it('keeps only the last `capacity` samples', () => {
    const ring = new SampleRing(4, 5000);
    for (const v of [100, 200, 1, 2, 3, 4]) ring.add(v, 0);
    expect(ring.length).to.equal(4);
    expect(ring.percentiles(0)).to.deep.equal({ p50: 2, p95: 4 });
  });

  it('counts only the samples of the window before the reading', () => {
    const ring = new SampleRing(8, 5000);
    ring.add(1000, 0);
    ring.add(900, 999);
    ring.add(1, 1000);
    ring.add(3, 5000);
    ring.add(2, 6000);
    expect(ring.percentiles(6000)).to.deep.equal({ p50: 2, p95: 3 });
    expect(ring.percentiles(20_000)).to.equal(undefined);
    expect(new SampleRing(2).percentiles(0)).to.equal(undefined);
  });

  it('refuses a ring without room', () => {
    expect(() => new SampleRing(0)).to.throw(RangeError);
  });
});

describe('stage timings: one frame through the stages', () => {
  it('splits a marked encode into convert, encode and send, and adds up to the total', () => {
    const clock = new ManualClock();
    const { sink, seen } = recordingSink();
    const timings = new StageTimings(sink, 8, 5000, clock.now);
    const capture = clock.t;
    clock.t += 4; // readout and transfer
    const received = clock.t;
    clock.t += 3; // 2 ms of it in the throttle pause
    timings.begin(received, 2);
    clock.t += 5;
    timings.mark('convert');
    clock.t += 10;
    timings.mark('encode');
    clock.t += 1;
    const encodedAt = clock.t;
    clock.t += 2;
    const total = timings.finish(capture, capture, encodedAt);
    expect(total).to.equal(25);
    const ms = (stage: Stage) => seen.get(stage)?.map((s) => Math.round(s * 1e6) / 1e3);
    expect(ms('capture_to_source')).to.deep.equal([4]);
    expect(ms('queue_wait')).to.deep.equal([1]);
    expect(ms('throttle')).to.deep.equal([2]);
    expect(ms('convert')).to.deep.equal([5]);
    expect(ms('encode')).to.deep.equal([10]);
    expect(ms('send'), 'packetizing after the mark, and the hand-over').to.deep.equal([3]);
    expect(ms('total')).to.deep.equal([25]);
    expect(timings.latencies()).to.deep.equal({
      capture_to_source: { p50: 4, p95: 4 },
      queue_wait: { p50: 1, p95: 1 },
      throttle: { p50: 2, p95: 2 },
      convert: { p50: 5, p95: 5 },
      encode: { p50: 10, p95: 10 },
      send: { p50: 3, p95: 3 },
      total: { p50: 25, p95: 25 },
    });
  });

  it('makes all of an unmarked encode() the encode stage and leaves convert out', () => {
    const clock = new ManualClock();
    const timings = new StageTimings(undefined, 8, 5000, clock.now);
    const capture = clock.t;
    timings.begin(clock.t, 0);
    clock.t += 7;
    const encodedAt = clock.t;
    clock.t += 1;
    timings.finish(capture, capture, encodedAt);
    const l = timings.latencies();
    expect(l.convert).to.equal(undefined);
    expect(l.encode).to.deep.equal({ p50: 7, p95: 7 });
    expect(l.send).to.deep.equal({ p50: 1, p95: 1 });
    expect(l.total).to.deep.equal({ p50: 8, p95: 8 });
  });

  it('times no capture stage for a frame without capture time, no queue wait without receipt', () => {
    const clock = new ManualClock();
    const { sink, seen } = recordingSink();
    const timings = new StageTimings(sink, 8, 5000, clock.now);
    timings.begin(NaN, 0);
    clock.t += 2;
    expect(Number.isNaN(timings.finish(NaN, NaN, clock.t))).to.equal(true);
    expect([...seen.keys()].sort()).to.deep.equal(['encode', 'send', 'throttle']);
    expect(Object.keys(timings.latencies()).sort()).to.deep.equal(['encode', 'send', 'throttle']);
  });

  it('clamps a capture time from a clock ahead of ours to 0 instead of a negative stage', () => {
    const clock = new ManualClock();
    const timings = new StageTimings(undefined, 8, 5000, clock.now);
    const future = clock.t + 1000;
    timings.begin(clock.t, 0);
    timings.finish(future, future, clock.t);
    expect(timings.latencies().capture_to_source).to.deep.equal({ p50: 0, p95: 0 });
    expect(timings.latencies().total).to.deep.equal({ p50: 0, p95: 0 });
  });

  it('forgets the marks of the previous frame', () => {
    const clock = new ManualClock();
    const timings = new StageTimings(undefined, 8, 5000, clock.now);
    timings.begin(clock.t, 0);
    clock.t += 3;
    timings.mark('convert');
    timings.finish(NaN, NaN, clock.t);
    timings.begin(clock.t, 0);
    clock.t += 3;
    timings.finish(NaN, NaN, clock.t);
    const l = timings.latencies();
    expect(l.convert, 'only the first frame had a conversion').to.deep.equal({ p50: 3, p95: 3 });
    expect(l.encode).to.deep.equal({ p50: 0, p95: 3 });
  });

  it('keeps a histogram per stage in StreamTotals, added like the others', () => {
    const a = new StreamTotals();
    const b = new StreamTotals();
    a.stageSeconds.encode.observe(0.002);
    b.stageSeconds.encode.observe(0.003);
    b.stageSeconds.send.observe(0.0001);
    a.add(b);
    expect(Object.keys(a.stageSeconds)).to.deep.equal([...STAGES]);
    expect(a.stageSeconds.encode.count).to.equal(2);
    expect(a.stageSeconds.send.count).to.equal(1);
    expect(a.stageSeconds.convert.count).to.equal(0);
    expect(b.stageSeconds.encode.count, 'the added one is unchanged').to.equal(1);
  });
});

/** Marks a conversion (like toDisplay) when `convert`, stamps units as captured now. */
class MarkingWorker extends StreamWorker<StreamParams, number> {
  convert = true;
  protected async encode(frame: Frame): Promise<EncodedUnit<number>> {
    if (this.convert) this.stages.mark('convert');
    await Promise.resolve();
    return {
      data: frame.frameNumber,
      frameNumber: frame.frameNumber,
      timestamp: BigInt(Date.now()) * 1_000_000n,
      width: 4,
      height: 2,
    };
  }
}

class CountingSession extends BaseSession<number> {
  constructor(onClosed: (s: BaseSession<number>) => void) {
    super('count', 'test', onClosed);
  }
  protected deliver(): void {
    this.framesSent++;
  }
  protected release(): void {}
}

describe('stage timings: what a StreamWorker reports', () => {
  let detector: FakeDetector;
  let source: FrameSource;
  let worker: MarkingWorker;

  beforeEach(async () => {
    detector = new FakeDetector();
    source = new FrameSource(detector, createLogger('silent'), { graceMs: 0 });
    worker = new MarkingWorker({
      detectorName: 'Fake',
      protocol: 'test',
      params: Object.assign(new StreamParams(), { throttle_ms: 0 }),
      source,
      logger: createLogger('silent'),
    });
    await worker.start();
    worker.addSession(new CountingSession((s) => worker.removeSession(s)));
  });
  afterEach(async () => {
    await worker.stop();
    await source.close();
  });

  it('stamps each frame with the time its source received it', () => {
    const before = performance.timeOrigin + performance.now();
    const frame = detector.push();
    expect(frame.receivedAtMs).to.be.a('number').and.at.least(before);
  });

  it('lists the stages it saw in status(), p50 ≤ p95, and counts them for /metrics', async () => {
    for (let i = 0; i < 5; i++) {
      detector.push();
      await waitFor(() => worker.framesEncoded === i + 1);
    }
    const latency = worker.status().latencyMs;
    // FakeDetector frames carry no capture time: no capture_to_source; the units do: a total.
    expect(Object.keys(latency).sort()).to.deep.equal(
      ['convert', 'encode', 'queue_wait', 'send', 'throttle', 'total'].sort(),
    );
    for (const [stage, p] of Object.entries(latency)) {
      expect(p.p50, stage).to.be.at.least(0);
      expect(p.p50, stage).to.be.at.most(p.p95);
    }
    expect(latency.throttle).to.deep.equal({ p50: 0, p95: 0 });
    const totals = worker.totals();
    for (const stage of ['queue_wait', 'throttle', 'convert', 'encode', 'send', 'total'] as const)
      expect(totals.stageSeconds[stage].count, stage).to.equal(5);
    expect(totals.stageSeconds.capture_to_source.count).to.equal(0);
    expect(totals.latencySeconds.count).to.equal(5);
  });

  it('leaves convert out for a protocol that marks nothing', async () => {
    worker.convert = false;
    detector.push();
    await waitFor(() => worker.framesEncoded === 1);
    expect(worker.status().latencyMs.convert).to.equal(undefined);
    expect(worker.status().latencyMs.encode).to.have.keys('p50', 'p95');
  });
});
