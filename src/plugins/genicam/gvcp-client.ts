import dgram from 'node:dgram';
import { SafeEmitter, type Logger } from '../../index.js';
import type { RegisterPort } from './genapi/index.js';
import {
  Bootstrap,
  decodeAck,
  encodeReadMemory,
  encodeReadRegisters,
  encodeWriteMemory,
  encodeWriteRegisters,
  GVCP_MAX_MEMORY_BYTES,
  GVCP_PORT,
  GvcpCommand,
  pendingAckMs,
  Privilege,
  readMemoryResult,
  readRegistersResult,
  statusName,
  type GvcpAck,
} from './gvcp.js';

/** Options of a control channel to one device. */
export interface GvcpClientOptions {
  /** Device IPv4 address. */
  address: string;
  /** Device GVCP port; default 3956. */
  port?: number;
  /** Local address to bind; default any. */
  localAddress?: string;
  /** Time to wait for an acknowledge before sending again (ms); default 250. */
  timeoutMs?: number;
  /** Attempts per command before it fails; default 4. */
  attempts?: number;
  /** Interval of the heartbeat that keeps the control privilege (ms); default 1000. */
  heartbeatMs?: number;
}

/** A command the device refused: carries the GVCP status. */
export class GvcpStatusError extends Error {
  constructor(
    message: string,
    /** The acknowledge's status code. */
    readonly status: number,
  ) {
    super(message);
  }
}

/** A command the device did not answer after every attempt. */
export class GvcpTimeoutError extends Error {}

/** Events of a control channel. */
export type GvcpClientEvents = {
  /** The device stopped answering the heartbeat; the control privilege is gone. */
  lost: [string];
};

interface Pending {
  id: number;
  resolve(ack: GvcpAck): void;
  reject(err: Error): void;
  onPending(ms: number): void;
}

/**
 * The control channel to one GigE Vision device: register and memory access with request ids,
 * retries and PENDING_ACK, the control privilege kept by a heartbeat, and loss detection.
 * Commands are sent one at a time, as GigE Vision devices expect.
 */
export class GvcpClient extends SafeEmitter<GvcpClientEvents> implements RegisterPort {
  private socket: dgram.Socket | undefined;
  private nextId = 1;
  private queue: Promise<unknown> = Promise.resolve();
  private pending: Pending | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private controlling = false;
  private closed = false;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly heartbeatMs: number;

  constructor(
    private readonly options: GvcpClientOptions,
    private readonly logger?: Logger,
  ) {
    super(logger);
    this.port = options.port ?? GVCP_PORT;
    this.timeoutMs = options.timeoutMs ?? 250;
    this.attempts = options.attempts ?? 4;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
  }

  /** Device address this channel talks to. */
  get address(): string {
    return this.options.address;
  }

  /** True while we hold the control privilege. */
  get hasControl(): boolean {
    return this.controlling;
  }

  /** Local address of the control socket (the device sees our commands from it). */
  get localAddress(): string {
    return this.socket?.address().address ?? '0.0.0.0';
  }

  /** Opens the socket; connecting it lets the kernel pick the right local address. */
  async open(): Promise<void> {
    if (this.socket) return;
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      if (rinfo.address === this.options.address) this.onMessage(msg);
    });
    socket.on('error', (err) => this.logger?.warn({ err }, 'GVCP socket error'));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: this.options.localAddress, port: 0 }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    await new Promise<void>((resolve) => socket.connect(this.port, this.options.address, resolve));
    this.socket = socket;
    this.closed = false;
  }

  /** Releases the control privilege if held and closes the socket; idempotent. */
  async close(): Promise<void> {
    if (this.closed || !this.socket) return;
    if (this.controlling) await this.releaseControl().catch(() => undefined);
    this.stopHeartbeat();
    this.closed = true;
    this.pending?.reject(new Error('control channel closed'));
    const socket = this.socket;
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** Reads 32-bit registers in one command. */
  async readRegisters(addresses: readonly number[]): Promise<number[]> {
    const ack = await this.transact((id) => encodeReadRegisters(id, addresses));
    return readRegistersResult(ack);
  }

  /** Reads one 32-bit register. */
  async readRegister(address: number): Promise<number> {
    const [value] = await this.readRegisters([address]);
    return value!;
  }

  /** Writes one 32-bit register. */
  async writeRegister(address: number, value: number): Promise<void> {
    await this.transact((id) => encodeWriteRegisters(id, [{ address, value }]));
  }

  /** Reads device memory of any length (split into READMEM commands of at most 512 bytes). */
  async readMemory(address: number, length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    for (let done = 0; done < length; done += GVCP_MAX_MEMORY_BYTES) {
      const count = Math.min(GVCP_MAX_MEMORY_BYTES, length - done);
      const ack = await this.transact((id) => encodeReadMemory(id, address + done, count));
      out.set(readMemoryResult(ack).subarray(0, count), done);
    }
    return out;
  }

  /** Writes device memory; a length that is not a multiple of 4 keeps the bytes after it. */
  async writeMemory(address: number, data: Uint8Array): Promise<void> {
    let bytes = data;
    if (data.length % 4 !== 0) {
      // WRITEMEM moves whole words: read the tail word so the bytes after `data` are kept.
      const padded = Math.ceil(data.length / 4) * 4;
      bytes = await this.readMemory(address, padded);
      bytes.set(data);
    }
    for (let done = 0; done < bytes.length; done += GVCP_MAX_MEMORY_BYTES) {
      const chunk = bytes.subarray(done, done + GVCP_MAX_MEMORY_BYTES);
      await this.transact((id) => encodeWriteMemory(id, address + done, chunk));
    }
  }

  /** RegisterPort read: READREG for an aligned word (always supported), READMEM otherwise. */
  async read(address: number, length: number): Promise<Uint8Array> {
    if (length === 4 && address % 4 === 0) {
      const value = await this.readRegister(address);
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, value);
      return out;
    }
    return this.readMemory(address, length);
  }

  /** RegisterPort write: WRITEREG for an aligned word, WRITEMEM otherwise. */
  async write(address: number, data: Uint8Array): Promise<void> {
    if (data.length === 4 && address % 4 === 0) {
      const value = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
      return this.writeRegister(address, value);
    }
    return this.writeMemory(address, data);
  }

  /** Sends a packet that needs no acknowledge (PACKETRESEND). */
  sendUnacknowledged(packet: Uint8Array): void {
    this.socket?.send(packet);
  }

  /** A fresh request id for a command sent outside the queue (never 0). */
  allocateId(): number {
    const id = this.nextId;
    this.nextId = id >= 0xffff ? 1 : id + 1;
    return id;
  }

  /**
   * Takes the control privilege and keeps it with a heartbeat. A device controlled by another
   * application answers "access denied": say so.
   */
  async takeControl(): Promise<void> {
    try {
      await this.writeRegister(Bootstrap.controlChannelPrivilege, Privilege.control);
    } catch (err) {
      if (err instanceof GvcpStatusError && err.status === 0x8006)
        throw new Error(
          `the camera at ${this.address} is controlled by another application; close it and retry`,
          { cause: err },
        );
      throw err;
    }
    this.controlling = true;
    this.startHeartbeat();
  }

  /** Gives the control privilege back. */
  async releaseControl(): Promise<void> {
    this.stopHeartbeat();
    if (!this.controlling) return;
    this.controlling = false;
    await this.writeRegister(Bootstrap.controlChannelPrivilege, 0);
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    this.heartbeat = setInterval(() => {
      // Reading the privilege register both refreshes the device's heartbeat timer and tells
      // us whether we still own it (a device reboot clears it).
      this.readRegister(Bootstrap.controlChannelPrivilege).then(
        (value) => {
          if (this.controlling && (value & Privilege.control) === 0) this.lose('lost control');
        },
        (err: Error) => {
          if (this.controlling && !this.closed) this.lose(err.message);
        },
      );
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  private lose(reason: string): void {
    this.controlling = false;
    this.stopHeartbeat();
    this.safeEmit('lost', `camera at ${this.address} stopped answering: ${reason}`);
  }

  /** Queues a command: one in flight at a time, as devices expect. */
  private transact(build: (id: number) => Uint8Array): Promise<GvcpAck> {
    const run = this.queue.then(() => this.send(build));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private send(build: (id: number) => Uint8Array): Promise<GvcpAck> {
    const socket = this.socket;
    if (!socket || this.closed) return Promise.reject(new Error('control channel is not open'));
    const id = this.allocateId();
    const packet = build(id);
    const name = commandName(new DataView(packet.buffer).getUint16(2));
    return new Promise<GvcpAck>((resolve, reject) => {
      let attempt = 0;
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        if (this.pending?.id === id) this.pending = undefined;
      };
      const arm = (ms: number) => {
        clearTimeout(timer);
        timer = setTimeout(onTimeout, ms);
      };
      const transmit = () => {
        attempt += 1;
        socket.send(packet);
        arm(this.timeoutMs);
      };
      const onTimeout = () => {
        if (attempt < this.attempts) return transmit();
        finish();
        reject(
          new GvcpTimeoutError(
            `camera at ${this.address} did not answer ${name} after ${attempt} attempts`,
          ),
        );
      };
      this.pending = {
        id,
        resolve: (ack) => {
          finish();
          if (ack.status !== 0)
            reject(
              new GvcpStatusError(
                `camera at ${this.address} refused ${name}: ${statusName(ack.status)}`,
                ack.status,
              ),
            );
          else resolve(ack);
        },
        reject: (err) => {
          finish();
          reject(err);
        },
        // The device is working on it: wait as long as it says, without resending.
        onPending: (ms) => arm(ms + this.timeoutMs),
      };
      transmit();
    });
  }

  private onMessage(msg: Buffer): void {
    let ack: GvcpAck;
    try {
      ack = decodeAck(msg);
    } catch {
      return;
    }
    const pending = this.pending;
    // An answer to an earlier attempt we gave up on, or a duplicate: ignore it.
    if (!pending || ack.id !== pending.id) return;
    if (ack.ack === GvcpCommand.pendingAck) pending.onPending(pendingAckMs(ack));
    else pending.resolve(ack);
  }
}

function commandName(code: number): string {
  const entry = Object.entries(GvcpCommand).find(([, c]) => c === code);
  return entry ? entry[0].replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`) : `command ${code}`;
}
