/**
 * The receiving end of a GigE Vision stream channel, as an emitter on the calling thread. The
 * work is done by GvspChannel (socket, assembly, resends); this adds the emitter, whose
 * listeners may throw without breaking the receive loop.
 */

import { SafeEmitter, type Logger } from '../../index.js';
import { GvspChannel } from './gvsp-channel.js';
import type { GvspReceiverEvents, GvspReceiverOptions, GvspStats } from './gvsp-types.js';

export {
  emptyGvspStats,
  type GvspFrame,
  type GvspReceiverEvents,
  type GvspReceiverOptions,
  type GvspStats,
} from './gvsp-types.js';

/**
 * Receives one GVSP stream channel. Frames are assembled by block id (several in flight), gaps
 * are asked for again through `requestResend`, frames still incomplete `frameTimeoutMs` after
 * their last packet are dropped. Frames are emitted in block order, a complete frame waiting at
 * most until the older ones complete or time out.
 */
export class GvspReceiver extends SafeEmitter<GvspReceiverEvents> {
  private readonly channel: GvspChannel;

  constructor(options: GvspReceiverOptions, logger?: Logger) {
    super(logger);
    this.channel = new GvspChannel(options, {
      frame: (frame) => this.safeEmit('frame', frame),
      incomplete: (blockId, missing) => this.safeEmit('incomplete', blockId, missing),
      error: (err) => this.safeEmit('error', err),
      warning: (message) => this.safeEmit('warning', message),
    });
  }

  /** Local port the stream is received on (0 before `open()`). */
  get port(): number {
    return this.channel.port;
  }

  /** A snapshot of the counters. */
  get stats(): GvspStats {
    return this.channel.stats;
  }

  /** Binds the socket and sizes its receive buffer; emits 'warning' when the OS grants less. */
  open(): Promise<void> {
    return this.channel.open();
  }

  /** Stops receiving, drops the frames in flight and clears every timer; idempotent. */
  close(): Promise<void> {
    return this.channel.close();
  }

  /** Forgets every block in flight and every finished id (call when acquisition restarts). */
  reset(): void {
    this.channel.reset();
  }
}
