import { DeviceContext } from './context.js';
import { GenApiError } from './errors.js';
import { createNode } from './nodes/factory.js';
import { CommandNode } from './nodes/misc.js';
import { canRead, canWrite, type Node } from './nodes/node.js';
import type { AccessMode, FeatureInfo, FeatureValue, RegisterPort } from './types.js';
import { childText, parseDeviceDescription } from './xml-model.js';

const ACCESS_WORDS: Partial<Record<AccessMode, string>> = {
  NA: 'not available now',
  NI: 'not implemented by this device',
};

/** A device's GenApi features, evaluated on demand through its register port. */
export class NodeMap {
  readonly vendor: string;
  readonly model: string;
  readonly schemaVersion: string;

  private constructor(
    private readonly ctx: DeviceContext,
    attrs: Record<string, string>,
  ) {
    this.vendor = attrs.VendorName ?? '';
    this.model = attrs.ModelName ?? '';
    this.schemaVersion = ['SchemaMajorVersion', 'SchemaMinorVersion', 'SchemaSubMinorVersion']
      .map((a) => attrs[a] ?? '0')
      .join('.');
  }

  /** Parses GenApi XML; non-GenApi XML throws GenApiError('unsupported'). */
  static fromXml(xml: string, port: RegisterPort): NodeMap {
    const description = parseDeviceDescription(xml);
    const ctx = new DeviceContext(port);
    for (const el of description.nodes) ctx.add(createNode(el, ctx));
    ctx.finish();
    return new NodeMap(ctx, description.attrs);
  }

  has(name: string): boolean {
    return this.ctx.nodes.has(name);
  }

  /** All node names in document order (features and their helper nodes alike). */
  names(): string[] {
    return [...this.ctx.nodes.keys()];
  }

  private node(name: string): Node {
    const node = this.ctx.nodes.get(name);
    if (!node) throw new GenApiError(`No feature named ${name}`, 'not-found');
    return node;
  }

  private denied(name: string, verb: string, access: AccessMode): GenApiError {
    const why = ACCESS_WORDS[access] ?? `access is ${access}`;
    const code = verb === 'read' ? 'not-readable' : 'not-writable';
    return new GenApiError(`Cannot ${verb} ${name}: ${why}`, code);
  }

  /** Integer/Float → number, Boolean → boolean, Enumeration → symbolic name, String → string, Command → is done. */
  async getValue(name: string): Promise<FeatureValue> {
    const node = this.node(name);
    if (node.type === undefined || node.type === 'Category') return node.getValue();
    const access = await node.access();
    // A Command on a write-only register still answers "done".
    if (!canRead(access) && !(node instanceof CommandNode && canWrite(access))) {
      throw this.denied(name, 'read', access);
    }
    return node.getValue();
  }

  /** Checks access, bounds, increment and entries, then writes through the node's registers. */
  async setValue(name: string, value: FeatureValue): Promise<void> {
    const node = this.node(name);
    if (node.type === undefined || node.type === 'Category') return node.setValue(value);
    const access = await node.access();
    if (!canWrite(access)) throw this.denied(name, 'write', access);
    await node.setValue(value);
  }

  async execute(name: string): Promise<void> {
    const node = this.node(name);
    if (!(node instanceof CommandNode)) {
      throw new GenApiError(
        `${name} is a ${node.type ?? node.el.tag}, not a Command`,
        'unsupported',
      );
    }
    const access = await node.access();
    if (!canWrite(access)) throw this.denied(name, 'execute', access);
    await node.execute();
  }

  /** A snapshot for UIs; parts that fail to evaluate are left out rather than failing it all. */
  async describe(name: string): Promise<FeatureInfo> {
    const node = this.node(name);
    if (node.type === undefined) {
      throw new GenApiError(`${name} is a ${node.el.tag} node, not a feature`, 'unsupported');
    }
    const text = (tag: string) => childText(node.el, tag);
    const info: FeatureInfo = { name, type: node.type, access: await node.access() };
    const displayName = text('DisplayName');
    const description = text('Description') ?? text('ToolTip');
    if (displayName !== undefined) info.displayName = displayName;
    if (description !== undefined) info.description = description;
    info.visibility = text('Visibility') ?? 'Beginner';
    try {
      await node.describeInto(info);
    } catch {
      // Bounds or entries depending on unreadable nodes are simply not shown.
    }
    if (node.type !== 'Category' && canRead(info.access)) {
      try {
        info.value = await node.getValue();
      } catch {
        // A value the device cannot give (e.g. no matching entry) leaves `value` unset.
      }
    }
    return info;
  }

  /** Drops all cached register values, e.g. after the device was reset or reconnected. */
  invalidate(): void {
    this.ctx.clear();
  }
}
