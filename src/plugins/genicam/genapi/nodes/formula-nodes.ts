import { GenApiError } from '../errors.js';
import { parseFormula, type Formula } from '../formula.js';
import type { AccessMode } from '../types.js';
import { childrenOf, type XmlElement } from '../xml-model.js';
import { checkRange } from './numeric.js';
import { Node, type NodeContext } from './node.js';

/** Base of SwissKnife and Converter: formulas over named pVariable nodes. */
abstract class FormulaNode extends Node {
  private readonly formulas = new Map<string, Formula>();

  // Parsed on first use so one malformed formula does not make the whole XML unusable.
  protected formula(tag: string): Formula {
    let f = this.formulas.get(tag);
    if (!f) {
      const text = this.text(tag);
      if (text === undefined) throw new GenApiError(`${this.name} has no <${tag}>`, 'unsupported');
      const named = (t: string) =>
        Object.fromEntries(childrenOf(this.el, t).map((c) => [c.attrs.Name, c.text]));
      try {
        f = parseFormula(text, { expressions: named('Expression'), constants: named('Constant') });
      } catch (err) {
        if (!(err instanceof GenApiError)) throw err;
        throw new GenApiError(`${this.name} <${tag}>: ${err.message}`, err.code);
      }
      this.formulas.set(tag, f);
    }
    return f;
  }

  protected async variables(fresh: boolean): Promise<Record<string, number>> {
    const values: Record<string, number> = {};
    for (const v of childrenOf(this.el, 'pVariable')) {
      values[v.attrs.Name] = await this.ctx.get(v.text, this.name).readNumber(fresh);
    }
    return values;
  }
}

/** SwissKnife/IntSwissKnife: a read-only value computed from other nodes. */
export class SwissKnifeNode extends FormulaNode {
  readonly type;
  override readonly integral: boolean;

  constructor(el: XmlElement, ctx: NodeContext, name?: string) {
    super(el, ctx, name);
    this.integral = el.tag === 'IntSwissKnife';
    this.type = this.integral ? ('Integer' as const) : ('Float' as const);
  }

  protected override async baseAccess(): Promise<AccessMode> {
    return 'RO';
  }

  override async readNumber(fresh = false): Promise<number> {
    return this.formula('Formula').evaluate(await this.variables(fresh), this.integral);
  }
}

/** Converter/IntConverter: FormulaFrom maps the pValue node's value (TO) to the feature value, FormulaTo maps back (FROM). */
export class ConverterNode extends FormulaNode {
  readonly type;
  override readonly integral: boolean;

  constructor(el: XmlElement, ctx: NodeContext) {
    super(el, ctx);
    this.integral = el.tag === 'IntConverter';
    this.type = this.integral ? ('Integer' as const) : ('Float' as const);
  }

  private target(): Node {
    const t = this.ref('pValue');
    if (!t) throw new GenApiError(`${this.name} has no <pValue>`, 'unsupported');
    return t;
  }

  protected override async baseAccess(): Promise<AccessMode> {
    return this.target().access();
  }

  private async from(to: number, fresh = false): Promise<number> {
    const vars = { ...(await this.variables(fresh)), TO: to };
    return this.formula('FormulaFrom').evaluate(vars, this.integral);
  }

  override async readNumber(fresh = false): Promise<number> {
    return this.from(await this.target().readNumber(fresh), fresh);
  }

  override async writeNumber(value: number): Promise<void> {
    checkRange(this.name, value, await this.min(), await this.max());
    const vars = { ...(await this.variables(false)), FROM: value };
    const raw = this.formula('FormulaTo').evaluate(vars, this.integral);
    const target = this.target();
    // Rounding (not truncating) keeps 29.9999999 from becoming 29 in the integer register.
    await target.writeNumber(target.integral ? Math.round(raw) : raw);
    this.ctx.changed(this.name);
  }

  // The converted bounds of the target; FormulaFrom may be decreasing, hence the sort.
  private async bounds(): Promise<number[] | undefined> {
    const target = this.target();
    const [lo, hi] = [await target.min(), await target.max()];
    if (lo === undefined || hi === undefined) return undefined;
    try {
      const b = [await this.from(lo), await this.from(hi)].sort((x, y) => x - y);
      return b.every(Number.isFinite) ? b : undefined;
    } catch {
      return undefined;
    }
  }

  override async min(): Promise<number | undefined> {
    return (await this.numberProp('Min')) ?? (await this.bounds())?.[0];
  }

  override async max(): Promise<number | undefined> {
    return (await this.numberProp('Max')) ?? (await this.bounds())?.[1];
  }
}
