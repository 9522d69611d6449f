import { expect } from 'chai';
import { minMaxKernelLoaded, minMaxSimd } from '../../src/core/min-max-kernel.js';

/** The obvious loop: what the SIMD kernel must agree with. */
function plainMinMax(a: ArrayLike<number>, n: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    min = Math.min(min, a[i]);
    max = Math.max(max, a[i]);
  }
  return { min, max };
}

/** A deterministic generator (xorshift32), so a failure can be reproduced. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('min/max kernel (WebAssembly SIMD)', () => {
  it('is built and loads (the build compiles min-max.wat next to the module)', () => {
    expect(minMaxKernelLoaded).to.equal(true);
  });

  it('agrees with a plain loop on uint16 of every length around the 8-lane blocks', () => {
    const next = random(7);
    for (let n = 1; n <= 70; n++) {
      const a = Uint16Array.from({ length: n }, () => Math.floor(next() * 65536));
      expect(minMaxSimd(a, n), `n=${n}`).to.deep.equal(plainMinMax(a, n));
    }
  });

  it('agrees on uint8 of every length around the 16-lane blocks', () => {
    const next = random(11);
    for (let n = 1; n <= 100; n++) {
      const a = Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
      expect(minMaxSimd(a, n), `n=${n}`).to.deep.equal(plainMinMax(a, n));
    }
  });

  it('finds extremes in any lane and in the tail, 0 and 65535 included', () => {
    for (let at = 0; at < 37; at++) {
      const a = new Uint16Array(37).fill(1000);
      a[at] = 65535;
      a[(at + 5) % 37] = 0;
      expect(minMaxSimd(a, 37), `at=${at}`).to.deep.equal({ min: 0, max: 65535 });
      const b = new Uint8Array(37).fill(100);
      b[at] = 255;
      b[(at + 9) % 37] = 3;
      expect(minMaxSimd(b, 37), `at=${at}`).to.deep.equal({ min: 3, max: 255 });
    }
  });

  it('reads only the first n values of a view at an offset, and grows for a large frame', () => {
    const backing = new Uint16Array(40).fill(500);
    backing[3] = 1; // before the view
    backing[30] = 60000; // after the first n of the view
    const view = backing.subarray(4, 36);
    expect(minMaxSimd(view, 20)).to.deep.equal({ min: 500, max: 500 });
    const bytes = new Uint8Array(21).fill(9);
    bytes[0] = 0;
    expect(minMaxSimd(bytes.subarray(1), 20)).to.deep.equal({ min: 9, max: 9 });

    const next = random(3);
    const big = Uint16Array.from(
      { length: 2048 * 2048 + 3 },
      () => 100 + Math.floor(next() * 4000),
    );
    big[2048 * 2048 + 1] = 7;
    expect(minMaxSimd(big, big.length)).to.deep.equal(plainMinMax(big, big.length));
    // A small frame after the big one still sees only its own values.
    expect(minMaxSimd(new Uint16Array([40, 41]), 2)).to.deep.equal({ min: 40, max: 41 });
  });
});
