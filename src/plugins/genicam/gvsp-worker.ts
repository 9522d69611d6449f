/**
 * Runs a GvspReceiver on its own thread, so that the main thread's pauses (garbage collection of
 * a large heap, encoders, HTTP) never leave the stream socket unread: a 4 MiB socket buffer holds
 * only ~10 ms of a 400 MB/s stream. Frames cross to the main thread without a copy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { GvspReceiver } from './gvsp-receiver.js';
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

const receiver = new GvspReceiver({
  ...options,
  requestResend: options.resend
    ? (blockId, first, last) => post({ type: 'resend', blockId, first, last })
    : undefined,
});
receiver.on('frame', (frame) =>
  post({ type: 'frame', frame, stats: receiver.stats }, [frame.data.buffer as ArrayBuffer]),
);
receiver.on('incomplete', (blockId, missing) =>
  post({ type: 'incomplete', blockId, missing, stats: receiver.stats }),
);
receiver.on('warning', (message) => post({ type: 'warning', message }));
receiver.on('error', (err) => post({ type: 'error', message: err.message }));

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
