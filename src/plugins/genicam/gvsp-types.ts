/**
 * What a GVSP receiver takes, gives and counts, apart from the code that does it: the types are
 * shared by the receiver's parts, the worker thread and the messages between the threads.
 */

import type { GvspImageInfo } from './gvsp.js';

/** Receive buffer asked for when the options name none: ~80 ms of a 400 MB/s stream. */
const DEFAULT_RECEIVE_BUFFER = 32 * 1024 * 1024;

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

/** The events as plain calls, so a worker thread can take them without an emitter (or the SDK). */
export type GvspSink = {
  readonly [K in keyof GvspReceiverEvents]: (...args: GvspReceiverEvents[K]) => void;
};
