import { Worker } from 'node:worker_threads';
import { SafeEmitter, type Logger } from '../../index.js';
import {
  emptyGvspStats,
  type GvspReceiverEvents,
  type GvspReceiverOptions,
  type GvspStats,
} from './gvsp-receiver.js';
import type { GvspThreadMessage, GvspThreadOptions } from './gvsp-thread-protocol.js';

/**
 * A GvspReceiver on a worker thread, with the same events, counters and life cycle. Resend
 * requests come back to this thread, which sends them on the control channel.
 */
export class ThreadedGvspReceiver extends SafeEmitter<GvspReceiverEvents> {
  private worker: Worker | undefined;
  private counters: GvspStats;
  private localPort = 0;
  private closing: Promise<void> | undefined;
  private readonly threadOptions: GvspThreadOptions;

  constructor(
    private readonly options: GvspReceiverOptions,
    logger?: Logger,
  ) {
    super(logger);
    const { requestResend, ...rest } = options;
    this.threadOptions = { ...rest, resend: requestResend !== undefined };
    this.counters = emptyGvspStats(options.receiveBufferBytes);
  }

  /** Local port the stream is received on (0 before `open()`). */
  get port(): number {
    return this.localPort;
  }

  /** The counters as the thread last reported them (at the latest event, or 200 ms ago). */
  get stats(): GvspStats {
    return { ...this.counters };
  }

  /** Starts the thread and binds its socket; rejects with the thread's reason when it cannot. */
  async open(): Promise<void> {
    if (this.worker) return;
    if (this.closing) throw new Error('GVSP receiver is closed');
    const worker = new Worker(new URL('./gvsp-worker.js', import.meta.url), {
      workerData: this.threadOptions,
    });
    this.worker = worker;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => reject(err);
      worker.once('error', fail);
      worker.on('message', (message: GvspThreadMessage) => {
        if (message.type === 'open') {
          worker.off('error', fail);
          worker.on('error', (err) => this.safeEmit('error', err));
          resolve();
        } else if (message.type === 'error' && this.localPort === 0) {
          reject(new Error(message.message));
        }
        this.onMessage(message);
      });
    }).catch(async (err: unknown) => {
      this.worker = undefined;
      await worker.terminate();
      throw err;
    });
  }

  private onMessage(message: GvspThreadMessage): void {
    if ('stats' in message) this.counters = message.stats;
    switch (message.type) {
      case 'open':
        this.localPort = message.port;
        break;
      case 'frame':
        this.safeEmit('frame', message.frame);
        break;
      case 'incomplete':
        this.safeEmit('incomplete', message.blockId, message.missing);
        break;
      case 'resend':
        this.options.requestResend?.(message.blockId, message.first, message.last);
        break;
      case 'warning':
        this.safeEmit('warning', message.message);
        break;
      case 'error':
        if (this.localPort !== 0) this.safeEmit('error', new Error(message.message));
        break;
      default:
        break;
    }
  }

  /** Stops the thread after its socket is closed; idempotent. */
  close(): Promise<void> {
    this.closing ??= this.stop();
    return this.closing;
  }

  private async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const closed = new Promise<void>((resolve) => {
      worker.on('message', (m: GvspThreadMessage) => m.type === 'closed' && resolve());
      worker.once('exit', () => resolve());
    });
    worker.postMessage({ type: 'close' });
    // A thread that does not answer (it should) is not allowed to hold the caller.
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 1000).unref());
    await Promise.race([closed, timeout]);
    await worker.terminate();
  }
}
