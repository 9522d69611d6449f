import { GenApiError } from '../errors.js';
import { parseGenApiNumber } from '../numbers.js';
import type { AccessMode, FeatureInfo, FeatureValue } from '../types.js';
import { childrenOf, type XmlElement } from '../xml-model.js';
import { Node, type NodeContext } from './node.js';
import { ValueSource } from './value-source.js';

/** One EnumEntry; a Node only to reuse the pIsAvailable/pIsImplemented evaluation. */
class EnumEntryNode extends Node {
  readonly type = undefined;
  readonly symbolic: string;
  readonly value: number;

  constructor(el: XmlElement, ctx: NodeContext, enumeration: string) {
    super(el, ctx);
    // Preprocessed XML names entries EnumEntry_<Enumeration>_<Symbolic>; clients want the symbol.
    const prefix = `EnumEntry_${enumeration}_`;
    this.symbolic =
      this.text('Symbolic') ??
      (this.name.startsWith(prefix) ? this.name.slice(prefix.length) : this.name);
    const text = this.text('Value') ?? this.text('NumericValue');
    if (text === undefined) {
      throw new GenApiError(`${enumeration}: entry ${this.name} has no <Value>`, 'unsupported');
    }
    this.value = this.constant('Value', text);
  }

  protected override async baseAccess(): Promise<AccessMode> {
    return 'RO';
  }

  async available(): Promise<boolean> {
    const a = await this.access();
    return a !== 'NA' && a !== 'NI';
  }
}

/** Enumeration: an integer value shown as the symbolic name of the matching EnumEntry. */
export class EnumerationNode extends Node {
  readonly type = 'Enumeration' as const;
  override readonly integral = true;
  private readonly source = new ValueSource(this.el, this.ctx, this.name);
  private readonly entries = childrenOf(this.el, 'EnumEntry').map(
    (e) => new EnumEntryNode(e, this.ctx, this.name),
  );

  protected override async baseAccess(): Promise<AccessMode> {
    return this.source.access();
  }

  override async readNumber(fresh = false): Promise<number> {
    return this.source.read(fresh);
  }

  override async getValue(): Promise<string> {
    const v = await this.readNumber();
    const entry = this.entries.find((e) => e.value === v);
    if (!entry) {
      throw new GenApiError(
        `${this.name}: device value ${v} matches no entry (${this.entries.map((e) => `${e.symbolic}=${e.value}`).join(', ')})`,
        'invalid-value',
      );
    }
    return entry.symbolic;
  }

  /** Symbolic names of the entries that are implemented and available now. */
  async availableEntries(): Promise<string[]> {
    const out: string[] = [];
    for (const e of this.entries) if (await e.available()) out.push(e.symbolic);
    return out;
  }

  override async setValue(value: FeatureValue): Promise<void> {
    // Numeric strings come from REST bodies; symbolic names win if an entry is called "1".
    const numeric = typeof value === 'string' ? parseGenApiNumber(value) : Number(value);
    const entry =
      this.entries.find((e) => e.symbolic === value || e.name === value) ??
      this.entries.find((e) => e.value === numeric);
    if (!entry || !(await entry.available())) {
      const why = entry ? 'is not available now' : 'is not an entry';
      const allowed = (await this.availableEntries()).join(', ');
      throw new GenApiError(
        `Cannot set ${this.name} to ${JSON.stringify(value)}: it ${why}; available entries: ${allowed}`,
        'invalid-value',
      );
    }
    await this.source.write(entry.value);
    this.ctx.changed(this.name);
  }

  override async writeNumber(value: number): Promise<void> {
    await this.setValue(value);
  }

  override async describeInto(info: FeatureInfo): Promise<void> {
    await super.describeInto(info);
    info.entries = await this.availableEntries();
  }
}
