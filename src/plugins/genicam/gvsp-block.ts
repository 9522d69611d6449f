/**
 * The record of one block in flight: the assembler fills it, the resend scheduler reads it to
 * ask for what it lacks. One flat object per block, so the per-packet path allocates nothing.
 */

import type { GvspImageInfo } from './gvsp.js';
import type { GvspFrame } from './gvsp-types.js';

/** Packet state, per packet id of a block (0: missing). */
export const RECEIVED = 1;
/** Missing, and asked for again: its arrival counts as resent. */
export const REQUESTED = 2;

/** A payload packet that arrived before its leader (which sizes the frame buffer). */
export interface PendingPacket {
  msg: Uint8Array;
  offset: number;
  packetId: number;
}

/** A block being assembled; every field is set at creation so all blocks share one shape. */
export interface Block {
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
  pending: PendingPacket[] | undefined;
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

/** A block with no packet yet; `stateLength` sized from the last block so it rarely grows. */
export function createBlock(id: number, key: number, stateLength: number, now: number): Block {
  return {
    id,
    key,
    state: new Uint8Array(stateLength),
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
}

/** Makes room for packet `id`, doubling so that a long block grows only a few times. */
export function growState(block: Block, id: number): void {
  let n = block.state.length * 2;
  while (n <= id) n *= 2;
  const state = new Uint8Array(n);
  state.set(block.state);
  block.state = state;
}
