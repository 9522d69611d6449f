import { GenApiError } from './errors.js';
import { parseFormula, type Formula } from './formula.js';
import { childList, childText, parseGenApiXml, parseNumber, type XmlElement } from './xml-model.js';

/** Reads and writes device memory (GigE Vision READMEM/WRITEMEM underneath). */
export interface RegisterPort {
  /** Reads `length` bytes at `address`. */
  read(address: number, length: number): Promise<Uint8Array>;
  /** Writes bytes at `address`. */
  write(address: number, data: Uint8Array): Promise<void>;
}

/** Access mode: read-only, write-only, read-write, not available now, not implemented. */
export type AccessMode = 'RO' | 'WO' | 'RW' | 'NA' | 'NI';

/** A feature's value as the API carries it. */
export type FeatureValue = number | string | boolean;

/** Interface types a node presents (GenApi's IInteger, IFloat…). */
export type FeatureType =
  'Integer' | 'Float' | 'Boolean' | 'Enumeration' | 'Command' | 'String' | 'Register' | 'Category';

/** What describe() tells about a feature. */
export interface FeatureInfo {
  /** Node name. */
  name: string;
  /** Interface type. */
  type: FeatureType;
  /** The XML element the node comes from, e.g. IntReg, SwissKnife. */
  node: string;
  /** Display name, when the XML has one. */
  displayName?: string;
  /** Description or tool tip. */
  description?: string;
  /** Unit (Float). */
  unit?: string;
  /** Beginner, Expert, Guru or Invisible. */
  visibility?: string;
  /** Effective access mode (locked features are RO). */
  access: AccessMode;
  /** Smallest value (Integer, Float). */
  min?: number;
  /** Largest value (Integer, Float). */
  max?: number;
  /** Increment (Integer). */
  inc?: number;
  /** Available entries (Enumeration). */
  entries?: string[];
  /** Current value, when readable. */
  value?: FeatureValue;
  /** Child features (Category). */
  features?: string[];
}

const INTEGER_NODES = new Set([
  'Integer',
  'IntReg',
  'MaskedIntReg',
  'StructEntry',
  'IntSwissKnife',
  'IntConverter',
]);
const FLOAT_NODES = new Set(['Float', 'FloatReg', 'SwissKnife', 'Converter']);
const REGISTER_NODES = new Set([
  'IntReg',
  'MaskedIntReg',
  'StructEntry',
  'FloatReg',
  'StringReg',
  'Register',
]);

function typeOf(tag: string): FeatureType | undefined {
  if (INTEGER_NODES.has(tag)) return 'Integer';
  if (FLOAT_NODES.has(tag)) return 'Float';
  if (tag === 'StringReg' || tag === 'String') return 'String';
  if (['Boolean', 'Enumeration', 'Command', 'Register', 'Category'].includes(tag))
    return tag as FeatureType;
  return undefined;
}

const ACCESS_RANK: Record<string, number> = { NI: 0, NA: 1, WO: 2, RO: 2, RW: 3 };

/**
 * A GenICam node map: the features of a device's XML, evaluated through its registers.
 * Register reads are cached (unless the XML says NoCache) and every write clears the cache,
 * since a write may change any value that depends on it (GenApi's pInvalidator, made simple).
 */
export class NodeMap {
  private readonly nodes: Map<string, XmlElement>;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly local = new Map<string, FeatureValue>();
  private readonly formulas = new Map<string, Formula>();
  /** Device vendor, from the XML. */
  readonly vendor: string;
  /** Device model, from the XML. */
  readonly model: string;
  /** GenApi schema version "major.minor.sub". */
  readonly schemaVersion: string;

  private constructor(
    xml: string,
    private readonly port: RegisterPort,
  ) {
    const doc = parseGenApiXml(xml);
    this.nodes = doc.nodes;
    this.vendor = doc.root.VendorName ?? '';
    this.model = doc.root.ModelName ?? '';
    this.schemaVersion = [
      doc.root.SchemaMajorVersion ?? '1',
      doc.root.SchemaMinorVersion ?? '0',
      doc.root.SchemaSubMinorVersion ?? '0',
    ].join('.');
  }

  /** Builds the node map of a GenApi XML over a register port. */
  static fromXml(xml: string, port: RegisterPort): NodeMap {
    return new NodeMap(xml, port);
  }

  /** True when the XML has a node of that name. */
  has(name: string): boolean {
    return this.nodes.has(name);
  }

  /** Every node name. */
  names(): string[] {
    return [...this.nodes.keys()];
  }

  /** Forgets every cached register value. */
  invalidate(): void {
    this.cache.clear();
  }

  /** The value: number (Integer, Float), boolean, enumeration entry name, string, or a command's "done". */
  async getValue(name: string): Promise<FeatureValue> {
    const el = this.node(name);
    const access = await this.access(name);
    if (access !== 'RO' && access !== 'RW' && el.tag !== 'Command')
      throw new GenApiError(`feature '${name}' is not readable (access ${access})`, 'not-readable');
    switch (el.tag) {
      case 'Boolean':
        return (await this.valueOf(el)) === (await this.prop(el, 'OnValue', 1));
      case 'Enumeration': {
        const value = await this.valueOf(el);
        const entry = childList(el, 'EnumEntry').find((e) => this.entryValue(e) === value);
        return entry?.attrs.Name ?? String(value);
      }
      case 'Command':
        // A command is done when its register no longer holds the command value.
        return (await this.valueOf(el)) !== (await this.prop(el, 'CommandValue', 1));
      case 'String':
      case 'StringReg':
        return this.stringOf(el);
      case 'Register':
        return Buffer.from(await this.readBytes(el)).toString('hex');
      case 'Category':
        throw new GenApiError(`feature '${name}' is a category, it has no value`, 'not-readable');
      default:
        return this.num(name);
    }
  }

  /** Sets a value after checking access, range, increment and enumeration entries. */
  async setValue(name: string, value: FeatureValue): Promise<void> {
    const el = this.node(name);
    const access = await this.access(name);
    if (access !== 'RW' && access !== 'WO')
      throw new GenApiError(
        `feature '${name}' is not writable now (access ${access}${(await this.locked(el)) ? ', locked' : ''})`,
        'not-writable',
      );
    try {
      await this.write(el, value);
    } finally {
      this.invalidate();
    }
  }

  /** Executes a Command. */
  async execute(name: string): Promise<void> {
    const el = this.node(name);
    if (el.tag !== 'Command')
      throw new GenApiError(`feature '${name}' is a ${el.tag}, not a command`, 'invalid-value');
    const access = await this.access(name);
    if (access !== 'WO' && access !== 'RW')
      throw new GenApiError(
        `command '${name}' cannot be executed now (access ${access})`,
        'not-writable',
      );
    try {
      await this.setNum(this.pointer(el, 'pValue')!, await this.prop(el, 'CommandValue', 1));
    } finally {
      this.invalidate();
    }
  }

  /** Type, access, range, entries and current value of a feature. */
  async describe(name: string): Promise<FeatureInfo> {
    const el = this.node(name);
    const type = typeOf(el.tag);
    if (!type) throw new GenApiError(`'${name}' is a ${el.tag} node, not a feature`, 'unsupported');
    const info: FeatureInfo = { name, type, node: el.tag, access: await this.access(name) };
    const text = (tag: string) => childText(el, tag);
    if (text('DisplayName')) info.displayName = text('DisplayName');
    const description = text('Description') ?? text('ToolTip');
    if (description) info.description = description;
    if (text('Unit')) info.unit = text('Unit');
    if (text('Visibility')) info.visibility = text('Visibility');
    if (type === 'Category') {
      info.features = childList(el, 'pFeature').map((f) => f.text);
      return info;
    }
    const usable = info.access !== 'NI' && info.access !== 'NA';
    if (usable && (type === 'Integer' || type === 'Float')) {
      const range = await this.range(el).catch(() => undefined);
      if (range) Object.assign(info, range);
    }
    if (type === 'Enumeration') info.entries = await this.availableEntries(el);
    if (usable && (info.access === 'RO' || info.access === 'RW') && type !== 'Command')
      info.value = await this.getValue(name).catch(() => undefined);
    return info;
  }

  // ---- access --------------------------------------------------------------------------

  private async access(name: string, depth = 0): Promise<AccessMode> {
    const el = this.node(name);
    if (depth > 32) throw new GenApiError(`'${name}' refers to itself`, 'unsupported');
    if ((await this.flag(el, 'pIsImplemented')) === false) return 'NI';
    if ((await this.flag(el, 'pIsAvailable')) === false) return 'NA';
    let mode = await this.baseAccess(el, depth);
    const imposed = childText(el, 'ImposedAccessMode') as AccessMode | undefined;
    if (imposed && ACCESS_RANK[imposed]! >= 2 && mode === 'RW') mode = imposed;
    if (mode === 'RW' && (await this.locked(el))) mode = 'RO';
    return mode;
  }

  private async baseAccess(el: XmlElement, depth: number): Promise<AccessMode> {
    if (REGISTER_NODES.has(el.tag)) return (childText(el, 'AccessMode') as AccessMode) ?? 'RO';
    if (el.tag === 'SwissKnife' || el.tag === 'IntSwissKnife' || el.tag === 'Category') return 'RO';
    const target = this.pointer(el, 'pValue');
    if (!target) return el.tag === 'Command' ? 'WO' : 'RW';
    const inner = await this.access(target, depth + 1);
    if (el.tag === 'Command' && inner === 'RW') return 'WO';
    return inner;
  }

  private async locked(el: XmlElement): Promise<boolean> {
    return (await this.flag(el, 'pIsLocked')) === true;
  }

  /** A p-flag: undefined when absent, else whether the node it points to is non-zero. */
  private async flag(el: XmlElement, tag: string): Promise<boolean | undefined> {
    const target = childText(el, tag);
    if (target === undefined) return undefined;
    const node = this.node(target);
    if (node.tag === 'Boolean') return (await this.getValue(target)) === true;
    return (await this.num(target)) !== 0;
  }

  // ---- numbers ------------------------------------------------------------------------

  private node(name: string): XmlElement {
    const el = this.nodes.get(name);
    if (!el) throw new GenApiError(`no feature '${name}'`, 'not-found');
    return el;
  }

  private pointer(el: XmlElement, tag: string): string | undefined {
    return childText(el, tag);
  }

  /** A property given either directly (`Min`) or by a pointer (`pMin`). */
  private async prop(el: XmlElement, tag: string, fallback: number): Promise<number>;
  private async prop(el: XmlElement, tag: string): Promise<number | undefined>;
  private async prop(el: XmlElement, tag: string, fallback?: number): Promise<number | undefined> {
    const p = childText(el, `p${tag}`);
    if (p !== undefined) return this.num(p);
    const v = childText(el, tag);
    return v !== undefined ? parseNumber(v) : fallback;
  }

  /** Value of a node with Value/pValue (Integer, Float, Boolean, Enumeration, Command). */
  private async valueOf(el: XmlElement): Promise<number> {
    const target = this.pointer(el, 'pValue');
    if (target) return this.num(target);
    const local = this.local.get(el.attrs.Name!);
    if (typeof local === 'number') return local;
    return parseNumber(childText(el, 'Value') ?? '0');
  }

  private async num(name: string): Promise<number> {
    const el = this.node(name);
    switch (el.tag) {
      case 'Integer':
      case 'Float':
      case 'Boolean':
      case 'Enumeration':
      case 'Command':
        return this.valueOf(el);
      case 'IntReg':
      case 'MaskedIntReg':
      case 'StructEntry':
        return this.readInt(el);
      case 'FloatReg':
        return this.readFloat(el);
      case 'IntSwissKnife':
      case 'SwissKnife':
        return this.swissKnife(el);
      case 'IntConverter':
      case 'Converter':
        return this.convertTo(el);
      default:
        throw new GenApiError(`'${name}' (${el.tag}) has no numeric value`, 'unsupported');
    }
  }

  private formula(text: string): Formula {
    let f = this.formulas.get(text);
    if (!f) {
      f = parseFormula(text);
      this.formulas.set(text, f);
    }
    return f;
  }

  /** Variables of a formula node: pVariable nodes, Constants, and named Expressions. */
  private async variables(el: XmlElement): Promise<Record<string, number>> {
    const vars: Record<string, number> = {};
    for (const v of childList(el, 'pVariable')) vars[v.attrs.Name!] = await this.num(v.text);
    for (const c of childList(el, 'Constant')) vars[c.attrs.Name!] = parseNumber(c.text);
    for (const e of childList(el, 'Expression'))
      vars[e.attrs.Name!] = this.formula(e.text).evaluate(vars, el.tag.startsWith('Int'));
    return vars;
  }

  private async swissKnife(el: XmlElement): Promise<number> {
    const integer = el.tag === 'IntSwissKnife';
    return this.formula(childText(el, 'Formula') ?? '0').evaluate(
      await this.variables(el),
      integer,
    );
  }

  private async convertTo(el: XmlElement): Promise<number> {
    const vars = await this.variables(el);
    vars.FROM = await this.num(this.pointer(el, 'pValue')!);
    return this.formula(childText(el, 'FormulaTo') ?? 'FROM').evaluate(
      vars,
      el.tag === 'IntConverter',
    );
  }

  private async range(el: XmlElement): Promise<{ min: number; max: number; inc?: number }> {
    const integer = INTEGER_NODES.has(el.tag);
    let min = await this.prop(el, 'Min');
    let max = await this.prop(el, 'Max');
    const target = this.pointer(el, 'pValue');
    if (
      (min === undefined || max === undefined) &&
      target &&
      el.tag !== 'IntConverter' &&
      el.tag !== 'Converter'
    ) {
      const inner = await this.range(this.node(target)).catch(() => undefined);
      min ??= inner?.min;
      max ??= inner?.max;
    }
    if ((min === undefined || max === undefined) && REGISTER_NODES.has(el.tag) && integer) {
      const bits = await this.fieldBits(el);
      const signed = childText(el, 'Sign') === 'Signed';
      min ??= signed ? -(2 ** (bits - 1)) : 0;
      max ??= signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
    }
    min ??= integer ? Number.MIN_SAFE_INTEGER : -Number.MAX_VALUE;
    max ??= integer ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE;
    return integer ? { min, max, inc: await this.prop(el, 'Inc', 1) } : { min, max };
  }

  // ---- registers ------------------------------------------------------------------------

  private async address(el: XmlElement): Promise<number> {
    let address = 0;
    for (const a of childList(el, 'Address')) address += parseNumber(a.text);
    for (const p of childList(el, 'pAddress')) address += await this.num(p.text);
    for (const s of childList(el, 'IntSwissKnife')) address += await this.swissKnife(s);
    const index = childList(el, 'pIndex')[0];
    if (index) {
      const offset = index.attrs.Offset
        ? parseNumber(index.attrs.Offset)
        : index.attrs.pOffset
          ? await this.num(index.attrs.pOffset)
          : await this.length(el);
      address += (await this.num(index.text)) * offset;
    }
    return address;
  }

  private async length(el: XmlElement): Promise<number> {
    return this.prop(el, 'Length', 4);
  }

  private bigEndian(el: XmlElement): boolean {
    return childText(el, 'Endianess') === 'BigEndian';
  }

  private async readBytes(el: XmlElement): Promise<Uint8Array> {
    const key = `${el.tag}:${el.attrs.Name}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const bytes = await this.port.read(await this.address(el), await this.length(el));
    if (childText(el, 'Cachable') !== 'NoCache') this.cache.set(key, bytes);
    return bytes;
  }

  private async writeBytes(el: XmlElement, bytes: Uint8Array): Promise<void> {
    await this.port.write(await this.address(el), bytes);
  }

  /** Lowest and highest bit of a masked field, counted from the LSB of the register value. */
  private async field(el: XmlElement): Promise<{ lsb: number; msb: number } | undefined> {
    const bit = childText(el, 'Bit');
    const lsbText = childText(el, 'LSB');
    const msbText = childText(el, 'MSB');
    if (bit === undefined && lsbText === undefined && msbText === undefined) return undefined;
    const bits = 8 * (await this.length(el));
    let lsb = parseNumber(bit ?? lsbText ?? '0');
    let msb = parseNumber(bit ?? msbText ?? '0');
    // GenICam numbers the bits of a big-endian register from its most significant one.
    if (this.bigEndian(el)) {
      lsb = bits - 1 - lsb;
      msb = bits - 1 - msb;
    }
    return { lsb: Math.min(lsb, msb), msb: Math.max(lsb, msb) };
  }

  private async fieldBits(el: XmlElement): Promise<number> {
    const f = await this.field(el);
    return f ? f.msb - f.lsb + 1 : 8 * (await this.length(el));
  }

  private decodeUnsigned(el: XmlElement, bytes: Uint8Array): bigint {
    let v = 0n;
    const n = bytes.length;
    for (let i = 0; i < n; i++) {
      const b = this.bigEndian(el) ? bytes[i]! : bytes[n - 1 - i]!;
      v = (v << 8n) | BigInt(b);
    }
    return v;
  }

  private encodeUnsigned(el: XmlElement, value: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let v = BigInt.asUintN(8 * length, value);
    for (let i = 0; i < length; i++) {
      out[this.bigEndian(el) ? length - 1 - i : i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return out;
  }

  private async readInt(el: XmlElement): Promise<number> {
    const bytes = await this.readBytes(el);
    let v = this.decodeUnsigned(el, bytes);
    const f = await this.field(el);
    let bits = 8 * bytes.length;
    if (f) {
      bits = f.msb - f.lsb + 1;
      v = (v >> BigInt(f.lsb)) & ((1n << BigInt(bits)) - 1n);
    }
    if (childText(el, 'Sign') === 'Signed') v = BigInt.asIntN(bits, v);
    return Number(v);
  }

  private async writeInt(el: XmlElement, value: number): Promise<void> {
    const length = await this.length(el);
    const f = await this.field(el);
    let raw = BigInt(Math.round(value));
    if (f) {
      // Read the register fresh: other fields share it.
      const key = `${el.tag}:${el.attrs.Name}`;
      this.cache.delete(key);
      const current = this.decodeUnsigned(el, await this.readBytes(el));
      const mask = ((1n << BigInt(f.msb - f.lsb + 1)) - 1n) << BigInt(f.lsb);
      raw = (current & ~mask) | ((raw << BigInt(f.lsb)) & mask);
    }
    await this.writeBytes(el, this.encodeUnsigned(el, raw, length));
  }

  private async readFloat(el: XmlElement): Promise<number> {
    const bytes = await this.readBytes(el);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const little = !this.bigEndian(el);
    return bytes.length === 8 ? view.getFloat64(0, little) : view.getFloat32(0, little);
  }

  private async writeFloat(el: XmlElement, value: number): Promise<void> {
    const length = await this.length(el);
    const out = new Uint8Array(length);
    const view = new DataView(out.buffer);
    if (length === 8) view.setFloat64(0, value, !this.bigEndian(el));
    else view.setFloat32(0, value, !this.bigEndian(el));
    await this.writeBytes(el, out);
  }

  private async stringOf(el: XmlElement): Promise<string> {
    if (el.tag === 'String') {
      const target = this.pointer(el, 'pValue');
      if (target) return String(await this.getValue(target));
      return String(this.local.get(el.attrs.Name!) ?? childText(el, 'Value') ?? '');
    }
    const bytes = await this.readBytes(el);
    const end = bytes.indexOf(0);
    return new TextDecoder('latin1').decode(end < 0 ? bytes : bytes.subarray(0, end));
  }

  // ---- writes ------------------------------------------------------------------------

  private async write(el: XmlElement, value: FeatureValue): Promise<void> {
    const name = el.attrs.Name!;
    switch (el.tag) {
      case 'Enumeration':
        return this.setNum(name, await this.enumValue(el, value));
      case 'Boolean': {
        if (typeof value !== 'boolean')
          throw new GenApiError(`feature '${name}' must be true or false`, 'invalid-value');
        return this.setNum(
          name,
          await this.prop(el, value ? 'OnValue' : 'OffValue', value ? 1 : 0),
        );
      }
      case 'Command':
        if (value !== true)
          throw new GenApiError(`'${name}' is a command: execute it with true`, 'invalid-value');
        return this.execute(name);
      case 'String':
      case 'StringReg':
        return this.writeString(el, value);
      case 'Register':
        return this.writeBytes(el, Buffer.from(String(value), 'hex'));
      default:
        return this.writeNumber(el, value);
    }
  }

  private async writeNumber(el: XmlElement, value: FeatureValue): Promise<void> {
    const name = el.attrs.Name!;
    const integer = INTEGER_NODES.has(el.tag);
    if (
      typeof value !== 'number' ||
      !Number.isFinite(value) ||
      (integer && !Number.isInteger(value))
    )
      throw new GenApiError(
        `feature '${name}' must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(value)}`,
        'invalid-value',
      );
    const { min, max, inc } = await this.range(el);
    if (value < min || value > max)
      throw new GenApiError(
        `feature '${name}' must be between ${min} and ${max}, got ${value}`,
        'out-of-range',
      );
    if (integer && inc && inc > 1 && (value - min) % inc !== 0)
      throw new GenApiError(
        `feature '${name}' must be ${min} plus a multiple of ${inc}, got ${value}`,
        'out-of-range',
      );
    await this.setNum(name, value);
  }

  private async setNum(name: string, value: number): Promise<void> {
    const el = this.node(name);
    switch (el.tag) {
      case 'Integer':
      case 'Float':
      case 'Boolean':
      case 'Enumeration':
      case 'Command': {
        const target = this.pointer(el, 'pValue');
        if (target) return this.setNum(target, value);
        this.local.set(name, value);
        return;
      }
      case 'IntReg':
      case 'MaskedIntReg':
      case 'StructEntry':
        return this.writeInt(el, value);
      case 'FloatReg':
        return this.writeFloat(el, value);
      case 'IntConverter':
      case 'Converter': {
        const vars = await this.variables(el);
        vars.TO = value;
        const raw = this.formula(childText(el, 'FormulaFrom') ?? 'TO').evaluate(vars);
        const target = this.node(this.pointer(el, 'pValue')!);
        return this.setNum(
          target.attrs.Name!,
          INTEGER_NODES.has(target.tag) ? Math.round(raw) : raw,
        );
      }
      default:
        throw new GenApiError(`'${name}' (${el.tag}) cannot be written`, 'not-writable');
    }
  }

  private entryValue(entry: XmlElement): number {
    return parseNumber(childText(entry, 'Value') ?? '0');
  }

  private async availableEntries(el: XmlElement): Promise<string[]> {
    const names: string[] = [];
    for (const entry of childList(el, 'EnumEntry')) {
      if ((await this.flag(entry, 'pIsImplemented')) === false) continue;
      if ((await this.flag(entry, 'pIsAvailable')) === false) continue;
      names.push(entry.attrs.Name!);
    }
    return names;
  }

  private async enumValue(el: XmlElement, value: FeatureValue): Promise<number> {
    const entries = childList(el, 'EnumEntry');
    const entry = entries.find((e) =>
      typeof value === 'number' ? this.entryValue(e) === value : e.attrs.Name === value,
    );
    const available = await this.availableEntries(el);
    if (!entry || !available.includes(entry.attrs.Name!))
      throw new GenApiError(
        `feature '${el.attrs.Name}' must be one of: ${available.join(', ')}; got ${JSON.stringify(value)}`,
        'invalid-value',
      );
    return this.entryValue(entry);
  }

  private async writeString(el: XmlElement, value: FeatureValue): Promise<void> {
    if (typeof value !== 'string')
      throw new GenApiError(`feature '${el.attrs.Name}' must be a string`, 'invalid-value');
    if (el.tag === 'String') {
      const target = this.pointer(el, 'pValue');
      if (target) return this.write(this.node(target), value);
      this.local.set(el.attrs.Name!, value);
      return;
    }
    const length = await this.length(el);
    const bytes = Buffer.from(value, 'latin1');
    if (bytes.length > length)
      throw new GenApiError(
        `feature '${el.attrs.Name}' holds at most ${length} characters`,
        'out-of-range',
      );
    const out = new Uint8Array(length);
    out.set(bytes);
    await this.writeBytes(el, out);
  }
}
