import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, type Logger, type StreamHub } from '../../../index.js';
import type { WebrtcWorker } from '../worker.js';

/** Wait before joining a stream again after it stopped under a relay or could not start. */
const REJOIN_MS = 1000;

/** A session a relay keeps in a stream. */
export interface LinkedSession {
  /** Its id in the stream's clients. */
  readonly id: string;
  /** True once it left the stream. */
  readonly closed: boolean;
  /** Leaves the stream. */
  close(reason?: string): void;
}

/**
 * Keeps one session of a relay in a detector's WebRTC stream: ensures the stream (on demand, held
 * by the session itself once joined), joins, and joins again after REJOIN_MS whenever the stream
 * stops under it (stopped by a client, the detector failed) until `stop()`.
 */
export class StreamLink<S extends LinkedSession> {
  /** The session while joined. */
  session: S | undefined;
  /** Why the last join failed, until one succeeds. */
  lastError: string | undefined;
  private readonly stopSignal = new AbortController();
  private running: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly hub: StreamHub<WebrtcWorker>,
    private readonly detector: string,
    /** Joins the stream; must call `left` when its session leaves it. */
    private readonly join: (worker: WebrtcWorker, left: () => void) => S,
    private readonly logger: Logger,
  ) {}

  /** Starts keeping the session. */
  start(): void {
    this.running ??= this.run();
  }

  /** Leaves the stream for good. */
  async stop(reason: string): Promise<void> {
    this.stopSignal.abort();
    this.session?.close(reason);
    this.wake?.();
    await this.running;
  }

  private async run(): Promise<void> {
    const signal = this.stopSignal.signal;
    while (!signal.aborted) {
      try {
        const worker = await this.hub.ensure(this.detector);
        try {
          if (signal.aborted) return;
          const left = new Promise<void>((resolve) => {
            this.wake = resolve;
            this.session = this.join(worker, resolve);
          });
          this.lastError = undefined;
          await left;
        } finally {
          this.hub.release(worker);
        }
      } catch (err) {
        if (this.lastError !== errorMessage(err))
          this.logger.warn({ err: errorMessage(err) }, 'relay: cannot join the stream; retrying');
        this.lastError = errorMessage(err);
      }
      this.session = undefined;
      if (signal.aborted) return;
      await sleep(REJOIN_MS, undefined, { signal }).catch(() => undefined);
    }
  }
}
