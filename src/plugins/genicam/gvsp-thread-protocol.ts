import type { GvspFrame, GvspReceiverOptions, GvspStats } from './gvsp-receiver.js';

/** Receiver options that cross into the thread (functions cannot). */
export type GvspThreadOptions = Omit<GvspReceiverOptions, 'requestResend'> & {
  /** Whether the thread should ask for resends (through the main thread's control channel). */
  resend: boolean;
};

/** Messages from the receiving thread; every one carries the counters as they are then. */
export type GvspThreadMessage =
  | { type: 'open'; port: number; stats: GvspStats }
  | { type: 'frame'; frame: GvspFrame; stats: GvspStats }
  | { type: 'incomplete'; blockId: bigint; missing: number; stats: GvspStats }
  | { type: 'resend'; blockId: bigint; first: number; last: number }
  | { type: 'warning'; message: string }
  | { type: 'error'; message: string }
  | { type: 'stats'; stats: GvspStats }
  | { type: 'closed'; stats: GvspStats };

/** Messages to the receiving thread. */
export type GvspThreadCommand = { type: 'close' };
