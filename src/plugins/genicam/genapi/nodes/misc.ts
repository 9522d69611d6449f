import { GenApiError } from '../errors.js';
import { parseGenApiNumber } from '../numbers.js';
import type { AccessMode, FeatureInfo, FeatureValue } from '../types.js';
import { childrenOf } from '../xml-model.js';
import { canRead, Node } from './node.js';
import { ValueSource } from './value-source.js';

/** Boolean: true when the underlying value equals OnValue. */
export class BooleanNode extends Node {
  readonly type = 'Boolean' as const;
  private readonly source = new ValueSource(this.el, this.ctx, this.name);
  private readonly on = this.constant('OnValue', this.text('OnValue') ?? '1');
  private readonly off = this.constant('OffValue', this.text('OffValue') ?? '0');

  protected override async baseAccess(): Promise<AccessMode> {
    return this.source.access();
  }

  override async readNumber(fresh = false): Promise<number> {
    return (await this.source.read(fresh)) === this.on ? 1 : 0;
  }

  override async getValue(): Promise<boolean> {
    return (await this.readNumber()) === 1;
  }

  override async writeNumber(value: number): Promise<void> {
    await this.source.write(value !== 0 ? this.on : this.off);
    this.ctx.changed(this.name);
  }

  override async setValue(value: FeatureValue): Promise<void> {
    const v = typeof value === 'string' ? parseGenApiNumber(value) : Number(value);
    if (v !== 0 && v !== 1) {
      throw new GenApiError(
        `Cannot set ${this.name} to ${JSON.stringify(value)}: expected true or false`,
        'invalid-value',
      );
    }
    await this.writeNumber(v);
  }
}

/** Command: executing writes CommandValue; it is done once the register no longer reads it. */
export class CommandNode extends Node {
  readonly type = 'Command' as const;
  private readonly source = new ValueSource(this.el, this.ctx, this.name);

  protected override async baseAccess(): Promise<AccessMode> {
    return this.source.access();
  }

  private async commandValue(): Promise<number> {
    return (await this.numberProp('CommandValue')) ?? 1;
  }

  async execute(): Promise<void> {
    await this.source.write(await this.commandValue());
    this.ctx.changed(this.name);
  }

  /** Done unless the register still holds CommandValue; write-only registers cannot tell, so done. */
  async isDone(): Promise<boolean> {
    if (!canRead(await this.source.access())) return true;
    // A cached copy would be the value just written, so this must ask the device.
    return (await this.source.read(true)) !== (await this.commandValue());
  }

  override async getValue(): Promise<boolean> {
    return this.isDone();
  }

  override async setValue(value: FeatureValue): Promise<void> {
    if (value !== true && value !== 1 && value !== 'true') {
      throw new GenApiError(
        `${this.name} is a Command: set it to true (or call execute) to run it`,
        'invalid-value',
      );
    }
    await this.execute();
  }
}

/** String: its own Value, or the string of the StringReg its pValue names. */
export class StringNode extends Node {
  readonly type = 'String' as const;
  private value = this.text('Value') ?? '';

  protected override async baseAccess(): Promise<AccessMode> {
    return this.ref('pValue')?.access() ?? 'RW';
  }

  override async getValue(): Promise<FeatureValue> {
    const target = this.ref('pValue');
    return target ? target.getValue() : this.value;
  }

  override async setValue(value: FeatureValue): Promise<void> {
    const target = this.ref('pValue');
    if (target) await target.setValue(value);
    else if (typeof value === 'string') this.value = value;
    else
      throw new GenApiError(
        `${this.name} is a string; got ${JSON.stringify(value)}`,
        'invalid-value',
      );
    this.ctx.changed(this.name);
  }
}

/** Category: a named group of features for UIs. */
export class CategoryNode extends Node {
  readonly type = 'Category' as const;

  features(): string[] {
    return childrenOf(this.el, 'pFeature').map((f) => f.text);
  }

  override async getValue(): Promise<FeatureValue> {
    throw new GenApiError(`${this.name} is a Category; it has no value`, 'unsupported');
  }

  override async describeInto(info: FeatureInfo): Promise<void> {
    info.features = this.features();
  }
}

/** Any node this module does not evaluate (Port, IntKey, ConfRom, ...): listed, never read. */
export class OpaqueNode extends Node {
  readonly type = undefined;

  override async getValue(): Promise<FeatureValue> {
    throw new GenApiError(
      `${this.name} is a ${this.el.tag} node, which has no value`,
      'unsupported',
    );
  }

  override async setValue(): Promise<void> {
    throw new GenApiError(
      `${this.name} is a ${this.el.tag} node, which cannot be set`,
      'unsupported',
    );
  }
}
