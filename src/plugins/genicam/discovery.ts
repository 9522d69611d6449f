import dgram from 'node:dgram';
import os from 'node:os';
import {
  decodeAck,
  decodeDeviceIdentity,
  encodeDiscovery,
  GVCP_PORT,
  type DeviceIdentity,
} from './gvcp.js';

/** Where and how long to look for GigE Vision devices. */
export interface DiscoveryOptions {
  /** Interface names to broadcast on (e.g. `eth0`, `lo`); default every IPv4 interface; `[]` = none. */
  interfaces?: string[];
  /** Device addresses to ask directly (unicast), e.g. cameras behind a router; default none. */
  addresses?: string[];
  /** How long to wait for answers (ms); default 500. */
  timeoutMs?: number;
  /** Device GVCP port; default 3956. */
  port?: number;
}

/** A device that answered, and the local interface address it answered on. */
export interface DiscoveredDevice extends DeviceIdentity {
  /** Local address of the interface the answer came in on. */
  interfaceAddress: string;
}

/** The local IPv4 addresses of the named interfaces (all when `names` is undefined). */
export function interfaceAddresses(names?: string[]): string[] {
  const all = os.networkInterfaces();
  const wanted = names ?? Object.keys(all);
  const unknown = wanted.filter((n) => !(n in all));
  if (unknown.length > 0)
    throw new Error(
      `unknown network interface(s): ${unknown.join(', ')}; this machine has ${Object.keys(all).join(', ')}`,
    );
  return wanted.flatMap((n) =>
    (all[n] ?? []).filter((a) => a.family === 'IPv4').map((a) => a.address),
  );
}

async function probeFrom(
  localAddress: string,
  targets: string[],
  broadcast: boolean,
  port: number,
  timeoutMs: number,
): Promise<DiscoveredDevice[]> {
  const socket = dgram.createSocket('udp4');
  const found: DiscoveredDevice[] = [];
  socket.on('message', (msg) => {
    try {
      const ack = decodeAck(msg);
      if (ack.status === 0 && ack.ack === 0x0003)
        found.push({ ...decodeDeviceIdentity(ack.payload), interfaceAddress: localAddress });
    } catch {
      // Not a discovery answer: someone else's traffic on the port.
    }
  });
  socket.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: localAddress, port: 0 }, () => resolve());
    });
    if (broadcast) socket.setBroadcast(true);
    const packet = encodeDiscovery(0xffff, true);
    for (const target of targets) socket.send(packet, port, target);
    await new Promise((r) => setTimeout(r, timeoutMs));
  } finally {
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
  return found;
}

/**
 * Finds GigE Vision devices: a DISCOVERY broadcast from every chosen interface (a socket bound
 * to the interface's address, so the broadcast leaves by that interface), and a unicast
 * DISCOVERY to every given address. Duplicates (a device seen twice) are merged.
 */
export async function discoverDevices(options: DiscoveryOptions = {}): Promise<DiscoveredDevice[]> {
  const port = options.port ?? GVCP_PORT;
  const timeoutMs = options.timeoutMs ?? 500;
  const locals = options.interfaces?.length === 0 ? [] : interfaceAddresses(options.interfaces);
  const probes = locals.map((a) => probeFrom(a, ['255.255.255.255'], true, port, timeoutMs));
  if (options.addresses?.length)
    probes.push(probeFrom('0.0.0.0', options.addresses, false, port, timeoutMs));
  const seen = new Map<string, DiscoveredDevice>();
  for (const device of (await Promise.all(probes)).flat()) {
    const key = `${device.mac}/${device.ip}`;
    if (!seen.has(key)) seen.set(key, device);
  }
  return [...seen.values()];
}

/** Which camera a detector wants: an address, or a serial number / user name to discover. */
export interface CameraSelector {
  /** IPv4 address ('' = discover). */
  address: string;
  /** Serial number ('' = any). */
  serial: string;
  /** User-defined name ('' = any). */
  userName: string;
  /** Interfaces to broadcast on ([] = all). */
  interfaces: string[];
  /** How long to wait for answers (ms). */
  timeoutMs: number;
}

function describeDevice(d: DeviceIdentity): string {
  const name = d.userName ? ` '${d.userName}'` : '';
  return `${d.vendor} ${d.model} serial ${d.serial}${name} at ${d.ip}`;
}

/** The address of the selected camera; a clear error when none or several answer. */
export async function locateCamera(selector: CameraSelector): Promise<string> {
  if (selector.address !== '') return selector.address;
  const found = await discoverDevices({
    interfaces: selector.interfaces.length > 0 ? selector.interfaces : undefined,
    timeoutMs: selector.timeoutMs,
  });
  const matching = found.filter(
    (d) =>
      (selector.serial === '' || d.serial === selector.serial) &&
      (selector.userName === '' || d.userName === selector.userName),
  );
  const seen = found.length > 0 ? found.map(describeDevice).join('; ') : 'none';
  if (matching.length === 0)
    throw new Error(
      `no GigE Vision camera${selector.serial ? ` with serial ${selector.serial}` : ''}` +
        `${selector.userName ? ` named '${selector.userName}'` : ''} answered discovery ` +
        `(cameras that answered: ${seen}); check the cable and the address, or set options.address`,
    );
  if (matching.length > 1)
    throw new Error(
      `several GigE Vision cameras answered (${seen}); choose one with options.serial or options.address`,
    );
  return matching[0]!.ip;
}
