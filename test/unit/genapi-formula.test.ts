import { expect } from 'chai';
import { parseFormula } from '../../src/plugins/genicam/nodemap/index.js';

const ev = (text: string, vars: Record<string, number> = {}, integer = false) =>
  parseFormula(text).evaluate(vars, integer);

describe('GenApi formula parser', () => {
  it('follows GenApi precedence: * before +, shifts before comparisons, & before |', () => {
    expect(ev('1 + 2 * 3')).to.equal(7);
    expect(ev('(1 + 2) * 3')).to.equal(9);
    expect(ev('1 << 2 + 1')).to.equal(8);
    expect(ev('1 | 6 & 3')).to.equal(3);
    expect(ev('2 ** 3 ** 2')).to.equal(512);
    expect(ev('-2 ** 2')).to.equal(4); // unary minus binds tighter, as in Aravis
    expect(ev('10 - 4 - 3')).to.equal(3);
  });

  it('compares with = and <>, combines with && and ||, and has a ternary', () => {
    expect(ev('A = 3', { A: 3 })).to.equal(1);
    expect(ev('A <> 3', { A: 3 })).to.equal(0);
    expect(ev('A >= 3 && A < 5', { A: 4 })).to.equal(1);
    expect(ev('A > 9 || A <= 0', { A: 4 })).to.equal(0);
    expect(ev('A > 2 ? 10 : A = 1 ? 20 : 30', { A: 1 })).to.equal(20);
    expect(ev('A > 2 ? 10 : 30', { A: 3 })).to.equal(10);
  });

  it('does bitwise operations on values wider than 32 bits', () => {
    expect(ev('0x100000000 | 1')).to.equal(0x100000001);
    expect(ev('(X >> 32) & 0xFF', { X: 0x1200000000 })).to.equal(0x12);
    expect(ev('1 << 40')).to.equal(2 ** 40);
    expect(ev('~0')).to.equal(-1);
    expect(ev('0xF0 ^ 0xFF')).to.equal(0x0f);
  });

  it('knows the functions and constants, and truncates in integer mode', () => {
    expect(ev('SQRT(16) + ABS(-2) + TRUNC(2.7) + FLOOR(-1.5) + CEIL(1.2)')).to.equal(
      4 + 2 + 2 - 2 + 2,
    );
    expect(ev('ROUND(3.14159, 2)')).to.equal(3.14);
    expect(ev('SGN(-3) + NEG(2)')).to.equal(-3);
    expect(ev('COS(0) + LN(E) + LG(100)')).to.be.closeTo(4, 1e-12);
    expect(ev('PI')).to.equal(Math.PI);
    expect(ev('7 / 2')).to.equal(3.5);
    expect(ev('7 / 2', {}, true)).to.equal(3);
    expect(ev('W * 1.5', { W: 3 }, true)).to.equal(4);
    expect(parseFormula('A + B * SIN(C) + PI').variables).to.deep.equal(['A', 'B', 'C']);
  });

  it('reports syntax errors with their position, and unknown variables by name', () => {
    expect(() => parseFormula('1 + * 2')).to.throw(/unexpected '\*' at position 5/);
    expect(() => parseFormula('(1 + 2')).to.throw(/expected '\)' at position 7/);
    expect(() => parseFormula('1 $ 2')).to.throw(/unexpected character '\$' at position 3/);
    expect(() => ev('A + 1')).to.throw(/variable 'A' has no value/);
  });
});
