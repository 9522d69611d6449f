import { expect } from 'chai';
import { BufferRing } from '../../src/core/buffer-ring.js';

describe('BufferRing', () => {
  it('hands out its buffers in turn and gives one back only after `size` calls', () => {
    const ring = new BufferRing(2);
    const a = ring.next(8);
    const b = ring.next(8);
    expect(b).not.to.equal(a);
    expect(ring.next(8)).to.equal(a);
    expect(ring.next(8)).to.equal(b);
  });

  it('makes a new buffer of the asked length when the length changes', () => {
    const ring = new BufferRing(2);
    const a = ring.next(8);
    ring.next(8);
    const c = ring.next(16);
    expect(c).not.to.equal(a);
    expect(c.length).to.equal(16);
    expect(ring.next(8).length).to.equal(8);
  });
});
