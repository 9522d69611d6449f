import { GenApiError } from '../errors.js';
import { decodeInt, encodeInt, intRange, toBigInt } from '../numbers.js';
import type { FeatureValue } from '../types.js';
import { childrenOf, type XmlElement } from '../xml-model.js';
import { SwissKnifeNode } from './formula-nodes.js';
import { Node, type Cachable, type NodeContext, type RegisterAccess } from './node.js';

/** Base of every node backed by device memory: address arithmetic, length, port, cache policy. */
abstract class RegisterNode extends Node implements RegisterAccess {
  readonly cachable: Cachable;
  protected readonly littleEndian: boolean;
  // Inline <IntSwissKnife> children compute part of the address (GenApi allows them here).
  private readonly addressKnives: SwissKnifeNode[];

  constructor(el: XmlElement, ctx: NodeContext) {
    super(el, ctx);
    const c = this.text('Cachable');
    this.cachable = c === 'NoCache' || c === 'WriteAround' ? c : 'WriteThrough';
    // The standard's default is LittleEndian; GigE Vision XML files say BigEndian explicitly.
    this.littleEndian = this.text('Endianess') !== 'BigEndian';
    this.addressKnives = childrenOf(el, 'IntSwissKnife').map(
      (k, i) => new SwissKnifeNode(k, ctx, `${this.name}/IntSwissKnife[${i}]`),
    );
  }

  async address(): Promise<number> {
    let address = 0;
    for (const a of childrenOf(this.el, 'Address')) address += this.constant('Address', a.text);
    for (const p of this.refs('pAddress')) address += await p.readNumber();
    for (const k of this.addressKnives) address += await k.readNumber();
    for (const p of childrenOf(this.el, 'pIndex')) {
      const index = await this.ctx.get(p.text, this.name).readNumber();
      let offset: number;
      if (p.attrs.pOffset !== undefined) {
        offset = await this.ctx.get(p.attrs.pOffset, this.name).readNumber();
      } else if (p.attrs.Offset !== undefined) {
        offset = this.constant('pIndex Offset', p.attrs.Offset);
      } else {
        offset = await this.length(); // the standard's default stride is the register length
      }
      address += index * offset;
    }
    return address;
  }

  async length(): Promise<number> {
    const length = await this.numberProp('Length');
    if (length === undefined || length <= 0) {
      throw new GenApiError(`${this.name} has no valid <Length>`, 'unsupported');
    }
    return length;
  }

  checkPort(): void {
    const port = this.text('pPort');
    if (port !== undefined && !this.ctx.isDevicePort(port)) {
      throw new GenApiError(
        `${this.name} is on port ${port}; only the device port can be read or written`,
        'unsupported',
      );
    }
  }

  protected readBytes(fresh: boolean): Promise<Uint8Array> {
    return this.ctx.readRegister(this, fresh);
  }

  protected async writeBytes(bytes: Uint8Array): Promise<void> {
    await this.ctx.writeRegister(this, bytes);
    this.ctx.changed(this.name);
  }
}

/** IntReg: a signed or unsigned integer of 1 to 8 bytes. */
export class IntRegNode extends RegisterNode {
  readonly type = 'Integer' as const;
  override readonly integral = true;
  protected readonly signed = this.text('Sign') === 'Signed';

  override async readNumber(fresh = false): Promise<number> {
    return Number(decodeInt(await this.readBytes(fresh), this.littleEndian, this.signed));
  }

  protected async bits(): Promise<number> {
    return 8 * (await this.length());
  }

  override async min(): Promise<number> {
    return Number(intRange(await this.bits(), this.signed).min);
  }

  override async max(): Promise<number> {
    return Number(intRange(await this.bits(), this.signed).max);
  }

  override async inc(): Promise<number> {
    return 1;
  }

  /** Rejects values the field cannot hold instead of silently truncating them. */
  protected async checkFits(value: number): Promise<bigint> {
    const { min, max } = intRange(await this.bits(), this.signed);
    const v = toBigInt(value);
    if (!Number.isInteger(value) || v < min || v > max) {
      throw new GenApiError(
        `Cannot set ${this.name} to ${value}: allowed range is ${min}..${max}`,
        'out-of-range',
      );
    }
    return v;
  }

  override async writeNumber(value: number): Promise<void> {
    const v = await this.checkFits(value);
    await this.writeBytes(encodeInt(v, await this.length(), this.littleEndian));
  }
}

/** MaskedIntReg and StructEntry: a bit field (Bit, or LSB..MSB) inside a register. */
export class MaskedIntRegNode extends IntRegNode {
  // GenApi numbers bits of big-endian registers from the most significant bit.
  private async field(): Promise<{ shift: bigint; width: number; mask: bigint }> {
    const bits = 8 * (await this.length());
    const bit = this.text('Bit');
    const lsb = this.constant('LSB', bit ?? this.text('LSB') ?? '0');
    const msb = this.constant('MSB', bit ?? this.text('MSB') ?? String(bits - 1));
    const [a, b] = this.littleEndian ? [lsb, msb] : [bits - 1 - lsb, bits - 1 - msb];
    const [lo, hi] = a <= b ? [a, b] : [b, a];
    const width = hi - lo + 1;
    return { shift: BigInt(lo), width, mask: (1n << BigInt(width)) - 1n };
  }

  protected override async bits(): Promise<number> {
    return (await this.field()).width;
  }

  override async readNumber(fresh = false): Promise<number> {
    const { shift, width, mask } = await this.field();
    const raw = decodeInt(await this.readBytes(fresh), this.littleEndian, false);
    const v = (raw >> shift) & mask;
    return Number(this.signed ? BigInt.asIntN(width, v) : v);
  }

  override async writeNumber(value: number): Promise<void> {
    const v = await this.checkFits(value);
    const { shift, width, mask } = await this.field();
    // Read-modify-write keeps the other fields of the register.
    const raw = decodeInt(await this.readBytes(false), this.littleEndian, false);
    const updated = (raw & ~(mask << shift)) | (BigInt.asUintN(width, v) << shift);
    await this.writeBytes(encodeInt(updated, await this.length(), this.littleEndian));
  }
}

/** FloatReg: an IEEE 754 float of 4 or 8 bytes. */
export class FloatRegNode extends RegisterNode {
  readonly type = 'Float' as const;

  private async size(): Promise<4 | 8> {
    const length = await this.length();
    if (length !== 4 && length !== 8) {
      throw new GenApiError(
        `${this.name}: a FloatReg must be 4 or 8 bytes, not ${length}`,
        'unsupported',
      );
    }
    return length;
  }

  override async readNumber(fresh = false): Promise<number> {
    const size = await this.size();
    const bytes = await this.readBytes(fresh);
    const view = new DataView(bytes.buffer, bytes.byteOffset, size);
    return size === 4
      ? view.getFloat32(0, this.littleEndian)
      : view.getFloat64(0, this.littleEndian);
  }

  override async min(): Promise<number> {
    return -(await this.max());
  }

  override async max(): Promise<number> {
    return (await this.size()) === 4 ? 3.4028234663852886e38 : Number.MAX_VALUE;
  }

  override async writeNumber(value: number): Promise<void> {
    const size = await this.size();
    if (!Number.isFinite(value) || Math.abs(value) > (await this.max())) {
      throw new GenApiError(
        `Cannot set ${this.name} to ${value}: not a ${size}-byte float`,
        'out-of-range',
      );
    }
    const bytes = new Uint8Array(size);
    const view = new DataView(bytes.buffer);
    if (size === 4) view.setFloat32(0, value, this.littleEndian);
    else view.setFloat64(0, value, this.littleEndian);
    await this.writeBytes(bytes);
  }
}

/** StringReg: a NUL-padded string of Length bytes. */
export class StringRegNode extends RegisterNode {
  readonly type = 'String' as const;

  override async getValue(): Promise<string> {
    const bytes = await this.readBytes(false);
    const end = bytes.indexOf(0);
    return new TextDecoder().decode(end < 0 ? bytes : bytes.subarray(0, end));
  }

  override async setValue(value: FeatureValue): Promise<void> {
    if (typeof value !== 'string') {
      throw new GenApiError(
        `${this.name} is a string; got ${JSON.stringify(value)}`,
        'invalid-value',
      );
    }
    const length = await this.length();
    const encoded = new TextEncoder().encode(value);
    if (encoded.length > length) {
      throw new GenApiError(
        `Cannot set ${this.name} to "${value}": ${encoded.length} bytes, at most ${length} allowed`,
        'out-of-range',
      );
    }
    const bytes = new Uint8Array(length);
    bytes.set(encoded);
    await this.writeBytes(bytes);
  }
}

/** Register: raw bytes, shown to clients as a hex string. */
export class RawRegisterNode extends RegisterNode {
  readonly type = 'Register' as const;

  override async getValue(): Promise<string> {
    return Buffer.from(await this.readBytes(false)).toString('hex');
  }

  override async setValue(value: FeatureValue): Promise<void> {
    const length = await this.length();
    const hex = String(value).replace(/^0x/i, '');
    if (!/^([0-9a-f]{2})*$/i.test(hex) || hex.length !== 2 * length) {
      throw new GenApiError(
        `Cannot set ${this.name} to ${JSON.stringify(value)}: expected ${length} bytes as hex`,
        'invalid-value',
      );
    }
    await this.writeBytes(Uint8Array.from(Buffer.from(hex, 'hex')));
  }

  override async readNumber(): Promise<number> {
    throw this.unsupported('numeric value (it is a raw Register)');
  }
}
