import { expect } from 'chai';
import type { EncodedUnit } from '../../src/core/stream-worker.js';
import { VideoSink } from '../../src/protocols/webrtc/video-sink.js';
import type { VideoUnit } from '../../src/protocols/webrtc/video-unit.js';

/** A stream's unit for frame `n` with an H.264 access unit of one byte `n`. */
function unit(
  n: number,
  keyframe: boolean,
  codec: 'H264' | 'VP8' = 'H264',
): EncodedUnit<VideoUnit> {
  return {
    data: {
      video: { [codec]: { codec, keyframe, packets: [], accessUnit: new Uint8Array([n]) } },
      metadata: '{}',
    },
    frameNumber: n,
    timestamp: BigInt(n) * 1_000_000n,
    width: 64,
    height: 48,
  };
}

describe('VideoSink (a WebRTC stream consumer of access units)', () => {
  let requests: boolean[];
  let closed: number;
  const sink = (capacity = 3) =>
    new VideoSink(
      { codec: 'H264', label: 'test', capacity },
      { requestKeyframe: (_c, force) => requests.push(force), closed: () => closed++ },
    );

  beforeEach(() => {
    requests = [];
    closed = 0;
  });

  it('starts at a keyframe: earlier frames are neither delivered nor counted as skipped', async () => {
    const s = sink();
    s.send(unit(1, false));
    s.send(unit(2, false));
    s.send(unit(3, true));
    s.send(unit(4, false));
    const first = await s.next();
    expect(first).to.include({ frameNumber: 3, keyframe: true, codec: 'H264', width: 64 });
    expect(first!.timestamp).to.equal(3_000_000n);
    expect([...first!.data]).to.deep.equal([3]);
    expect((await s.next())?.frameNumber).to.equal(4);
    expect(s.framesSent).to.equal(2);
    expect(s.framesSkipped).to.equal(0);
    expect(s.bytesSent).to.equal(2);
    expect(
      requests,
      'keyframes asked for while waiting (rate-limited by the stream)',
    ).to.deep.equal([false, false]);
  });

  it('a full queue skips frames until the next keyframe, and asks for one', async () => {
    const s = sink(3);
    for (const [n, key] of [
      [1, true],
      [2, false],
      [3, false],
      [4, false], // full: skipped
      [5, false], // waiting for a keyframe: skipped
    ] as const) {
      s.send(unit(n, key));
      if (n === 4) expect(requests).to.deep.equal([false]);
    }
    expect((await s.next())?.frameNumber).to.equal(1);
    expect((await s.next())?.frameNumber).to.equal(2);
    s.send(unit(6, false)); // room again, but not a keyframe: skipped
    s.send(unit(7, true));
    s.send(unit(8, false));
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await s.next())?.frameNumber);
    expect(got).to.deep.equal([3, 7, 8]);
    expect(s.framesSkipped).to.equal(3);
  });

  it('ignores units without its codec (the encoder produced nothing for it)', () => {
    const s = sink();
    s.send(unit(1, true, 'VP8'));
    expect(s.framesSent).to.equal(0);
    expect(s.framesSkipped).to.equal(0);
  });

  it('after close the queued units are still read, then undefined; the stream is told once', async () => {
    const s = sink();
    s.send(unit(1, true));
    s.send(unit(2, false));
    s.close('recording stopped');
    s.close('again');
    s.send(unit(3, false));
    expect(s.reason).to.equal('recording stopped');
    expect(closed).to.equal(1);
    expect((await s.next())?.frameNumber).to.equal(1);
    expect((await s.next())?.frameNumber).to.equal(2);
    expect(await s.next()).to.equal(undefined);
  });

  it('a waiting reader gets the next unit, or undefined when the sink closes', async () => {
    const s = sink();
    const pending = s.next();
    s.send(unit(1, true));
    expect((await pending)?.frameNumber).to.equal(1);
    const waiting = s.next();
    expect(() => s.next()).to.throw(/one reader/);
    s.close('stream stopped');
    expect(await waiting).to.equal(undefined);
  });

  it('refuses a capacity below 1', () => {
    expect(() => sink(0)).to.throw(RangeError);
  });
});
