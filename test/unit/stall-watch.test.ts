import { expect } from 'chai';
import { MIN_STALL_TIMEOUT_MS, StallWatch } from '../../src/core/stall-watch.js';

describe('StallWatch', () => {
  let now = 0;
  const clock = (): number => now;

  beforeEach(() => {
    now = 1000;
  });

  it('nothing is stalled before acquisition starts or after it stops', () => {
    const watch = new StallWatch(0, clock);
    now += 60_000;
    expect(watch.stalledForMs).to.equal(undefined);
    watch.started();
    watch.stopped();
    now += 60_000;
    expect(watch.stalledForMs).to.equal(undefined);
  });

  it('a start without any frame is a stall after the minimum timeout', () => {
    const watch = new StallWatch(0, clock);
    watch.started();
    now += MIN_STALL_TIMEOUT_MS - 1;
    expect(watch.stalledForMs).to.equal(undefined);
    now += 2;
    expect(watch.stalledForMs).to.equal(MIN_STALL_TIMEOUT_MS + 1);
  });

  it('the automatic timeout is five measured frame periods, at least the minimum', () => {
    const watch = new StallWatch(0, clock);
    watch.started();
    for (let i = 0; i < 10; i++) {
      now += 33;
      watch.frame();
    }
    expect(watch.timeoutMs).to.equal(MIN_STALL_TIMEOUT_MS);
    for (let i = 0; i < 30; i++) {
      now += 1000; // one-second exposures
      watch.frame();
    }
    expect(watch.timeoutMs).to.be.closeTo(5000, 50);
    now += 4000;
    expect(watch.stalledForMs, 'a slow camera is not stalled for being slow').to.equal(undefined);
    now += 1100;
    expect(watch.stalledForMs).to.be.closeTo(5100, 1);
  });

  it('a fixed timeout wins, and a frame ends the stall', () => {
    const watch = new StallWatch(500, clock);
    watch.started();
    watch.frame();
    now += 501;
    expect(watch.stalledForMs).to.equal(501);
    watch.frame();
    expect(watch.stalledForMs).to.equal(undefined);
  });
});
