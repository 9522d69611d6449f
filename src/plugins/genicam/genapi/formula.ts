import { GenApiError } from './errors.js';

/** A parsed SwissKnife/Converter formula, evaluated as often as the variables change. */
export interface Formula {
  /** Integer mode (IntSwissKnife, IntConverter) truncates every operand and result to int64. */
  evaluate(variables: Readonly<Record<string, number | bigint>>, integer?: boolean): number;
  /** Names the formula reads (PI and E excluded unless given as variables). */
  readonly variables: string[];
  readonly text: string;
}

/** Named sub-expressions (<Expression>) and constants (<Constant>) a formula may refer to. */
export interface FormulaOptions {
  expressions?: Readonly<Record<string, string>>;
  constants?: Readonly<Record<string, string>>;
}

// int64 values are bigints and doubles are numbers, so that mixed arithmetic follows Aravis:
// int op int stays exact, anything involving a double becomes a double.
type Value = bigint | number;

type Ast =
  | { k: 'num'; v: Value }
  | { k: 'var'; name: string }
  | { k: 'un'; op: string; a: Ast }
  | { k: 'bin'; op: string; a: Ast; b: Ast }
  | { k: 'tern'; c: Ast; a: Ast; b: Ast }
  | { k: 'call'; fn: string; args: Ast[] };

interface Token {
  t: 'num' | 'id' | 'op' | 'end';
  s: string;
  pos: number;
  v?: Value;
}

// Binding powers from Aravis's evaluator (arvevaluator.c), weakest first; unary operators
// bind at 130, tighter than **, so -2 ** 2 is 4 there and here.
const LEVELS: [number, string][] = [
  [10, '||'],
  [20, '&&'],
  [40, '|'],
  [50, '^'],
  [60, '&'],
  [70, '= <>'],
  [80, '< > <= >='],
  [90, '<< >>'],
  [100, '+ -'],
  [110, '* / %'],
  [120, '**'],
];
const BINARY: Record<string, number> = Object.fromEntries(
  LEVELS.flatMap(([power, ops]) => ops.split(' ').map((op) => [op, power])),
);
const TERNARY_POWER = 5;
const UNARY_POWER = 130;
// '==' and '!=' are not GenApi, but vendors write them; they mean '=' and '<>'.
const ALIASES: Record<string, string> = { '==': '=', '!=': '<>' };
// Two-character operators first so that '<<' is not read as two '<'.
const OPERATORS = '** << >> <= >= <> == != && || + - * / % < > = & | ^ ~ ! ? : ( ) ,'.split(' ');
const FUNCTIONS: Record<string, number[]> = Object.fromEntries([
  ...'SGN NEG ATAN COS SIN TAN ABS EXP LN LG SQRT TRUNC FLOOR CEIL ASIN ACOS'
    .split(' ')
    .map((f) => [f, [1]]),
  ['ROUND', [1, 2]],
]);
const BUILTIN_CONSTANTS: Record<string, number> = { PI: Math.PI, E: Math.E };

function syntaxError(text: string, pos: number, what: string): GenApiError {
  return new GenApiError(`Formula "${text}": ${what} at position ${pos}`, 'invalid-value');
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const hex = /^0x[0-9a-f]+/i.exec(rest);
    const dec = /^(\d+\.?\d*|\.\d+)(e[+-]?\d+)?/i.exec(rest);
    if (hex) {
      tokens.push({ t: 'num', s: hex[0], pos: i, v: BigInt.asIntN(64, BigInt(hex[0])) });
      i += hex[0].length;
    } else if (dec) {
      const s = dec[0];
      const isDouble = /[.e]/i.test(s);
      tokens.push({ t: 'num', s, pos: i, v: isDouble ? Number(s) : BigInt.asIntN(64, BigInt(s)) });
      i += s.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(rest)![0];
      tokens.push({ t: 'id', s: id, pos: i });
      i += id.length;
    } else {
      const op = OPERATORS.find((o) => rest.startsWith(o));
      if (!op) throw syntaxError(text, i, `unexpected character '${c}'`);
      tokens.push({ t: 'op', s: ALIASES[op] ?? op, pos: i });
      i += op.length;
    }
  }
  tokens.push({ t: 'end', s: 'end of formula', pos: text.length });
  return tokens;
}

/** Pratt parser; sub-expressions and constants are inlined so evaluation is a plain tree walk. */
class Parser {
  private i = 0;
  private readonly tokens: Token[];
  constructor(
    private readonly text: string,
    private readonly options: FormulaOptions,
    private readonly expanding: string[],
    private readonly found: Set<string>,
  ) {
    this.tokens = tokenize(text);
  }

  parseAll(): Ast {
    if (this.tokens.length === 1) throw syntaxError(this.text, 0, 'empty formula');
    const ast = this.expr(0);
    const t = this.peek();
    if (t.t !== 'end') throw syntaxError(this.text, t.pos, `unexpected '${t.s}'`);
    return ast;
  }

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private expect(op: string): void {
    const t = this.next();
    if (t.t !== 'op' || t.s !== op) {
      const found = t.t === 'end' ? t.s : `'${t.s}'`;
      throw syntaxError(this.text, t.pos, `expected '${op}' but found ${found}`);
    }
  }

  private expr(minPower: number): Ast {
    let left = this.prefix();
    for (;;) {
      const t = this.peek();
      if (t.t !== 'op') break;
      if (t.s === '?') {
        if (TERNARY_POWER < minPower) break;
        this.next();
        const a = this.expr(0);
        this.expect(':');
        const b = this.expr(TERNARY_POWER); // right-associative: a ? b : c ? d : e
        left = { k: 'tern', c: left, a, b };
        continue;
      }
      const power = BINARY[t.s];
      if (power === undefined || power < minPower) break;
      this.next();
      const rightAssociative = t.s === '**';
      const b = this.expr(rightAssociative ? power : power + 1);
      left = { k: 'bin', op: t.s, a: left, b };
    }
    return left;
  }

  private prefix(): Ast {
    const t = this.next();
    if (t.t === 'num') return { k: 'num', v: t.v! };
    if (t.t === 'op') {
      if (t.s === '(') {
        const inner = this.expr(0);
        this.expect(')');
        return inner;
      }
      if (t.s === '-' || t.s === '+' || t.s === '~' || t.s === '!') {
        return { k: 'un', op: t.s, a: this.expr(UNARY_POWER) };
      }
    }
    if (t.t === 'id') return this.identifier(t);
    const what = t.t === 'end' ? 'unexpected end of formula' : `unexpected '${t.s}'`;
    throw syntaxError(this.text, t.pos, what);
  }

  private identifier(t: Token): Ast {
    const upper = t.s.toUpperCase();
    const arity = FUNCTIONS[upper];
    if (arity) {
      if (this.peek().s !== '(') throw syntaxError(this.text, t.pos, `${upper} needs '('`);
      this.next();
      const args = [this.expr(0)];
      while (this.peek().s === ',') {
        this.next();
        args.push(this.expr(0));
      }
      this.expect(')');
      if (!arity.includes(args.length)) {
        throw syntaxError(this.text, t.pos, `${upper} takes ${arity.join(' or ')} argument(s)`);
      }
      return { k: 'call', fn: upper, args };
    }
    const { expressions = {}, constants = {} } = this.options;
    if (Object.hasOwn(constants, t.s)) return this.inline(t, constants[t.s]);
    if (Object.hasOwn(expressions, t.s)) return this.inline(t, expressions[t.s]);
    if (!Object.hasOwn(BUILTIN_CONSTANTS, t.s)) this.found.add(t.s);
    return { k: 'var', name: t.s };
  }

  private inline(t: Token, text: string): Ast {
    if (this.expanding.includes(t.s)) {
      throw syntaxError(this.text, t.pos, `sub-expression ${t.s} refers to itself`);
    }
    const sub = new Parser(text, this.options, [...this.expanding, t.s], this.found);
    try {
      return sub.parseAll();
    } catch (err) {
      if (err instanceof GenApiError) {
        throw new GenApiError(`${err.message} (in ${t.s}, used at position ${t.pos})`, err.code);
      }
      throw err;
    }
  }
}

function toInt(v: Value): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isFinite(v)) {
    throw new GenApiError(`Formula value ${v} cannot be used as an integer`, 'invalid-value');
  }
  return BigInt.asIntN(64, BigInt(Math.trunc(v)));
}

const toDouble = (v: Value): number => (typeof v === 'bigint' ? Number(v) : v);
const wrap = (v: bigint): bigint => BigInt.asIntN(64, v);
const bool = (b: boolean): bigint => (b ? 1n : 0n);

// C's round() goes half away from zero; Math.round goes half up.
const roundHalfAway = (x: number): number => Math.sign(x) * Math.round(Math.abs(x));

function powInt(base: bigint, exponent: bigint): bigint {
  if (exponent < 0n) return toInt(Math.pow(Number(base), Number(exponent)));
  let result = 1n;
  let b = BigInt.asUintN(64, base);
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = BigInt.asUintN(64, result * b);
    b = BigInt.asUintN(64, b * b);
  }
  return wrap(result);
}

class Evaluator {
  constructor(
    private readonly text: string,
    private readonly vars: Readonly<Record<string, number | bigint>>,
    private readonly integer: boolean,
  ) {}

  private fail(what: string): GenApiError {
    return new GenApiError(`Formula "${this.text}": ${what}`, 'invalid-value');
  }

  run(ast: Ast): Value {
    const v = this.eval(ast);
    return this.integer ? toInt(v) : v;
  }

  private eval(ast: Ast): Value {
    const v = this.evalRaw(ast);
    return this.integer ? toInt(v) : v;
  }

  private variable(name: string): Value {
    const raw = Object.hasOwn(this.vars, name) ? this.vars[name] : BUILTIN_CONSTANTS[name];
    if (raw === undefined) throw this.fail(`unknown variable ${name}`);
    if (typeof raw === 'bigint') return raw;
    return Number.isSafeInteger(raw) ? BigInt(raw) : raw;
  }

  private evalRaw(ast: Ast): Value {
    switch (ast.k) {
      case 'num':
        return ast.v;
      case 'var':
        return this.variable(ast.name);
      case 'tern':
        return toInt(this.eval(ast.c)) !== 0n ? this.eval(ast.a) : this.eval(ast.b);
      case 'un':
        return this.unary(ast.op, this.eval(ast.a));
      case 'call':
        return this.call(
          ast.fn,
          ast.args.map((a) => this.eval(a)),
        );
      case 'bin':
        if (ast.op === '&&') {
          return bool(toInt(this.eval(ast.a)) !== 0n && toInt(this.eval(ast.b)) !== 0n);
        }
        if (ast.op === '||') {
          return bool(toInt(this.eval(ast.a)) !== 0n || toInt(this.eval(ast.b)) !== 0n);
        }
        return this.binary(ast.op, this.eval(ast.a), this.eval(ast.b));
    }
  }

  private unary(op: string, a: Value): Value {
    switch (op) {
      case '-':
        return typeof a === 'bigint' ? wrap(-a) : -a;
      case '~':
        return ~toInt(a);
      case '!':
        return bool(toInt(a) === 0n);
      default:
        return a;
    }
  }

  private binary(op: string, a: Value, b: Value): Value {
    const ints = typeof a === 'bigint' && typeof b === 'bigint';
    switch (op) {
      case '+':
        return ints ? wrap(a + b) : toDouble(a) + toDouble(b);
      case '-':
        return ints ? wrap(a - b) : toDouble(a) - toDouble(b);
      case '*':
        return ints ? wrap(a * b) : toDouble(a) * toDouble(b);
      case '/':
        if (this.integer) {
          if (toInt(b) === 0n) throw this.fail('division by zero');
          return wrap(toInt(a) / toInt(b));
        }
        if (toDouble(b) === 0) throw this.fail('division by zero');
        return toDouble(a) / toDouble(b);
      case '%':
        if (toInt(b) === 0n) throw this.fail('division by zero');
        return toInt(a) % toInt(b);
      case '**':
        if (this.integer) return powInt(toInt(a), toInt(b));
        return Math.pow(toDouble(a), toDouble(b));
      case '<<':
        return wrap(toInt(a) << (toInt(b) & 63n));
      case '>>':
        return toInt(a) >> (toInt(b) & 63n);
      case '&':
        return toInt(a) & toInt(b);
      case '|':
        return toInt(a) | toInt(b);
      case '^':
        return toInt(a) ^ toInt(b);
    }
    const [x, y] = ints ? [a, b] : [toDouble(a), toDouble(b)];
    switch (op) {
      case '=':
        return bool(x === y);
      case '<>':
        return bool(x !== y);
      case '<':
        return bool(x < y);
      case '>':
        return bool(x > y);
      case '<=':
        return bool(x <= y);
      default:
        return bool(x >= y);
    }
  }

  private call(fn: string, args: Value[]): Value {
    const a = args[0];
    const d = toDouble(a);
    switch (fn) {
      case 'SGN':
        return typeof a === 'bigint' ? (a > 0n ? 1n : a < 0n ? -1n : 0n) : BigInt(Math.sign(d));
      case 'NEG':
        return this.unary('-', a);
      case 'ABS':
        return typeof a === 'bigint' ? wrap(a < 0n ? -a : a) : Math.abs(d);
      case 'ROUND': {
        if (args.length === 1) return roundHalfAway(d);
        const scale = Math.pow(10, Number(toInt(args[1])));
        return roundHalfAway(d * scale) / scale;
      }
      case 'TRUNC':
        return Math.trunc(d);
      case 'FLOOR':
        return Math.floor(d);
      case 'CEIL':
        return Math.ceil(d);
      case 'SQRT':
        return Math.sqrt(d);
      case 'EXP':
        return Math.exp(d);
      case 'LN':
        return Math.log(d);
      case 'LG':
        return Math.log10(d);
      case 'SIN':
        return Math.sin(d);
      case 'COS':
        return Math.cos(d);
      case 'TAN':
        return Math.tan(d);
      case 'ASIN':
        return Math.asin(d);
      case 'ACOS':
        return Math.acos(d);
      default:
        return Math.atan(d);
    }
  }
}

/** Parses a GenApi formula into a tree; syntax errors are GenApiError('invalid-value') with the position. */
export function parseFormula(text: string, options: FormulaOptions = {}): Formula {
  const found = new Set<string>();
  const ast = new Parser(text, options, [], found).parseAll();
  return {
    text,
    variables: [...found],
    evaluate(variables, integer = false) {
      const v = new Evaluator(text, variables, integer).run(ast);
      return typeof v === 'bigint' ? Number(v) : v;
    },
  };
}
