import { GenApiError } from '../errors.js';
import { parseGenApiNumber } from '../numbers.js';
import type { AccessMode, FeatureInfo, FeatureType, FeatureValue } from '../types.js';
import { childrenOf, childText, type XmlElement } from '../xml-model.js';

/** Cache policy of a register (GenApi <Cachable>). */
export type Cachable = 'NoCache' | 'WriteThrough' | 'WriteAround';

/** What the register cache needs to know about a register node. */
export interface RegisterAccess {
  readonly name: string;
  readonly cachable: Cachable;
  address(): Promise<number>;
  length(): Promise<number>;
  /** Throws 'unsupported' when the register lives on a port other than the device. */
  checkPort(): void;
}

/** Services a node needs from the node map: other nodes, device memory and invalidation. */
export interface NodeContext {
  /** The node called `name`; 'not-found' names `referrer` so broken XML links are traceable. */
  get(name: string, referrer: string): Node;
  readRegister(reg: RegisterAccess, fresh: boolean): Promise<Uint8Array>;
  writeRegister(reg: RegisterAccess, bytes: Uint8Array): Promise<void>;
  /** A node was written: registers naming it in pInvalidator must be read again. */
  changed(name: string): void;
  isDevicePort(name: string): boolean;
}

const READS = new Set<AccessMode>(['RO', 'RW']);
const WRITES = new Set<AccessMode>(['WO', 'RW']);

/** True when a value can be read with that access. */
export const canRead = (a: AccessMode): boolean => READS.has(a);
/** True when a value can be written with that access. */
export const canWrite = (a: AccessMode): boolean => WRITES.has(a);

/** The access allowed by both: NI beats NA beats the read/write intersection. */
export function intersectAccess(a: AccessMode, b: AccessMode): AccessMode {
  if (a === 'NI' || b === 'NI') return 'NI';
  if (a === 'NA' || b === 'NA') return 'NA';
  const r = canRead(a) && canRead(b);
  const w = canWrite(a) && canWrite(b);
  return r && w ? 'RW' : r ? 'RO' : w ? 'WO' : 'NA';
}

function parseAccess(text: string | undefined): AccessMode | undefined {
  const t = text?.trim().toUpperCase();
  return t === 'RO' || t === 'WO' || t === 'RW' || t === 'NA' || t === 'NI' ? t : undefined;
}

/** One GenApi node; subclasses implement the operations their interface allows. */
export abstract class Node {
  readonly name: string;
  /** Interface type shown to clients; undefined for nodes that are not features (Port, ...). */
  abstract readonly type: FeatureType | undefined;
  /** Integer-valued (a write into it rounds), as opposed to float-valued. */
  readonly integral: boolean = false;

  constructor(
    readonly el: XmlElement,
    protected readonly ctx: NodeContext,
    name?: string,
  ) {
    this.name = name ?? el.attrs.Name;
  }

  /** Text of a child element. */
  protected text(tag: string): string | undefined {
    return childText(this.el, tag);
  }

  /** The node a p* child element points to. */
  protected ref(tag: string): Node | undefined {
    const name = this.text(tag);
    return name === undefined ? undefined : this.ctx.get(name, this.name);
  }

  /** Nodes all the p* children with that tag point to. */
  protected refs(tag: string): Node[] {
    return childrenOf(this.el, tag).map((c) => this.ctx.get(c.text, this.name));
  }

  /** A constant child or the value of the node its p-variant points to (Min/pMin, ...). */
  protected async numberProp(tag: string, pTag = `p${tag}`): Promise<number | undefined> {
    const target = this.ref(pTag);
    if (target) return target.readNumber();
    const text = this.text(tag);
    if (text === undefined) return undefined;
    return this.constant(tag, text);
  }

  /** Parses a constant child; a malformed number is an XML bug worth a clear message. */
  protected constant(tag: string, text: string): number {
    const v = parseGenApiNumber(text);
    if (v === undefined) {
      throw new GenApiError(`${this.name}: <${tag}> "${text}" is not a number`, 'invalid-value');
    }
    return v;
  }

  private async flag(tag: string): Promise<boolean | undefined> {
    const nodes = this.refs(tag);
    if (nodes.length === 0) return undefined;
    for (const n of nodes) if ((await n.readNumber()) === 0) return false;
    return true;
  }

  /** Effective access: implemented, available, the node's own mode, imposed mode, lock. */
  async access(): Promise<AccessMode> {
    if ((await this.flag('pIsImplemented')) === false) return 'NI';
    if ((await this.flag('pIsAvailable')) === false) return 'NA';
    let access = await this.baseAccess();
    const imposed = parseAccess(this.text('ImposedAccessMode'));
    if (imposed) access = intersectAccess(access, imposed);
    if (canWrite(access) && (await this.flag('pIsLocked')) === true) {
      access = access === 'RW' ? 'RO' : 'NA';
    }
    return access;
  }

  /** Access before availability and locks; registers read <AccessMode>. */
  protected async baseAccess(): Promise<AccessMode> {
    return parseAccess(this.text('AccessMode')) ?? 'RO';
  }

  protected unsupported(what: string): GenApiError {
    return new GenApiError(`${this.name} (${this.el.tag}) has no ${what}`, 'unsupported');
  }

  /** Numeric value, as used by pValue, pVariable, pIsAvailable, ...; `fresh` bypasses caches. */
  async readNumber(_fresh = false): Promise<number> {
    throw this.unsupported('numeric value');
  }

  /** Writes a numeric value from another node (no access check; bounds are still enforced). */
  async writeNumber(_value: number): Promise<void> {
    throw this.unsupported('writable numeric value');
  }

  async min(): Promise<number | undefined> {
    return undefined;
  }

  async max(): Promise<number | undefined> {
    return undefined;
  }

  async inc(): Promise<number | undefined> {
    return undefined;
  }

  /** The value a client sees (a symbolic name for enumerations, a boolean for booleans). */
  async getValue(): Promise<FeatureValue> {
    return this.readNumber();
  }

  /** Writes a client value after checking it against bounds and entries. */
  async setValue(value: FeatureValue): Promise<void> {
    await this.writeNumber(this.numberArgument(value));
  }

  /** A client value as a number; numeric strings are accepted because REST bodies are text. */
  protected numberArgument(value: FeatureValue): number {
    const v = typeof value === 'string' ? parseGenApiNumber(value) : value;
    if (typeof v !== 'number' || Number.isNaN(v)) {
      throw new GenApiError(
        `${this.name}: ${JSON.stringify(value)} is not a number`,
        'invalid-value',
      );
    }
    return v;
  }

  /** Type-specific fields of describe(); bounds that fail to evaluate are left out. */
  async describeInto(info: FeatureInfo): Promise<void> {
    const unit = this.text('Unit');
    if (unit !== undefined) info.unit = unit;
    if (this.type !== 'Integer' && this.type !== 'Float') return;
    const get = (f: () => Promise<number | undefined>) => f().catch(() => undefined);
    const min = await get(() => this.min());
    const max = await get(() => this.max());
    const inc = await get(() => this.inc());
    if (min !== undefined) info.min = min;
    if (max !== undefined) info.max = max;
    if (inc !== undefined) info.inc = inc;
  }
}
