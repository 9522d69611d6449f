/**
 * The receiving end of a GigE Vision stream channel, wired from its parts: the socket, the
 * assembler and the resend scheduler. It reports to a plain sink and imports nothing from
 * liveview's core, so the worker thread runs it without loading the SDK (~1 s, ~35 MB a thread).
 */

import { GvspAssembler } from './gvsp-assembler.js';
import { GvspResendScheduler } from './gvsp-resend.js';
import { GvspSocket } from './gvsp-socket.js';
import {
  emptyGvspStats,
  type GvspReceiverOptions,
  type GvspSink,
  type GvspStats,
} from './gvsp-types.js';

/** Default of `frameTimeoutMs`, which both the assembler and the scheduler go by. */
const DEFAULT_FRAME_TIMEOUT_MS = 200;

/** One stream channel's receiver, as GvspReceiver (an emitter) and the worker thread share it. */
export class GvspChannel {
  private readonly counters: GvspStats;
  private readonly socket: GvspSocket;
  private readonly assembler: GvspAssembler;
  private readonly resends: GvspResendScheduler;
  private closed = false;

  constructor(options: GvspReceiverOptions, sink: GvspSink) {
    const counters = emptyGvspStats(options.receiveBufferBytes);
    const frameTimeoutMs = options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
    const assembler = new GvspAssembler(counters, sink, frameTimeoutMs, () => this.resends.start());
    this.counters = counters;
    this.assembler = assembler;
    this.resends = new GvspResendScheduler(assembler, counters, frameTimeoutMs, options);
    this.socket = new GvspSocket(options, counters, sink, (msg) => assembler.onPacket(msg));
  }

  /** Local port the stream is received on (0 before `open()`). */
  get port(): number {
    return this.socket.port;
  }

  /** A snapshot of the counters. */
  get stats(): GvspStats {
    return { ...this.counters };
  }

  /** Binds the socket and sizes its receive buffer; warns when the OS grants less. */
  open(): Promise<void> {
    return this.socket.open();
  }

  /** Stops receiving, drops the frames in flight and clears every timer; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.resends.stop();
    this.assembler.close();
    await this.socket.close();
  }

  /** Forgets every block in flight and every finished id (call when acquisition restarts). */
  reset(): void {
    this.assembler.reset();
    this.resends.stop();
  }
}
