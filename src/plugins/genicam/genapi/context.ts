import { GenApiError } from './errors.js';
import { child, childrenOf } from './xml-model.js';
import type { Node, NodeContext, RegisterAccess } from './nodes/node.js';
import type { RegisterPort } from './types.js';

interface CacheEntry {
  address: number;
  length: number;
  bytes: Uint8Array;
}

// Only register bytes are cached: every computed value (SwissKnife, Converter, bounds,
// availability) is evaluated again from them, so dropping bytes is all invalidation has to do.
/** The node table plus the register cache, shared by all nodes of one NodeMap. */
export class DeviceContext implements NodeContext {
  readonly nodes = new Map<string, Node>();
  // Keyed by address and length so StructEntries of one register share a single read.
  private readonly cache = new Map<string, CacheEntry>();
  // Registers whose pInvalidator changed: their next read goes to the device.
  private readonly stale = new Set<string>();
  private readonly invalidates = new Map<string, string[]>();
  private devicePort: string | undefined;

  constructor(private readonly port: RegisterPort) {}

  /** Registers a node; the first definition of a name wins, as duplicates are XML bugs. */
  add(node: Node): void {
    if (node.name && !this.nodes.has(node.name)) this.nodes.set(node.name, node);
  }

  /** Builds the invalidation graph and picks the device port once all nodes are known. */
  finish(): void {
    for (const node of this.nodes.values()) {
      for (const inv of childrenOf(node.el, 'pInvalidator')) {
        const list = this.invalidates.get(inv.text) ?? [];
        list.push(node.name);
        this.invalidates.set(inv.text, list);
      }
    }
    // Chunk ports (with a ChunkID) read from image buffers, not from the device.
    const ports = [...this.nodes.values()].filter(
      (n) => n.el.tag === 'Port' && !child(n.el, 'ChunkID'),
    );
    this.devicePort = (ports.find((p) => p.name === 'Device') ?? ports[0])?.name;
  }

  get(name: string, referrer: string): Node {
    const node = this.nodes.get(name);
    if (!node) {
      throw new GenApiError(`${referrer} refers to ${name}, which is not in the XML`, 'not-found');
    }
    return node;
  }

  isDevicePort(name: string): boolean {
    return this.devicePort === undefined || name === this.devicePort;
  }

  async readRegister(reg: RegisterAccess, fresh: boolean): Promise<Uint8Array> {
    const address = await reg.address();
    const length = await reg.length();
    reg.checkPort();
    const key = `${address}:${length}`;
    const cached = this.cache.get(key);
    if (cached && !fresh && reg.cachable !== 'NoCache' && !this.stale.has(reg.name)) {
      return cached.bytes.slice();
    }
    const bytes = new Uint8Array(length);
    bytes.set((await this.port.read(address, length)).subarray(0, length));
    this.stale.delete(reg.name);
    if (reg.cachable !== 'NoCache') this.cache.set(key, { address, length, bytes });
    return bytes.slice();
  }

  async writeRegister(reg: RegisterAccess, bytes: Uint8Array): Promise<void> {
    const address = await reg.address();
    const length = await reg.length();
    reg.checkPort();
    await this.port.write(address, bytes);
    // Any cached register overlapping the written bytes is now out of date.
    for (const [key, e] of this.cache) {
      if (e.address < address + bytes.length && address < e.address + e.length)
        this.cache.delete(key);
    }
    if (reg.cachable === 'WriteThrough' && bytes.length === length) {
      this.cache.set(`${address}:${length}`, { address, length, bytes: bytes.slice() });
      this.stale.delete(reg.name);
    }
  }

  changed(name: string, seen = new Set<string>()): void {
    for (const reg of this.invalidates.get(name) ?? []) {
      if (seen.has(reg)) continue;
      seen.add(reg);
      this.stale.add(reg);
      this.changed(reg, seen); // registers invalidated in turn invalidate their dependents
    }
  }

  /** Forgets every cached register value. */
  clear(): void {
    this.cache.clear();
    this.stale.clear();
  }
}
