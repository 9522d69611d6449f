import { GenApiError } from '../errors.js';
import { parseGenApiNumber } from '../numbers.js';
import type { AccessMode } from '../types.js';
import { childrenOf, childText, type XmlElement } from '../xml-model.js';
import type { Node, NodeContext } from './node.js';

type Resolved = { node: Node } | { slot: string };

// A value kept in the node itself (Value, ValueIndexed, ValueDefault) changes in memory only.
/** Where an Integer/Float/Boolean/Enumeration/Command keeps its value: pValue(Indexed) or Value. */
export class ValueSource {
  private readonly slots = new Map<string, number>();

  constructor(
    private readonly el: XmlElement,
    private readonly ctx: NodeContext,
    private readonly owner: string,
  ) {
    const own = (tag: string, slot: string, text: string) => {
      const v = parseGenApiNumber(text);
      if (v === undefined) {
        throw new GenApiError(`${owner}: <${tag}> "${text}" is not a number`, 'invalid-value');
      }
      this.slots.set(slot, v);
    };
    const value = childText(el, 'Value');
    if (value !== undefined) own('Value', 'value', value);
    const def = childText(el, 'ValueDefault');
    if (def !== undefined) own('ValueDefault', 'default', def);
    for (const c of childrenOf(el, 'ValueIndexed'))
      own('ValueIndexed', `i${c.attrs.Index}`, c.text);
  }

  private node(name: string): Node {
    return this.ctx.get(name, this.owner);
  }

  private async resolve(): Promise<Resolved> {
    const pValue = childText(this.el, 'pValue');
    if (pValue !== undefined) return { node: this.node(pValue) };
    const pIndex = childText(this.el, 'pIndex');
    if (pIndex !== undefined) {
      const index = await this.node(pIndex).readNumber();
      const p = childrenOf(this.el, 'pValueIndexed').find((c) => Number(c.attrs.Index) === index);
      if (p) return { node: this.node(p.text) };
      if (this.slots.has(`i${index}`)) return { slot: `i${index}` };
      const pDefault = childText(this.el, 'pValueDefault');
      if (pDefault !== undefined) return { node: this.node(pDefault) };
      if (this.slots.has('default')) return { slot: 'default' };
    }
    if (this.slots.has('value')) return { slot: 'value' };
    throw new GenApiError(`${this.owner} has no value for its current index`, 'not-readable');
  }

  /** The node the value currently comes from, if it is not kept in this node. */
  async target(): Promise<Node | undefined> {
    const r = await this.resolve();
    return 'node' in r ? r.node : undefined;
  }

  async read(fresh = false): Promise<number> {
    const r = await this.resolve();
    return 'node' in r ? r.node.readNumber(fresh) : this.slots.get(r.slot)!;
  }

  async write(value: number): Promise<void> {
    const r = await this.resolve();
    if ('node' in r) {
      await r.node.writeNumber(r.node.integral ? Math.round(value) : value);
    } else {
      this.slots.set(r.slot, value);
    }
    for (const c of childrenOf(this.el, 'pValueCopy')) await this.node(c.text).writeNumber(value);
  }

  async access(): Promise<AccessMode> {
    const target = await this.target();
    return target ? target.access() : 'RW';
  }
}
