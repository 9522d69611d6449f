import { expect } from 'chai';
import { toI420 } from '../../src/protocols/webrtc/i420.js';

describe('toI420 with a reused picture', () => {
  it('writes into a picture of the same size and gives the same bytes as a fresh one', () => {
    const data = Uint8Array.from({ length: 6 * 4 * 3 }, (_, i) => (i * 37) % 256);
    const frame = { data, width: 6, height: 4, channels: 3 as const };
    const reused = toI420(frame);
    const previous = reused.data;
    const again = toI420(frame, reused);
    expect(again.data).to.equal(previous);
    expect(Buffer.from(again.data).equals(Buffer.from(toI420(frame).data))).to.equal(true);
  });

  it('allocates anew when the size changed', () => {
    const small = toI420({ data: new Uint8Array(4), width: 2, height: 2, channels: 1 });
    const big = toI420({ data: new Uint8Array(16), width: 4, height: 4, channels: 1 }, small);
    expect(big.data).not.to.equal(small.data);
    expect(big.data).to.have.length(24);
  });
});
