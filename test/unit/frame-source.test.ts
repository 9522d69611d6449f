import { expect } from 'chai';
import sinon from 'sinon';
import { FrameSource } from '../../src/core/frame-source.js';
import { createLogger } from '../../src/core/logger.js';
import { FakeDetector } from '../helpers/fake-detector.js';

describe('FrameSource', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => clock.restore());

  it('starts acquisition once for many readers and stops it after the grace period', async () => {
    const d = new FakeDetector();
    const source = new FrameSource(d, createLogger('silent'), { graceMs: 500 });
    const [a, b] = await Promise.all([source.subscribe(), source.subscribe()]);
    expect(d.starts).to.equal(1);
    expect(d.state).to.equal('running');
    a.unsubscribe();
    await clock.tickAsync(1000);
    expect(d.stops).to.equal(0);
    b.unsubscribe();
    await clock.tickAsync(499);
    expect(d.stops).to.equal(0);
    await clock.tickAsync(1);
    expect(d.stops).to.equal(1);
    expect(d.state).to.equal('idle');
  });

  it('a reader that comes back within the grace period keeps acquisition running', async () => {
    const d = new FakeDetector();
    const source = new FrameSource(d, createLogger('silent'), { graceMs: 500 });
    (await source.subscribe()).unsubscribe();
    await clock.tickAsync(200);
    await source.subscribe();
    await clock.tickAsync(1000);
    expect(d.stops).to.equal(0);
    expect(d.starts).to.equal(1);
  });

  it('a slow reader drops its own old frames (counted) and does not hold back a fast one', async () => {
    const d = new FakeDetector();
    const source = new FrameSource(d, createLogger('silent'));
    const slow = await source.subscribe(1);
    const fast = await source.subscribe(1);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      d.push();
      seen.push((await fast.queue.next())!.frameNumber);
    }
    expect(seen).to.deep.equal([0, 1, 2, 3, 4]);
    expect(fast.queue.dropped).to.equal(0);
    expect(slow.queue.dropped).to.equal(4);
    expect((await slow.queue.next())!.frameNumber).to.equal(4);
  });

  it('a failing start rejects the subscriber and leaves no reader behind', async () => {
    const d = new FakeDetector();
    d.failStart = new Error('device busy');
    const source = new FrameSource(d, createLogger('silent'));
    let error: Error | undefined;
    await source.subscribe().catch((e: Error) => (error = e));
    expect(error?.message).to.equal('device busy');
    expect(source.readerCount).to.equal(0);
    expect(d.state).to.equal('error');
    d.failStart = undefined;
    await source.subscribe();
    expect(d.state).to.equal('running');
  });

  it('close stops and closes the detector', async () => {
    const d = new FakeDetector();
    const source = new FrameSource(d, createLogger('silent'));
    const s = await source.subscribe();
    await source.close();
    expect(d.state).to.equal('closed');
    expect(await s.queue.next()).to.equal(undefined);
  });
});
