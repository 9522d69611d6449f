import { expect } from 'chai';
import { LatestQueue } from '../../src/core/latest-queue.js';

describe('LatestQueue', () => {
  it('keeps the newest items and counts the discarded ones', async () => {
    const q = new LatestQueue<number>(2);
    for (let i = 0; i < 5; i++) q.push(i);
    expect(q.dropped).to.equal(3);
    expect(await q.next()).to.equal(3);
    expect(await q.next()).to.equal(4);
  });

  it('hands an item straight to a waiting reader', async () => {
    const q = new LatestQueue<number>();
    const next = q.next();
    q.push(7);
    expect(await next).to.equal(7);
    expect(q.dropped).to.equal(0);
  });

  it('takeNewest empties the queue without counting drops', () => {
    const q = new LatestQueue<number>(3);
    q.push(1);
    q.push(2);
    expect(q.takeNewest()).to.equal(2);
    expect(q.size).to.equal(0);
    expect(q.dropped).to.equal(0);
  });

  it('close wakes a waiting reader with undefined and ignores later pushes', async () => {
    const q = new LatestQueue<number>();
    const next = q.next();
    q.close();
    expect(await next).to.equal(undefined);
    q.push(1);
    expect(await q.next()).to.equal(undefined);
  });

  it('rejects a capacity below 1', () => {
    expect(() => new LatestQueue(0)).to.throw(RangeError);
  });
});
