/**
 * Where a payload packet's bytes go in its block's buffer. Packets may come in any order and
 * the payload size is learned from the first one placed, so a short last packet placed first
 * is moved once the real size is known.
 */

import type { Block } from './gvsp-block.js';
import type { GvspBufferPool } from './gvsp-buffer-pool.js';
import type { GvspStats } from './gvsp-types.js';

/** Largest block accepted, to refuse a corrupt leader before allocating for it. */
export const MAX_BLOCK_BYTES = 1 << 30;

/** Copies a payload packet to its place: packet k starts at (k - 1) × the payload size. */
export function placePayload(
  block: Block,
  msg: Uint8Array,
  o: number,
  id: number,
  counters: GvspStats,
  buffers: GvspBufferPool,
): void {
  const length = msg.length - o;
  if (length <= 0 || block.corrupt) return;
  if (block.payloadSize === 0) block.payloadSize = length;
  else if (length > block.payloadSize) {
    // The size was learned from the last (short) packet: move it to where it belongs.
    if (block.placed !== 1) {
      block.corrupt = true;
      counters.malformed++;
      return;
    }
    const from = (block.firstPlacedId - 1) * block.payloadSize;
    const to = (block.firstPlacedId - 1) * length;
    ensure(block, to + block.firstPlacedLength, counters, buffers);
    if (block.corrupt) return;
    block.buf!.copyWithin(to, from, from + block.firstPlacedLength);
    block.end = to + block.firstPlacedLength;
    block.payloadSize = length;
  }
  const at = (id - 1) * block.payloadSize;
  const end = at + length;
  if (end > block.buf!.length) {
    ensure(block, end, counters, buffers);
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
function ensure(block: Block, bytes: number, counters: GvspStats, buffers: GvspBufferPool): void {
  if (bytes <= block.buf!.length) return;
  if (bytes > MAX_BLOCK_BYTES) {
    block.corrupt = true;
    counters.malformed++;
    return;
  }
  const buf = Buffer.allocUnsafeSlow(
    Math.min(MAX_BLOCK_BYTES, Math.max(bytes, block.buf!.length * 2)),
  );
  block.buf!.copy(buf, 0, 0, block.end);
  buffers.giveBack(block.buf!);
  block.buf = buf;
}
