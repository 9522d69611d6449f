import { expect } from 'chai';
import { FramePacer, pacingTolerance } from '../../src/core/frame-pacer.js';

/**
 * Runs a camera through a pacer the way a StreamWorker does: a frame waits for its window, frames
 * arriving meanwhile replace it (newest wins). Returns the taken frames' arrival times and waits.
 */
function simulate(
  arrivals: number[],
  throttleMs: number,
): { taken: number[]; waits: number[]; skipped: number } {
  const pacer = new FramePacer();
  const taken: number[] = [];
  const waits: number[] = [];
  let skipped = 0;
  let i = 0;
  while (i < arrivals.length) {
    let frame = arrivals[i++];
    const wait = Math.max(0, pacer.waitMs(frame, throttleMs));
    const takenAt = frame + wait;
    // Newer frames that arrive before the window opens replace the waiting one.
    while (i < arrivals.length && arrivals[i] <= takenAt && wait > 0) {
      frame = arrivals[i++];
      skipped++;
    }
    pacer.take(frame, throttleMs);
    taken.push(frame);
    waits.push(takenAt - frame);
  }
  return { taken, waits, skipped };
}

/** `n` arrivals every `periodMs`, each late by a deterministic jitter in [0, jitterMs). */
function camera(n: number, periodMs: number, jitterMs = 0): number[] {
  let x = 12345;
  return Array.from({ length: n }, (_, k) => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 1000 + k * periodMs + (x / 2 ** 31) * jitterMs;
  });
}

const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;

describe('FramePacer (throttle_ms)', () => {
  it('a 30 fps camera with timer jitter under throttle_ms 33 never waits and loses no frame', () => {
    const r = simulate(camera(600, 1000 / 30, 2), 33);
    expect(r.skipped).to.equal(0);
    expect(Math.max(...r.waits)).to.equal(0);
  });

  it('a 100 fps camera under throttle_ms 33 is thinned to about 30 fps, each frame waiting less than a camera period plus the tolerance', () => {
    const r = simulate(camera(1000, 10, 1), 33);
    const intervals = r.taken.slice(1).map((t, k) => t - r.taken[k]);
    expect(mean(intervals)).to.be.within(32.5, 34);
    expect(Math.max(...r.waits)).to.be.below(10 + pacingTolerance(33));
  });

  it('a camera slightly faster than the throttle (32 fps under 33 ms) keeps the throttle rate on average', () => {
    const r = simulate(camera(640, 1000 / 32), 33);
    const span = r.taken[r.taken.length - 1] - r.taken[0];
    expect(span / (r.taken.length - 1)).to.be.at.least(33 - 0.5);
  });

  it('after a pause the next frame is taken at once', () => {
    const pacer = new FramePacer();
    pacer.take(1000, 50);
    expect(pacer.waitMs(1010, 50)).to.be.above(0);
    expect(pacer.waitMs(1200, 50)).to.be.at.most(0);
    pacer.take(1200, 50);
    expect(pacer.waitMs(1200 + 50 - pacingTolerance(50), 50)).to.be.at.most(0);
  });

  it('throttle_ms 0 never waits; a shorter throttle applies to the next frame', () => {
    const free = new FramePacer();
    free.take(1000, 0);
    expect(free.waitMs(1000, 0)).to.equal(0);
    const pacer = new FramePacer();
    pacer.take(1000, 1000);
    expect(pacer.waitMs(1010, 1000)).to.be.above(900);
    expect(pacer.waitMs(1010, 10)).to.be.at.most(0);
  });
});
