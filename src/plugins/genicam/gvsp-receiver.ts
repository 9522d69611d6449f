/**
 * The receiving end of a GigE Vision stream channel: a UDP socket, frame assembly by block id,
 * packet resend requests for gaps, and a timeout for frames that stay incomplete.
 *
 * The receive path is written for hundreds of MB/s: payload bytes are copied once, from the
 * datagram straight into the frame's buffer; no per-packet objects, timers or logging. A single
 * interval timer, running only while blocks are in flight, handles resends and timeouts.
 */

import dgram from 'node:dgram';
import { BatchUdpSocket } from './batch-udp.js';
import os from 'node:os';
import { SafeEmitter } from '../../core/safe-emitter.js';
import type { Logger } from '../../core/logger.js';
import {
  GvspFormat,
  GvspStatus,
  gvspHeaderScratch,
  isImageLeader,
  readGvspHeader,
  readImageInfo,
  readLeaderPayloadType,
  readLeaderTimestamp,
  type GvspImageInfo,
} from './gvsp.js';

/** Options of a stream receiver. */
export interface GvspReceiverOptions {
  /** Local address to bind, e.g. '127.0.0.1' or '0.0.0.0'. */
  host: string;
  /** Local port; default 0 = any (read it back with `port` after `open()`). */
  port?: number;
  /** Socket receive buffer in bytes; default 32 MiB (the OS may grant less: see stats). */
  receiveBufferBytes?: number;
  /** Time after the last packet of an incomplete frame before it is dropped (ms); default 200. */
  frameTimeoutMs?: number;
  /** Time a packet may be missing before a resend is asked for (ms); default 5. */
  resendDelayMs?: number;
  /** Resend rounds per block (each asks for every range still missing); default 3. */
  maxResendRequests?: number;
  /** How datagrams are read: 'auto' (default) uses recvmmsg where it can, 'dgram' Node's socket. */
  transport?: 'auto' | 'dgram';
  /** Asks the device for packets again (PACKETRESEND to its control port); default none. */
  requestResend?: (blockId: bigint, firstPacket: number, lastPacket: number) => void;
}

/** One assembled image block: its geometry from the leader, and its bytes. */
export interface GvspFrame extends GvspImageInfo {
  /** Block id (16-bit ids wrap 65535 → 1). */
  blockId: bigint;
  /** Device timestamp from the leader, in device ticks. */
  timestampTicks: bigint;
  /** The image bytes (chunk data, when the leader announces it, is cut off). */
  data: Uint8Array;
  /** Packets that arrived after a resend request. */
  resent: number;
}

/** Counters of a receiver since it was created. */
export interface GvspStats {
  /** Frames delivered. */
  completed: number;
  /** Frames dropped after the timeout. */
  incomplete: number;
  /** Packets asked for again. */
  resendRequested: number;
  /** Packets that arrived after a resend request. */
  resentReceived: number;
  /** Datagrams received. */
  packetsReceived: number;
  /** Bytes received (GVSP packets, without IP/UDP headers). */
  bytesReceived: number;
  /** Packets that were too short, inconsistent or out of range. */
  malformed: number;
  /** Packets ignored: duplicates, late packets of finished blocks, error statuses. */
  ignored: number;
  /** Blocks dropped because their payload type is not an image. */
  unsupported: number;
  /** Receive buffer asked for (bytes). */
  receiveBufferRequested: number;
  /**
   * Receive buffer the OS granted (bytes; Linux reports twice what it grants, for its own
   * bookkeeping: this is the half, comparable with what was asked). 0 before `open()`.
   */
  receiveBufferBytes: number;
  /** How datagrams are read: 'recvmmsg' (batched, Linux), 'dgram' (Node's socket), '' before `open()`. */
  transport: '' | 'recvmmsg' | 'dgram';
}

/** Counters of a receiver that has received nothing yet (`asked`: receive buffer asked for). */
export function emptyGvspStats(asked = DEFAULT_RECEIVE_BUFFER): GvspStats {
  return {
    completed: 0,
    incomplete: 0,
    resendRequested: 0,
    resentReceived: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    malformed: 0,
    ignored: 0,
    unsupported: 0,
    receiveBufferRequested: asked,
    receiveBufferBytes: 0,
    transport: '',
  };
}

/** Events of a stream receiver. */
export type GvspReceiverEvents = {
  /** A complete frame, in block order where possible. */
  frame: [GvspFrame];
  /** A frame dropped after the timeout, with the number of packets it still lacked. */
  incomplete: [bigint, number];
  /** A socket error. */
  error: [Error];
  /** Something the caller may want to log (e.g. a receive buffer smaller than asked). */
  warning: [string];
};

/** Packet state, per packet id of a block (0: missing). */
const RECEIVED = 1;
/** Missing, and asked for again: its arrival counts as resent. */
const REQUESTED = 2;

/** Largest block accepted, to refuse a corrupt leader before allocating for it. */
const MAX_BLOCK_BYTES = 1 << 30;
/** Largest packet id accepted (a 1 GiB block in 256-byte packets). */
const MAX_PACKET_ID = 1 << 22;
const DEFAULT_RECEIVE_BUFFER = 32 * 1024 * 1024;
/** Silence before the end of a block is asked for again: this many gap delays, at least… */
const TAIL_DELAY_FACTOR = 4;
/** …this many milliseconds. */
const MIN_TAIL_DELAY_MS = 20;
/** A tick this many intervals late means the loop stalled. */
const STALL_TICKS = 4;
/** Spare buffers kept (a few blocks are in flight at once). */
const MAX_SPARE_BUFFERS = 4;
/** The smallest buffer tried when the OS refuses larger ones. */
const MIN_RECEIVE_BUFFER = 256 * 1024;

/** A payload packet that arrived before its leader (which sizes the frame buffer). */
interface Pending {
  msg: Uint8Array;
  offset: number;
  packetId: number;
}

interface Block {
  id: number;
  /** Position in block order (unwrapped block id). */
  key: number;
  state: Uint8Array;
  received: number;
  highest: number;
  /** Packet id of the trailer; -1 until it arrives. */
  lastId: number;
  payloadType: number;
  timestamp: bigint;
  /** Geometry from the leader; undefined until it arrives. */
  image: GvspImageInfo | undefined;
  /** Bytes of the image part from the leader's geometry; 0 when the format's size is unknown. */
  imageBytes: number;
  buf: Buffer | undefined;
  /** Length of every payload packet but the last; 0 until one arrives. */
  payloadSize: number;
  placed: number;
  firstPlacedId: number;
  firstPlacedLength: number;
  /** End of the bytes written so far. */
  end: number;
  pending: Pending[] | undefined;
  corrupt: boolean;
  /** When the tick last saw packets arrive (per-packet clock reads cost too much). */
  lastPacketAt: number;
  /** `received` at that tick. */
  receivedAtTick: number;
  /** When a gap was first seen; -1 when none is waiting for a resend. */
  holeSince: number;
  nextResendAt: number;
  resendRounds: number;
  resendDisabled: boolean;
  resent: number;
  /** Complete, waiting for older blocks before it is emitted. */
  frame: GvspFrame | undefined;
}

const LINUX = os.platform() === 'linux';

/**
 * Receives one GVSP stream channel. Frames are assembled by block id (several in flight), gaps
 * are asked for again through `requestResend`, frames still incomplete `frameTimeoutMs` after
 * their last packet are dropped. Frames are emitted in block order, a complete frame waiting at
 * most until the older ones complete or time out.
 */
export class GvspReceiver extends SafeEmitter<GvspReceiverEvents> {
  private socket: dgram.Socket | BatchUdpSocket | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly blocks = new Map<number, Block>();
  /** In-flight and complete-but-waiting blocks, by key. */
  private readonly order: Block[] = [];
  /** Finished block ids and when, so late packets do not start them again. */
  private readonly finished = new Map<number, number>();
  private lastKey = 0;
  private lastTickAt = 0;
  private lastCreatedId = -1;
  /** Payload bytes and trailer id of the last complete block: the next one is likely the same. */
  private lastBlockBytes = 0;
  private lastTrailerId = 0;
  private readonly header = gvspHeaderScratch();
  /** Buffers of blocks that never became frames, for the next blocks. */
  private readonly spare: Buffer[] = [];
  private readonly counters: GvspStats;
  private readonly frameTimeoutMs: number;
  private readonly resendDelayMs: number;
  private readonly maxResendRequests: number;
  private readonly retryMs: number;
  private readonly tailDelayMs: number;
  private readonly tickMs: number;
  private readonly finishedTtlMs: number;

  constructor(
    private readonly options: GvspReceiverOptions,
    logger?: Logger,
  ) {
    super(logger);
    this.frameTimeoutMs = options.frameTimeoutMs ?? 200;
    this.resendDelayMs = options.resendDelayMs ?? 5;
    this.maxResendRequests = options.maxResendRequests ?? 3;
    // Retries spread over the frame's lifetime: a lost request or a lost resent packet gets
    // another chance before the frame is given up.
    this.retryMs = Math.max(this.resendDelayMs, this.frameTimeoutMs / (this.maxResendRequests + 1));
    this.tailDelayMs = Math.min(
      Math.max(TAIL_DELAY_FACTOR * this.resendDelayMs, MIN_TAIL_DELAY_MS),
      this.frameTimeoutMs / 2,
    );
    this.tickMs = Math.max(1, Math.floor(Math.min(this.resendDelayMs, this.frameTimeoutMs) / 2));
    // Long enough for any resent or reordered packet, short enough that an acquisition restart
    // reusing the same block ids is not mistaken for late packets.
    this.finishedTtlMs = Math.max(1000, 4 * this.frameTimeoutMs);
    this.counters = emptyGvspStats(options.receiveBufferBytes);
  }

  /** Local port the stream is received on (0 before `open()`). */
  get port(): number {
    const socket = this.socket;
    if (socket instanceof BatchUdpSocket) return socket.port;
    return socket?.address().port ?? 0;
  }

  /** A snapshot of the counters. */
  get stats(): GvspStats {
    return { ...this.counters };
  }

  /** Binds the socket and sizes its receive buffer; emits 'warning' when the OS grants less. */
  async open(): Promise<void> {
    if (this.socket) return;
    if (this.closed) throw new Error('GVSP receiver is closed');
    if (this.options.transport !== 'dgram') {
      const batch = BatchUdpSocket.open(
        this.options.host,
        this.options.port ?? 0,
        this.counters.receiveBufferRequested,
      );
      if (batch) {
        this.socket = batch;
        this.counters.transport = 'recvmmsg';
        this.checkReceiveBuffer(batch.receiveBufferBytes);
        batch.start((packet) => this.onPacket(packet));
        return;
      }
    }
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: this.options.host, port: this.options.port ?? 0 }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    if (this.closed) {
      // close() ran while binding: nobody will close this socket later.
      socket.close();
      return;
    }
    this.socket = socket;
    this.counters.transport = 'dgram';
    socket.on('error', (err) => this.safeEmit('error', err));
    socket.on('message', (msg) => this.onPacket(msg));
    this.sizeReceiveBuffer(socket);
  }

  private sizeReceiveBuffer(socket: dgram.Socket): void {
    const asked = this.counters.receiveBufferRequested;
    // Linux caps silently at net.core.rmem_max; other systems refuse sizes above their limit.
    for (let size = asked; size >= MIN_RECEIVE_BUFFER; size = Math.floor(size / 2)) {
      try {
        socket.setRecvBufferSize(size);
        break;
      } catch {
        // try a smaller one
      }
    }
    const reported = socket.getRecvBufferSize();
    this.checkReceiveBuffer(LINUX ? Math.floor(reported / 2) : reported);
  }

  private checkReceiveBuffer(granted: number): void {
    const asked = this.counters.receiveBufferRequested;
    this.counters.receiveBufferBytes = granted;
    if (granted < asked)
      this.safeEmit(
        'warning',
        `GVSP receive buffer: asked ${asked} bytes, the OS granted ${granted}` +
          (LINUX ? ' (raise net.core.rmem_max)' : ''),
      );
  }

  /** Stops receiving, drops the frames in flight and clears every timer; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopTimer();
    this.blocks.clear();
    this.order.length = 0;
    this.finished.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (socket instanceof BatchUdpSocket) await socket.close();
    else if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  /** Forgets every block in flight and every finished id (call when acquisition restarts). */
  reset(): void {
    this.blocks.clear();
    this.order.length = 0;
    this.finished.clear();
    this.lastCreatedId = -1;
    this.stopTimer();
  }

  /** Takes one datagram; `msg` may be reused by the caller once this returns. */
  private onPacket(msg: Uint8Array): void {
    if (this.closed) return;
    const c = this.counters;
    c.packetsReceived++;
    c.bytesReceived += msg.length;
    const h = this.header;
    if (!readGvspHeader(msg, h)) {
      c.malformed++;
      return;
    }
    let block = this.blocks.get(h.blockId);
    if (block === undefined) {
      // Once per block: the per-packet path reads no clock (the tick notes arrivals).
      const now = performance.now();
      const finishedAt = this.finished.get(h.blockId);
      if (finishedAt !== undefined) {
        if (now - finishedAt < this.finishedTtlMs) {
          c.ignored++;
          return;
        }
        this.finished.delete(h.blockId);
      }
      if (h.status & 0x8000) {
        c.ignored++;
        return;
      }
      block = this.newBlock(h.blockId, h.extendedIds, now);
    }
    if (h.status & 0x8000) {
      c.ignored++;
      // The device cannot send these packets again: asking once more would be pointless.
      if (
        h.status === GvspStatus.packetUnavailable ||
        h.status === GvspStatus.packetRemoved ||
        h.status === GvspStatus.packetAndPreviousRemoved
      )
        block.resendDisabled = true;
      return;
    }
    const id = h.packetId;
    if (id > MAX_PACKET_ID) {
      c.malformed++;
      return;
    }
    if (id >= block.state.length) this.growState(block, id);
    const previous = block.state[id];
    if (previous === RECEIVED) {
      c.ignored++;
      return;
    }
    switch (h.format) {
      case GvspFormat.leader:
        if (id !== 0) {
          c.malformed++;
          return;
        }
        if (!this.leader(block, msg, h.dataOffset)) return;
        break;
      case GvspFormat.payload:
        if (id === 0 || (block.lastId >= 0 && id >= block.lastId)) {
          c.malformed++;
          return;
        }
        if (block.image) this.place(block, msg, h.dataOffset, id);
        // A copy: the datagram's memory is reused for the next one.
        else (block.pending ??= []).push({ msg: msg.slice(), offset: h.dataOffset, packetId: id });
        break;
      case GvspFormat.trailer:
        if (id === 0 || id < block.highest) {
          c.malformed++;
          return;
        }
        block.lastId = id;
        break;
      default:
        // All-in, H.264, multizone, multipart, GenDC: not assembled.
        c.ignored++;
        return;
    }
    if (previous === REQUESTED) {
      block.resent++;
      c.resentReceived++;
    }
    block.state[id] = RECEIVED;
    block.received++;
    if (id > block.highest + 1 && block.holeSince < 0) block.holeSince = performance.now();
    if (id > block.highest) block.highest = id;
    if (block.lastId >= 0) {
      if (block.received === block.lastId + 1) {
        if (block.image) this.complete(block);
      } else if (block.holeSince < 0) block.holeSince = performance.now();
    }
  }

  private newBlock(id: number, extendedIds: boolean, now: number): Block {
    let key = 0;
    if (this.lastCreatedId >= 0) {
      let d = id - this.lastCreatedId;
      // 16-bit ids wrap 65535 → 1 (0 is not used): order by the shortest way round.
      if (!extendedIds) {
        if (d > 32767) d -= 65535;
        else if (d < -32767) d += 65535;
      }
      key = this.lastKey + d;
    }
    this.lastKey = key;
    this.lastCreatedId = id;
    const block: Block = {
      id,
      key,
      state: new Uint8Array(Math.max(64, this.lastTrailerId + 1)),
      received: 0,
      highest: -1,
      lastId: -1,
      payloadType: 0,
      timestamp: 0n,
      image: undefined,
      imageBytes: 0,
      buf: undefined,
      payloadSize: 0,
      placed: 0,
      firstPlacedId: 0,
      firstPlacedLength: 0,
      end: 0,
      pending: undefined,
      corrupt: false,
      lastPacketAt: now,
      receivedAtTick: 0,
      holeSince: -1,
      nextResendAt: 0,
      resendRounds: 0,
      resendDisabled: false,
      resent: 0,
      frame: undefined,
    };
    this.blocks.set(id, block);
    let i = this.order.length;
    while (i > 0 && this.order[i - 1].key > key) i--;
    this.order.splice(i, 0, block);
    this.startTimer();
    return block;
  }

  private growState(block: Block, id: number): void {
    let n = block.state.length * 2;
    while (n <= id) n *= 2;
    const state = new Uint8Array(n);
    state.set(block.state);
    block.state = state;
  }

  /** Takes the geometry and allocates the frame buffer; false when the block is dropped. */
  private leader(block: Block, msg: Uint8Array, o: number): boolean {
    if (!isImageLeader(msg, o)) {
      if (msg.length - o < 12) this.counters.malformed++;
      else this.counters.unsupported++;
      this.discard(block);
      return false;
    }
    const info = readImageInfo(msg, o);
    const bitsPerPixel = (info.pixelFormat >>> 16) & 0xff;
    const imageBytes =
      bitsPerPixel > 0
        ? (Math.ceil((info.width * bitsPerPixel) / 8) + info.paddingX) * info.height + info.paddingY
        : 0;
    if (imageBytes > MAX_BLOCK_BYTES) {
      this.counters.malformed++;
      this.discard(block);
      return false;
    }
    block.payloadType = readLeaderPayloadType(msg, o);
    block.timestamp = readLeaderTimestamp(msg, o);
    block.image = info;
    block.imageBytes = imageBytes;
    block.buf = this.takeBuffer(Math.max(imageBytes, this.lastBlockBytes, 1));
    const pending = block.pending;
    if (pending) {
      block.pending = undefined;
      // The longest packet first: it has the size every payload packet but the last has.
      pending.sort((a, b) => b.msg.length - b.offset - (a.msg.length - a.offset));
      for (const p of pending) this.place(block, p.msg, p.offset, p.packetId);
    }
    return true;
  }

  /** Copies a payload packet to its place: packet k starts at (k - 1) × the payload size. */
  private place(block: Block, msg: Uint8Array, o: number, id: number): void {
    const length = msg.length - o;
    if (length <= 0 || block.corrupt) return;
    if (block.payloadSize === 0) block.payloadSize = length;
    else if (length > block.payloadSize) {
      // The size was learned from the last (short) packet: move it to where it belongs.
      if (block.placed !== 1) {
        block.corrupt = true;
        this.counters.malformed++;
        return;
      }
      const from = (block.firstPlacedId - 1) * block.payloadSize;
      const to = (block.firstPlacedId - 1) * length;
      this.ensure(block, to + block.firstPlacedLength);
      if (block.corrupt) return;
      block.buf!.copyWithin(to, from, from + block.firstPlacedLength);
      block.end = to + block.firstPlacedLength;
      block.payloadSize = length;
    }
    const at = (id - 1) * block.payloadSize;
    const end = at + length;
    if (end > block.buf!.length) {
      this.ensure(block, end);
      if (block.corrupt) return;
    }
    // TypedArray#set is a V8 builtin; Buffer#copy crosses into C++ for every packet.
    block.buf!.set(new Uint8Array(msg.buffer, msg.byteOffset + o, length), at);
    if (end > block.end) block.end = end;
    if (block.placed++ === 0) {
      block.firstPlacedId = id;
      block.firstPlacedLength = length;
    }
  }

  /** Grows a frame buffer (the leader's size was too small, e.g. chunk data follows). */
  private ensure(block: Block, bytes: number): void {
    if (bytes <= block.buf!.length) return;
    if (bytes > MAX_BLOCK_BYTES) {
      block.corrupt = true;
      this.counters.malformed++;
      return;
    }
    const buf = Buffer.allocUnsafeSlow(
      Math.min(MAX_BLOCK_BYTES, Math.max(bytes, block.buf!.length * 2)),
    );
    block.buf!.copy(buf, 0, 0, block.end);
    this.giveBack(block.buf!);
    block.buf = buf;
  }

  private complete(block: Block): void {
    this.blocks.delete(block.id);
    this.finished.set(block.id, performance.now());
    if (block.corrupt) {
      this.drop(block, 0);
      return;
    }
    this.lastBlockBytes = block.end;
    this.lastTrailerId = block.lastId;
    // Chunk data (payload type bit 14) follows the image: the frame is the image part.
    const hasChunks = (block.payloadType & 0x4000) !== 0 && block.imageBytes > 0;
    const length = hasChunks ? Math.min(block.end, block.imageBytes) : block.end;
    // The frame owns the buffer it was assembled in: no copy, and never reused here.
    const buf = block.buf!;
    block.frame = {
      blockId: BigInt(block.id),
      timestampTicks: block.timestamp,
      ...block.image!,
      data: new Uint8Array(buf.buffer, buf.byteOffset, length),
      resent: block.resent,
    };
    block.buf = undefined;
    this.flush();
  }

  /** Emits the complete frames at the head of the block order. */
  private flush(): void {
    const order = this.order;
    while (order.length > 0 && order[0].frame !== undefined) {
      const frame = order.shift()!.frame!;
      this.counters.completed++;
      this.safeEmit('frame', frame);
      if (this.closed) return;
    }
  }

  /** An assembly buffer of at least `bytes`: a spare one when there is one big enough. */
  private takeBuffer(bytes: number): Buffer {
    const i = this.spare.findIndex((b) => b.length >= bytes);
    if (i < 0) return Buffer.allocUnsafeSlow(bytes);
    return this.spare.splice(i, 1)[0];
  }

  private giveBack(buf: Buffer): void {
    const spare = this.spare;
    spare.push(buf);
    // Keep the largest: after a size change the small ones would never be taken again.
    if (spare.length > MAX_SPARE_BUFFERS) {
      let smallest = 0;
      for (let i = 1; i < spare.length; i++)
        if (spare[i].length < spare[smallest].length) smallest = i;
      spare.splice(smallest, 1);
    }
  }

  /** Removes a block from the order, without a frame. */
  private unlink(block: Block): void {
    if (block.buf) this.giveBack(block.buf);
    block.buf = undefined;
    this.blocks.delete(block.id);
    const i = this.order.indexOf(block);
    if (i >= 0) this.order.splice(i, 1);
  }

  /** Drops a block nobody wants (not an image): its late packets are ignored. */
  private discard(block: Block): void {
    this.unlink(block);
    this.finished.set(block.id, performance.now());
    this.flush();
  }

  private drop(block: Block, missing: number): void {
    this.unlink(block);
    this.finished.set(block.id, performance.now());
    this.counters.incomplete++;
    this.safeEmit('incomplete', BigInt(block.id), missing);
    if (!this.closed) this.flush();
  }

  /** Last packet id the block should have: the trailer's, or an estimate until it arrives. */
  private expectedLastId(block: Block): number {
    if (block.lastId >= 0) return block.lastId;
    let estimate = -1;
    if (block.imageBytes > 0 && block.payloadSize > 0 && (block.payloadType & 0x4000) === 0)
      estimate = Math.ceil(block.imageBytes / block.payloadSize) + 1;
    else if (this.lastTrailerId > 0) estimate = this.lastTrailerId;
    return Math.max(estimate, block.highest);
  }

  private startTimer(): void {
    if (this.timer || this.closed) return;
    this.lastTickAt = performance.now();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = performance.now();
    const late = now - this.lastTickAt > STALL_TICKS * this.tickMs;
    this.lastTickAt = now;
    for (const block of this.blocks.values()) {
      if (block.received !== block.receivedAtTick) {
        block.receivedAtTick = block.received;
        block.lastPacketAt = now;
      }
      // After a stall (GC, a busy loop) the socket holds packets not read yet: silence measured
      // across it says nothing about the link, so judge again once they have been read.
      if (late) continue;
      if (now - block.lastPacketAt >= this.frameTimeoutMs) {
        const last = this.expectedLastId(block);
        this.drop(block, Math.max(0, last + 1 - block.received));
        if (this.closed) return;
      } else this.resend(block, now);
    }
    for (const [id, at] of this.finished) {
      if (now - at < this.finishedTtlMs) break;
      this.finished.delete(id);
    }
    if (this.blocks.size === 0) this.stopTimer();
  }

  private resend(block: Block, now: number): void {
    const request = this.options.requestResend;
    if (!request || block.resendDisabled || block.resendRounds >= this.maxResendRequests) return;
    // Until the trailer arrives, only a silence tells that the end of the block was lost; a
    // sender may pause for a while (a busy camera, a busy host), so it must last longer than the
    // gap delay, which answers proof of a loss (a later packet arrived, the link keeps order).
    const overdue = block.lastId < 0 && now - block.lastPacketAt >= this.tailDelayMs;
    const last = overdue ? this.expectedLastId(block) : Math.max(block.lastId, block.highest);
    if (last + 1 - block.received <= 0) {
      // Reordered packets filled the gap: a later gap waits its own delay.
      block.holeSince = -1;
      return;
    }
    if (block.holeSince < 0) block.holeSince = overdue ? block.lastPacketAt : now;
    if (now - block.holeSince < this.resendDelayMs || now < block.nextResendAt) return;
    if (last >= block.state.length) this.growState(block, last);
    const state = block.state;
    const blockId = BigInt(block.id);
    let first = -1;
    for (let i = 0; i <= last + 1; i++) {
      if (i <= last && state[i] !== RECEIVED) {
        if (first < 0) first = i;
        state[i] = REQUESTED;
      } else if (first >= 0) {
        this.counters.resendRequested += i - first;
        request(blockId, first, i - 1);
        first = -1;
      }
    }
    block.resendRounds++;
    block.nextResendAt = now + this.retryMs;
    block.holeSince = -1;
  }
}
