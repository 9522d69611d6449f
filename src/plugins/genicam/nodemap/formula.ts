import { GenApiError } from './errors.js';

/** A parsed SwissKnife/Converter formula. */
export interface Formula {
  /** Evaluates with the given variables; `integer` truncates divisions and the result (IntSwissKnife). */
  evaluate(variables: Record<string, number>, integer?: boolean): number;
  /** Names of the variables the formula uses. */
  readonly variables: string[];
}

type Ast =
  | { k: 'num'; v: number }
  | { k: 'var'; name: string }
  | { k: 'un'; op: string; a: Ast }
  | { k: 'bin'; op: string; a: Ast; b: Ast }
  | { k: 'tern'; c: Ast; a: Ast; b: Ast }
  | { k: 'call'; fn: string; args: Ast[] };

/** Binary operators: precedence (higher binds tighter) and right associativity, as GenApi (and Aravis) define them. */
const BINARY: Record<string, { prec: number; right?: boolean }> = {
  '||': { prec: 10 },
  '&&': { prec: 20 },
  '|': { prec: 40 },
  '^': { prec: 50 },
  '&': { prec: 60 },
  '=': { prec: 70 },
  '<>': { prec: 70 },
  '<=': { prec: 80 },
  '>=': { prec: 80 },
  '<': { prec: 80 },
  '>': { prec: 80 },
  '>>': { prec: 90 },
  '<<': { prec: 90 },
  '+': { prec: 100 },
  '-': { prec: 100 },
  '*': { prec: 110 },
  '/': { prec: 110 },
  '%': { prec: 110 },
  '**': { prec: 120, right: true },
};
/** Unary operators bind tighter than ** (so -2**2 is 4, as in Aravis). */
const UNARY_PREC = 130;
const TERNARY_PREC = 5;

const FUNCTIONS: Record<string, (...x: number[]) => number> = {
  SIN: Math.sin,
  COS: Math.cos,
  TAN: Math.tan,
  ASIN: Math.asin,
  ACOS: Math.acos,
  ATAN: Math.atan,
  ABS: Math.abs,
  EXP: Math.exp,
  LN: Math.log,
  LG: Math.log10,
  SQRT: Math.sqrt,
  TRUNC: Math.trunc,
  FLOOR: Math.floor,
  CEIL: Math.ceil,
  SGN: Math.sign,
  NEG: (x) => -x,
  ROUND: (x, digits = 0) => Math.round(x * 10 ** digits) / 10 ** digits,
};
const CONSTANTS: Record<string, number> = { PI: Math.PI, E: Math.E };

const OPERATORS = ['**', '<<', '>>', '<=', '>=', '<>', '&&', '||', ...'+-*/%&|^~!<>=?:(),'];

interface Token {
  t: 'num' | 'id' | 'op';
  v: string;
  pos: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^(0x[0-9a-f]+|(\d+\.?\d*|\.\d+)(e[+-]?\d+)?)/i.exec(text.slice(i));
    if (num) {
      tokens.push({ t: 'num', v: num[0], pos: i });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
    if (id) {
      tokens.push({ t: 'id', v: id[0], pos: i });
      i += id[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw syntax(text, i, `unexpected character '${c}'`);
    tokens.push({ t: 'op', v: op, pos: i });
    i += op.length;
  }
  return tokens;
}

function syntax(text: string, pos: number, what: string): GenApiError {
  return new GenApiError(`formula '${text}': ${what} at position ${pos + 1}`, 'invalid-value');
}

/** Precedence climbing over the token list. */
class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parseAll(): Ast {
    const ast = this.expression(0);
    const rest = this.tokens[this.i];
    if (rest) throw syntax(this.text, rest.pos, `unexpected '${rest.v}'`);
    return ast;
  }

  private peek(): Token | undefined {
    return this.tokens[this.i];
  }

  private expect(v: string): void {
    const t = this.tokens[this.i];
    if (!t || t.v !== v)
      throw syntax(
        this.text,
        t?.pos ?? this.text.length,
        `expected '${v}'${t ? ` not '${t.v}'` : ''}`,
      );
    this.i++;
  }

  private expression(minPrec: number): Ast {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (!t || t.t !== 'op') return left;
      if (t.v === '?' && TERNARY_PREC >= minPrec) {
        this.i++;
        const a = this.expression(0);
        this.expect(':');
        const b = this.expression(TERNARY_PREC);
        left = { k: 'tern', c: left, a, b };
        continue;
      }
      const info = BINARY[t.v];
      if (!info || info.prec < minPrec) return left;
      this.i++;
      const right = this.expression(info.right ? info.prec : info.prec + 1);
      left = { k: 'bin', op: t.v, a: left, b: right };
    }
  }

  private unary(): Ast {
    const t = this.peek();
    if (!t) throw syntax(this.text, this.text.length, 'unexpected end');
    this.i++;
    if (t.t === 'op' && ['-', '+', '~', '!'].includes(t.v))
      return { k: 'un', op: t.v, a: this.expression(UNARY_PREC) };
    if (t.t === 'op' && t.v === '(') {
      const inner = this.expression(0);
      this.expect(')');
      return inner;
    }
    if (t.t === 'num') return { k: 'num', v: Number(t.v) };
    if (t.t === 'id') {
      const upper = t.v.toUpperCase();
      if (this.peek()?.v === '(' && FUNCTIONS[upper]) {
        this.i++;
        const args = [this.expression(0)];
        while (this.peek()?.v === ',') {
          this.i++;
          args.push(this.expression(0));
        }
        this.expect(')');
        return { k: 'call', fn: upper, args };
      }
      return { k: 'var', name: t.v };
    }
    throw syntax(this.text, t.pos, `unexpected '${t.v}'`);
  }
}

/** 64-bit two's-complement integer arithmetic for the bitwise operators (JS `|` is 32-bit). */
function big(x: number): bigint {
  return BigInt.asIntN(64, BigInt(Math.trunc(x)));
}

function evaluate(ast: Ast, vars: Record<string, number>, integer: boolean): number {
  const ev = (a: Ast) => evaluate(a, vars, integer);
  switch (ast.k) {
    case 'num':
      return ast.v;
    case 'var': {
      if (ast.name in vars) return vars[ast.name]!;
      const constant = CONSTANTS[ast.name.toUpperCase()];
      if (constant !== undefined) return constant;
      throw new GenApiError(`formula variable '${ast.name}' has no value`, 'invalid-value');
    }
    case 'un': {
      const a = ev(ast.a);
      if (ast.op === '-') return -a;
      if (ast.op === '+') return a;
      if (ast.op === '!') return a ? 0 : 1;
      return Number(~big(a));
    }
    case 'tern':
      return ev(ast.c) ? ev(ast.a) : ev(ast.b);
    case 'call':
      return FUNCTIONS[ast.fn]!(...ast.args.map(ev));
    case 'bin': {
      if (ast.op === '&&') return ev(ast.a) && ev(ast.b) ? 1 : 0;
      if (ast.op === '||') return ev(ast.a) || ev(ast.b) ? 1 : 0;
      const a = ev(ast.a);
      const b = ev(ast.b);
      switch (ast.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return integer ? Math.trunc(a / b) : a / b;
        case '%':
          return integer ? Math.trunc(a) % Math.trunc(b) : a % b;
        case '**':
          return a ** b;
        case '=':
          return a === b ? 1 : 0;
        case '<>':
          return a !== b ? 1 : 0;
        case '<':
          return a < b ? 1 : 0;
        case '>':
          return a > b ? 1 : 0;
        case '<=':
          return a <= b ? 1 : 0;
        case '>=':
          return a >= b ? 1 : 0;
        case '&':
          return Number(big(a) & big(b));
        case '|':
          return Number(big(a) | big(b));
        case '^':
          return Number(big(a) ^ big(b));
        case '<<':
          return Number(BigInt.asIntN(64, big(a) << big(b)));
        case '>>':
          return Number(big(a) >> big(b));
      }
      throw new GenApiError(`formula operator '${ast.op}' is not known`, 'invalid-value');
    }
  }
}

function collectVariables(ast: Ast, out: Set<string>): void {
  if (ast.k === 'var') {
    if (CONSTANTS[ast.name.toUpperCase()] === undefined) out.add(ast.name);
  } else if (ast.k === 'un') collectVariables(ast.a, out);
  else if (ast.k === 'bin') [ast.a, ast.b].forEach((x) => collectVariables(x, out));
  else if (ast.k === 'tern') [ast.c, ast.a, ast.b].forEach((x) => collectVariables(x, out));
  else if (ast.k === 'call') ast.args.forEach((x) => collectVariables(x, out));
}

/** Parses a GenApi formula (SwissKnife, Converter) into an evaluable tree. */
export function parseFormula(text: string): Formula {
  const ast = new Parser(text, tokenize(text)).parseAll();
  const variables = new Set<string>();
  collectVariables(ast, variables);
  return {
    variables: [...variables],
    evaluate: (vars, integer = false) => {
      const v = evaluate(ast, vars, integer);
      return integer ? Math.trunc(v) : v;
    },
  };
}
