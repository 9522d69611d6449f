import { GenApiError } from '../errors.js';
import { INT64_MAX, INT64_MIN } from '../numbers.js';
import type { AccessMode, FeatureInfo, FeatureValue } from '../types.js';
import { Node } from './node.js';
import { ValueSource } from './value-source.js';

/** Throws 'out-of-range' naming the feature, the value and the bounds. */
export function checkRange(name: string, value: number, min?: number, max?: number): void {
  if ((min !== undefined && value < min) || (max !== undefined && value > max)) {
    throw new GenApiError(
      `Cannot set ${name} to ${value}: allowed range is ${min ?? '-inf'}..${max ?? 'inf'}`,
      'out-of-range',
    );
  }
}

/** Shared by Integer and Float: a value from pValue/Value with Min/Max/Inc and their p-forms. */
abstract class NumberNode extends Node {
  protected readonly source = new ValueSource(this.el, this.ctx, this.name);
  protected abstract readonly defaultMin: number;
  protected abstract readonly defaultMax: number;

  protected override async baseAccess(): Promise<AccessMode> {
    return this.source.access();
  }

  override async min(): Promise<number> {
    return (
      (await this.numberProp('Min')) ??
      (await (await this.source.target())?.min()) ??
      this.defaultMin
    );
  }

  override async max(): Promise<number> {
    return (
      (await this.numberProp('Max')) ??
      (await (await this.source.target())?.max()) ??
      this.defaultMax
    );
  }

  override async writeNumber(value: number): Promise<void> {
    checkRange(this.name, value, await this.min(), await this.max());
    await this.source.write(value);
    this.ctx.changed(this.name);
  }

  /** Checks value = min + k * inc; floats allow for rounding in the division. */
  protected async checkIncrement(value: number): Promise<void> {
    const inc = await this.inc();
    if (inc === undefined || inc <= 0) return;
    const min = await this.min();
    const k = (value - min) / inc;
    const exact = this.integral
      ? (BigInt(value) - BigInt(min)) % BigInt(inc) === 0n
      : Math.abs(k - Math.round(k)) < 1e-6;
    if (!exact) {
      throw new GenApiError(
        `Cannot set ${this.name} to ${value}: must be ${min} + k * ${inc} ` +
          `(range ${min}..${await this.max()})`,
        'out-of-range',
      );
    }
  }

  override async describeInto(info: FeatureInfo): Promise<void> {
    await super.describeInto(info);
    if (info.unit === undefined) {
      const target = await this.source.target().catch(() => undefined);
      const unit = target?.el.children.find((c) => c.tag === 'Unit')?.text;
      if (unit !== undefined) info.unit = unit;
    }
  }
}

/** GenApi Integer: an int64 feature, usually over an IntReg/MaskedIntReg/IntSwissKnife. */
export class IntegerNode extends NumberNode {
  readonly type = 'Integer' as const;
  override readonly integral = true;
  protected readonly defaultMin = INT64_MIN;
  protected readonly defaultMax = INT64_MAX;

  override async readNumber(fresh = false): Promise<number> {
    return Math.trunc(await this.source.read(fresh));
  }

  override async inc(): Promise<number> {
    return (await this.numberProp('Inc')) ?? (await (await this.source.target())?.inc()) ?? 1;
  }

  override async setValue(value: FeatureValue): Promise<void> {
    const v = this.numberArgument(value);
    if (!Number.isSafeInteger(v)) {
      throw new GenApiError(`Cannot set ${this.name} to ${v}: not an integer`, 'invalid-value');
    }
    checkRange(this.name, v, await this.min(), await this.max());
    await this.checkIncrement(v);
    await this.writeNumber(v);
  }
}

/** GenApi Float: a double feature, usually over a FloatReg or a Converter. */
export class FloatNode extends NumberNode {
  readonly type = 'Float' as const;
  // Bounds stay finite so describe() survives JSON.stringify.
  protected readonly defaultMin = -Number.MAX_VALUE;
  protected readonly defaultMax = Number.MAX_VALUE;

  override async readNumber(fresh = false): Promise<number> {
    return this.source.read(fresh);
  }

  override async inc(): Promise<number | undefined> {
    return this.numberProp('Inc');
  }

  override async setValue(value: FeatureValue): Promise<void> {
    const v = this.numberArgument(value);
    if (!Number.isFinite(v)) {
      throw new GenApiError(
        `Cannot set ${this.name} to ${v}: not a finite number`,
        'invalid-value',
      );
    }
    checkRange(this.name, v, await this.min(), await this.max());
    await this.checkIncrement(v);
    await this.writeNumber(v);
  }
}
