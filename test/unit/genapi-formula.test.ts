import { expect } from 'chai';
import { GenApiError, parseFormula } from '../../src/plugins/genicam/genapi/index.js';

const ev = (text: string, vars: Record<string, number> = {}) => parseFormula(text).evaluate(vars);
const evInt = (text: string, vars: Record<string, number> = {}) =>
  parseFormula(text).evaluate(vars, true);

function syntaxError(text: string): GenApiError {
  try {
    parseFormula(text);
  } catch (err) {
    expect(err).to.be.instanceOf(GenApiError);
    expect((err as GenApiError).code).to.equal('invalid-value');
    return err as GenApiError;
  }
  return expect.fail(`"${text}" should not parse`);
}

describe('GenApi formula parser', () => {
  it('arithmetic precedence and associativity match Aravis', () => {
    expect(ev('1 + 2 * 3')).to.equal(7);
    expect(ev('(1 + 2) * 3')).to.equal(9);
    expect(ev('10 - 4 - 3')).to.equal(3);
    expect(ev('2 ** 3 ** 2')).to.equal(512); // right-associative
    expect(ev('-2 ** 2')).to.equal(4); // unary minus binds tighter than **
    expect(ev('2 ** -1')).to.equal(0.5);
    expect(ev('1 << 2 + 1')).to.equal(8); // + before <<
    expect(ev('7 % 4 * 2')).to.equal(6);
  });

  it('comparisons, bitwise and logical operators each have their own level', () => {
    expect(ev('1 + 2 = 3')).to.equal(1);
    expect(ev('2 & 2 = 2')).to.equal(0); // = binds tighter than &: 2 & (2 = 2)
    expect(ev('1 < 2 = 1')).to.equal(1); // < binds tighter than =
    expect(ev('3 <> 3')).to.equal(0);
    expect(ev('1 | 3 ^ 1')).to.equal(3); // ^ before |
    expect(ev('1 | 6 & 3')).to.equal(3); // & before |
    expect(ev('6 & 3 ^ 1')).to.equal(3); // & before ^
    expect(ev('1 || 0 && 0')).to.equal(1); // && before ||
    expect(ev('3 >= 3 && 2 <= 1')).to.equal(0);
    expect(ev('!0 + !7')).to.equal(1);
    expect(ev('~5')).to.equal(-6);
  });

  it('ternary is the lowest level and right-associative', () => {
    const f = parseFormula('A = 1 ? 10 : A = 2 ? 20 : 30');
    expect([1, 2, 3].map((A) => f.evaluate({ A }))).to.deep.equal([10, 20, 30]);
    expect(ev('1 ? 2 : 3 + 4')).to.equal(2);
    expect(ev('0 ? 2 : 3 + 4')).to.equal(7);
    expect(ev('(1 ? 0 : 1) ? 5 : 6')).to.equal(6);
    // Only the chosen branch is evaluated.
    expect(ev('1 ? 4 : 1 / 0')).to.equal(4);
  });

  it('bitwise operators work on 64-bit integers, not 32-bit', () => {
    expect(ev('0x100000000 | 1')).to.equal(0x100000001);
    expect(ev('(1 << 40) + 1')).to.equal(2 ** 40 + 1);
    expect(ev('0xFFFFFFFFFF & 0xF0F0F0F0F0')).to.equal(0xf0f0f0f0f0);
    expect(ev('X >> 33', { X: 2 ** 50 })).to.equal(2 ** 17);
    expect(ev('X ^ 0x100000000', { X: 2 ** 32 + 5 })).to.equal(5);
    expect(ev('~0 & 0xFFFFFFFFFFFF')).to.equal(2 ** 48 - 1);
    expect(ev('0xFFFFFFFFFFFFFFFF')).to.equal(-1); // int64 two's complement
  });

  it('integer mode truncates; float mode divides exactly', () => {
    expect(ev('7 / 2')).to.equal(3.5);
    expect(evInt('7 / 2')).to.equal(3);
    expect(evInt('-7 / 2')).to.equal(-3);
    expect(evInt('10 / 4 * 4')).to.equal(8);
    expect(ev('2.7 + 2.7')).to.be.closeTo(5.4, 1e-12);
    expect(evInt('2.7 + 2.7')).to.equal(4);
    expect(ev('-7 % 3')).to.equal(-1);
    expect(ev('1.5e3 + .5')).to.equal(1500.5);
    expect(ev('0x1f + 0X10')).to.equal(47);
  });

  it('functions, case-insensitive, and the constants PI and E', () => {
    expect(ev('SGN(-3) + SGN(0) * 10 + NEG(4)')).to.equal(-5);
    expect(ev('ABS(-2.5) + ABS(-2)')).to.equal(4.5);
    expect(ev('SQRT(16) + sqrt(4)')).to.equal(6);
    expect([ev('TRUNC(-2.7)'), ev('FLOOR(-2.5)'), ev('CEIL(2.1)')]).to.deep.equal([-2, -3, 3]);
    expect([ev('ROUND(2.5)'), ev('ROUND(-2.5)'), ev('ROUND(3.14159, 2)')]).to.deep.equal([
      3, -3, 3.14,
    ]);
    expect(ev('LN(E)')).to.be.closeTo(1, 1e-12);
    expect(ev('LG(1000)')).to.be.closeTo(3, 1e-12);
    expect(ev('EXP(0) + COS(0) + TAN(0)')).to.equal(2);
    expect(ev('SIN(PI / 2)')).to.be.closeTo(1, 1e-12);
    expect(ev('ATAN(1) * 4')).to.be.closeTo(Math.PI, 1e-12);
    expect(ev('ASIN(1) * 2 + ACOS(1)')).to.be.closeTo(Math.PI, 1e-12);
  });

  it('lists its variables, and inlines named Expressions and Constants', () => {
    expect(parseFormula('WIDTH * HEIGHT + PI + WIDTH').variables).to.deep.equal([
      'WIDTH',
      'HEIGHT',
    ]);
    const f = parseFormula('W * BPP / BITS', {
      expressions: { BPP: '(PF >> 16) & 0xFF' },
      constants: { BITS: '8' },
    });
    expect(f.variables).to.deep.equal(['W', 'PF']);
    expect(f.evaluate({ W: 10, PF: 0x01100007 }, true)).to.equal(20);
  });

  it('syntax errors give the position', () => {
    expect(syntaxError('1 + * 2').message).to.match(/unexpected '\*' at position 4/);
    expect(syntaxError('(1 + 2').message).to.match(
      /expected '\)' but found end of formula at position 6/,
    );
    expect(syntaxError('1 +').message).to.match(/unexpected end of formula at position 3/);
    expect(syntaxError('2 $ 3').message).to.match(/unexpected character '\$' at position 2/);
    expect(syntaxError('A B').message).to.match(/unexpected 'B' at position 2/);
    expect(syntaxError('1 ? 2').message).to.match(/expected ':'.* at position 5/);
    expect(syntaxError('ROUND(1, 2, 3)').message).to.match(
      /ROUND takes 1 or 2 argument.* position 0/,
    );
    expect(syntaxError('SIN 1').message).to.match(/SIN needs '\('/);
    expect(syntaxError('  ').message).to.match(/empty formula/);
    expect(() => parseFormula('X', { expressions: { X: 'X + 1' } })).to.throw(
      GenApiError,
      /refers to itself/,
    );
  });

  it('evaluation errors: unknown variable, division by zero', () => {
    expect(() => ev('A + 1')).to.throw(GenApiError, /unknown variable A/);
    expect(() => ev('1 / 0')).to.throw(GenApiError, /division by zero/);
    expect(() => evInt('5 % 0')).to.throw(GenApiError, /division by zero/);
  });
});
