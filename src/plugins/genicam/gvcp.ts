/**
 * GigE Vision Control Protocol (GVCP) packets: a pure codec, no sockets.
 *
 * Every packet starts with an 8-byte big-endian header. A command: key 0x42, flags, command
 * code, payload length, request id. An acknowledge: status, ack code, payload length, the id of
 * the command it answers.
 */

/** The UDP port a GigE Vision device listens on for control commands. */
export const GVCP_PORT = 3956;

/** Largest READMEM/WRITEMEM payload a device must accept (GigE Vision: 540-byte packets). */
export const GVCP_MAX_MEMORY_BYTES = 512;

/** The first byte of every command. */
const COMMAND_KEY = 0x42;

/** Command flag: the device must answer. */
export const FLAG_ACK_REQUIRED = 0x01;
/** Discovery flag: the device may answer by broadcast (when it is not on our subnet). */
export const FLAG_ALLOW_BROADCAST_ACK = 0x10;

/** GVCP command codes; an acknowledge's code is the command's plus one. */
export const GvcpCommand = {
  discovery: 0x0002,
  packetResend: 0x0040,
  readRegister: 0x0080,
  writeRegister: 0x0082,
  readMemory: 0x0084,
  writeMemory: 0x0086,
  pendingAck: 0x0089,
} as const;

/** Bootstrap register addresses every GigE Vision device has (GigE Vision 2.x, table 28). */
export const Bootstrap = {
  version: 0x0000,
  deviceMode: 0x0004,
  macHigh: 0x0008,
  macLow: 0x000c,
  currentIp: 0x0024,
  manufacturerName: 0x0048,
  modelName: 0x0068,
  deviceVersion: 0x0088,
  manufacturerInfo: 0x00a8,
  serialNumber: 0x00d8,
  userDefinedName: 0x00e8,
  firstUrl: 0x0200,
  secondUrl: 0x0400,
  gvcpCapability: 0x0934,
  heartbeatTimeout: 0x0938,
  timestampTickFrequencyHigh: 0x093c,
  timestampTickFrequencyLow: 0x0940,
  controlChannelPrivilege: 0x0a00,
  streamChannelPort: 0x0d00,
  streamChannelPacketSize: 0x0d04,
  streamChannelPacketDelay: 0x0d08,
  streamChannelDestination: 0x0d18,
} as const;

/** Control channel privilege bits. */
export const Privilege = { exclusive: 0x1, control: 0x2 } as const;

/** Capability bits read from the GVCP capability register that matter to us. */
export const Capability = {
  packetResend: 1 << 2,
  pendingAck: 1 << 5,
  writeMemory: 1 << 1,
} as const;

/** Status codes of acknowledges, by name (GigE Vision 2.x, table 19). */
const STATUS_NAMES: Record<number, string> = {
  0x0000: 'success',
  0x8001: 'not implemented',
  0x8002: 'invalid parameter',
  0x8003: 'invalid address',
  0x8004: 'write protect',
  0x8005: 'bad alignment',
  0x8006: 'access denied',
  0x8007: 'busy',
  0x800c: 'packet unavailable',
  0x800d: 'data overrun',
  0x800e: 'invalid header',
  0x8fff: 'error',
};

/** A readable name for an acknowledge's status code. */
export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status 0x${status.toString(16).padStart(4, '0')}`;
}

/** A decoded acknowledge. */
export interface GvcpAck {
  /** 0 on success; see statusName. */
  status: number;
  /** Acknowledge code (command + 1, or 0x0089 for PENDING_ACK). */
  ack: number;
  /** Id of the command this answers. */
  id: number;
  /** Payload after the header. */
  payload: Uint8Array;
}

function command(
  code: number,
  id: number,
  payloadLength: number,
  flags = FLAG_ACK_REQUIRED,
): { packet: Uint8Array; view: DataView } {
  const packet = new Uint8Array(8 + payloadLength);
  const view = new DataView(packet.buffer);
  view.setUint8(0, COMMAND_KEY);
  view.setUint8(1, flags);
  view.setUint16(2, code);
  view.setUint16(4, payloadLength);
  view.setUint16(6, id);
  return { packet, view };
}

/** DISCOVERY_CMD; devices answer with their identity (see decodeDiscoveryAck). */
export function encodeDiscovery(id: number, allowBroadcastAck = true): Uint8Array {
  const flags = FLAG_ACK_REQUIRED | (allowBroadcastAck ? FLAG_ALLOW_BROADCAST_ACK : 0);
  return command(GvcpCommand.discovery, id, 0, flags).packet;
}

/** READREG_CMD for one or more 32-bit registers. */
export function encodeReadRegisters(id: number, addresses: readonly number[]): Uint8Array {
  const { packet, view } = command(GvcpCommand.readRegister, id, 4 * addresses.length);
  addresses.forEach((a, i) => view.setUint32(8 + 4 * i, a));
  return packet;
}

/** WRITEREG_CMD for one or more (address, value) pairs. */
export function encodeWriteRegisters(
  id: number,
  writes: readonly { address: number; value: number }[],
): Uint8Array {
  const { packet, view } = command(GvcpCommand.writeRegister, id, 8 * writes.length);
  writes.forEach((w, i) => {
    view.setUint32(8 + 8 * i, w.address);
    view.setUint32(12 + 8 * i, w.value >>> 0);
  });
  return packet;
}

/** READMEM_CMD; the count is rounded up to a multiple of 4 as the standard requires. */
export function encodeReadMemory(id: number, address: number, count: number): Uint8Array {
  const { packet, view } = command(GvcpCommand.readMemory, id, 8);
  view.setUint32(8, address);
  view.setUint16(12, 0);
  view.setUint16(14, Math.ceil(count / 4) * 4);
  return packet;
}

/** WRITEMEM_CMD; the data length must be a multiple of 4. */
export function encodeWriteMemory(id: number, address: number, data: Uint8Array): Uint8Array {
  if (data.length % 4 !== 0) throw new Error('WRITEMEM data must be a multiple of 4 bytes');
  const { packet, view } = command(GvcpCommand.writeMemory, id, 4 + data.length);
  view.setUint32(8, address);
  packet.set(data, 12);
  return packet;
}

/** Decodes an acknowledge; throws on a packet too short to be one. */
export function decodeAck(buf: Uint8Array): GvcpAck {
  if (buf.length < 8) throw new Error(`GVCP acknowledge too short (${buf.length} bytes)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const length = view.getUint16(4);
  if (buf.length < 8 + length)
    throw new Error(`GVCP acknowledge truncated: ${buf.length - 8} of ${length} payload bytes`);
  return {
    status: view.getUint16(0),
    ack: view.getUint16(2),
    id: view.getUint16(6),
    payload: buf.subarray(8, 8 + length),
  };
}

/** The register values of a READREG_ACK. */
export function readRegistersResult(ack: GvcpAck): number[] {
  const view = new DataView(ack.payload.buffer, ack.payload.byteOffset, ack.payload.byteLength);
  const values: number[] = [];
  for (let o = 0; o + 4 <= ack.payload.length; o += 4) values.push(view.getUint32(o));
  return values;
}

/** The data of a READMEM_ACK (after its 4-byte address). */
export function readMemoryResult(ack: GvcpAck): Uint8Array {
  return ack.payload.subarray(4);
}

/** Milliseconds the device asks us to wait, from a PENDING_ACK. */
export function pendingAckMs(ack: GvcpAck): number {
  if (ack.payload.length < 4) return 0;
  return new DataView(ack.payload.buffer, ack.payload.byteOffset).getUint16(2);
}

/** What a device says about itself in a DISCOVERY_ACK (or its bootstrap registers). */
export interface DeviceIdentity {
  /** Manufacturer name. */
  vendor: string;
  /** Model name. */
  model: string;
  /** Device version string. */
  version: string;
  /** Serial number. */
  serial: string;
  /** User-defined name (may be empty). */
  userName: string;
  /** Current IPv4 address, dotted. */
  ip: string;
  /** MAC address, lower-case colon-separated. */
  mac: string;
  /** GigE Vision version "major.minor". */
  gevVersion: string;
}

function cString(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return Buffer.from(end < 0 ? bytes : bytes.subarray(0, end))
    .toString('latin1')
    .trim();
}

/** Decodes the 248 bytes of bootstrap data that a DISCOVERY_ACK carries. */
export function decodeDeviceIdentity(data: Uint8Array): DeviceIdentity {
  if (data.length < 0xf8) throw new Error(`discovery data too short (${data.length} bytes)`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const macBytes = [
    ...data.subarray(Bootstrap.macHigh + 2, Bootstrap.macHigh + 4),
    ...data.subarray(Bootstrap.macLow, Bootstrap.macLow + 4),
  ];
  const str = (offset: number, size: number) => cString(data.subarray(offset, offset + size));
  return {
    vendor: str(Bootstrap.manufacturerName, 32),
    model: str(Bootstrap.modelName, 32),
    version: str(Bootstrap.deviceVersion, 32),
    serial: str(Bootstrap.serialNumber, 16),
    userName: str(Bootstrap.userDefinedName, 16),
    ip: [...data.subarray(Bootstrap.currentIp, Bootstrap.currentIp + 4)].join('.'),
    mac: macBytes.map((b) => b.toString(16).padStart(2, '0')).join(':'),
    gevVersion: `${view.getUint16(0)}.${view.getUint16(2)}`,
  };
}

/** Dotted IPv4 to a 32-bit number (for the stream destination register). */
export function ipToNumber(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`'${ip}' is not an IPv4 address`);
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}
