/**
 * Runs a GVSP receiver on its own thread, so that the main thread's pauses (garbage collection of
 * a large heap, encoders, HTTP) never leave the stream socket unread: a 4 MiB socket buffer holds
 * only ~10 ms of a 400 MB/s stream. Frames cross to the main thread without a copy.
 *
 * It runs GvspChannel, not GvspReceiver: the emitter would load liveview's whole SDK into the
 * thread (about 1 s and 35 MB) for four listeners.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GvspChannel } from './gvsp-channel.js';
import type {
  GvspThreadCommand,
  GvspThreadMessage,
  GvspThreadOptions,
} from './gvsp-thread-protocol.js';

/** How often counters reach the main thread when no frame does (ms). */
const STATS_INTERVAL_MS = 200;

const port = parentPort!;
const options = workerData as GvspThreadOptions;
const post = (message: GvspThreadMessage, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);

/** Posts an event; a post that throws is dropped, as a throwing listener was: receiving goes on. */
const report = (message: GvspThreadMessage, transfer: ArrayBuffer[] = []) => {
  try {
    post(message, transfer);
  } catch {
    // dropped silently: the emitter this replaces had no logger on this thread either
  }
};

const receiver: GvspChannel = new GvspChannel(
  {
    ...options,
    requestResend: options.resend
      ? (blockId, first, last) => post({ type: 'resend', blockId, first, last })
      : undefined,
  },
  {
    frame: (frame) =>
      report({ type: 'frame', frame, stats: receiver.stats }, [frame.data.buffer as ArrayBuffer]),
    incomplete: (blockId, missing) =>
      report({ type: 'incomplete', blockId, missing, stats: receiver.stats }),
    warning: (message) => report({ type: 'warning', message }),
    error: (err) => report({ type: 'error', message: err.message }),
  },
);

const timer = setInterval(() => post({ type: 'stats', stats: receiver.stats }), STATS_INTERVAL_MS);

port.on('message', (command: GvspThreadCommand) => {
  if (command.type !== 'close') return;
  clearInterval(timer);
  void receiver.close().then(() => {
    post({ type: 'closed', stats: receiver.stats });
    port.close();
  });
});

receiver.open().then(
  () => post({ type: 'open', port: receiver.port, stats: receiver.stats }),
  (err: Error) => post({ type: 'error', message: err.message }),
);
