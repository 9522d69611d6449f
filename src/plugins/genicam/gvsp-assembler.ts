/**
 * Frame assembly by block id. Written for hundreds of MB/s: payload bytes are copied once, from
 * the datagram straight into the frame's buffer; no per-packet objects, timers, clock reads or
 * logging (the resend scheduler's tick notes when packets arrived).
 */

import {
  GvspFormat,
  GvspStatus,
  gvspHeaderScratch,
  isImageLeader,
  readGvspHeader,
  readImageInfo,
  readLeaderPayloadType,
  readLeaderTimestamp,
} from './gvsp.js';
import { createBlock, growState, RECEIVED, REQUESTED, type Block } from './gvsp-block.js';
import { GvspBufferPool } from './gvsp-buffer-pool.js';
import { MAX_BLOCK_BYTES, placePayload } from './gvsp-placement.js';
import type { GvspSink, GvspStats } from './gvsp-types.js';

/** Largest packet id accepted (a 1 GiB block in 256-byte packets). */
const MAX_PACKET_ID = 1 << 22;

/**
 * Assembles GVSP packets into frames, several blocks in flight at once, and emits the frames in
 * block order: a complete frame waits until the older blocks complete or are dropped.
 */
export class GvspAssembler {
  private readonly blocks = new Map<number, Block>();
  /** In-flight and complete-but-waiting blocks, by key. */
  private readonly order: Block[] = [];
  /** Finished block ids and when, so late packets do not start them again. */
  private readonly finished = new Map<number, number>();
  private isClosed = false;
  private lastKey = 0;
  private lastCreatedId = -1;
  /** Payload bytes and trailer id of the last complete block: the next one is likely the same. */
  private lastBlockBytes = 0;
  private lastTrailerIdSeen = 0;
  private readonly header = gvspHeaderScratch();
  private readonly buffers = new GvspBufferPool();
  private readonly finishedTtlMs: number;

  constructor(
    private readonly counters: GvspStats,
    private readonly sink: GvspSink,
    frameTimeoutMs: number,
    /** Called for every new block: the scheduler's timer runs only while blocks are in flight. */
    private readonly onBlockStarted: () => void,
  ) {
    // Long enough for any resent or reordered packet, short enough that an acquisition restart
    // reusing the same block ids is not mistaken for late packets.
    this.finishedTtlMs = Math.max(1000, 4 * frameTimeoutMs);
  }

  /** Whether `close()` ran: a listener may close the receiver in the middle of a tick. */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Blocks still assembling, by block id: the scheduler walks them on every tick. */
  get inFlight(): ReadonlyMap<number, Block> {
    return this.blocks;
  }

  /** Trailer id of the last complete block: the scheduler's guess for a block without one. */
  get lastTrailerId(): number {
    return this.lastTrailerIdSeen;
  }

  /** Drops every block and packet from now on; idempotent. */
  close(): void {
    this.isClosed = true;
    this.forget();
  }

  /** Forgets every block in flight and every finished id (call when acquisition restarts). */
  reset(): void {
    this.forget();
    this.lastCreatedId = -1;
  }

  private forget(): void {
    this.blocks.clear();
    this.order.length = 0;
    this.finished.clear();
  }

  /** Lets go of finished ids older than the TTL: block ids come round again. */
  expireFinished(now: number): void {
    for (const [id, at] of this.finished) {
      if (now - at < this.finishedTtlMs) break;
      this.finished.delete(id);
    }
  }

  /** Takes one datagram; `msg` may be reused by the caller once this returns. */
  onPacket(msg: Uint8Array): void {
    if (this.isClosed) return;
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
    if (id >= block.state.length) growState(block, id);
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
        if (block.image) placePayload(block, msg, h.dataOffset, id, c, this.buffers);
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

  /** Gives up a block, emitting 'incomplete' with the packets it still lacked. */
  drop(block: Block, missing: number): void {
    this.unlink(block);
    this.finished.set(block.id, performance.now());
    this.counters.incomplete++;
    this.sink.incomplete(BigInt(block.id), missing);
    if (!this.isClosed) this.flush();
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
    const block = createBlock(id, key, Math.max(64, this.lastTrailerIdSeen + 1), now);
    this.blocks.set(id, block);
    let i = this.order.length;
    while (i > 0 && this.order[i - 1].key > key) i--;
    this.order.splice(i, 0, block);
    this.onBlockStarted();
    return block;
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
    block.buf = this.buffers.take(Math.max(imageBytes, this.lastBlockBytes, 1));
    const pending = block.pending;
    if (pending) {
      block.pending = undefined;
      // The longest packet first: it has the size every payload packet but the last has.
      pending.sort((a, b) => b.msg.length - b.offset - (a.msg.length - a.offset));
      for (const p of pending)
        placePayload(block, p.msg, p.offset, p.packetId, this.counters, this.buffers);
    }
    return true;
  }

  private complete(block: Block): void {
    this.blocks.delete(block.id);
    this.finished.set(block.id, performance.now());
    if (block.corrupt) {
      this.drop(block, 0);
      return;
    }
    this.lastBlockBytes = block.end;
    this.lastTrailerIdSeen = block.lastId;
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
      this.sink.frame(frame);
      if (this.isClosed) return;
    }
  }

  /** Removes a block from the order, without a frame. */
  private unlink(block: Block): void {
    if (block.buf) this.buffers.giveBack(block.buf);
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
}
