import type { Detector, DetectorState } from './detector.js';
import type { Frame } from './frame.js';
import type { Logger } from './logger.js';
import { LatestQueue } from './latest-queue.js';

/** One reader of a FrameSource: a bounded queue of the newest frames. */
export interface FrameSubscription {
  /** The reader's queue; `dropped` counts the frames it was too slow for. */
  readonly queue: LatestQueue<Frame>;
  /** Stops receiving frames; idempotent. */
  unsubscribe(): void;
}

/** Options of a FrameSource. */
export interface FrameSourceOptions {
  /** Milliseconds acquisition keeps running after the last reader leaves (default 1000). */
  graceMs?: number;
}

/**
 * The one frame fan-out of a detector: acquisition runs while at least one reader is subscribed
 * (reference counted, stopped after a grace period) and every reader gets every frame in its own
 * bounded queue, so a slow reader only loses its own old frames.
 */
export class FrameSource {
  private readonly subscriptions = new Set<FrameSubscription>();
  private stopTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;
  private readonly graceMs: number;
  /** Frames received from the detector. */
  framesReceived = 0;

  constructor(
    readonly detector: Detector,
    private readonly logger: Logger,
    options: FrameSourceOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 1000;
    detector.on('frame', this.onFrame);
  }

  /** Number of readers. */
  get readerCount(): number {
    return this.subscriptions.size;
  }

  /** The detector's state. */
  get state(): DetectorState {
    return this.detector.state;
  }

  /** Adds a reader with a queue of `capacity` frames (default 1) and makes sure acquisition runs. */
  async subscribe(capacity = 1): Promise<FrameSubscription> {
    const queue = new LatestQueue<Frame>(capacity);
    const subscription: FrameSubscription = {
      queue,
      unsubscribe: () => {
        if (!this.subscriptions.delete(subscription)) return;
        queue.close();
        if (this.subscriptions.size === 0) this.scheduleStop();
      },
    };
    this.subscriptions.add(subscription);
    try {
      await this.acquire();
    } catch (err) {
      subscription.unsubscribe();
      throw err;
    }
    return subscription;
  }

  /** Stops acquisition now and drops every reader. */
  async close(): Promise<void> {
    clearTimeout(this.stopTimer);
    for (const s of [...this.subscriptions]) s.unsubscribe();
    clearTimeout(this.stopTimer);
    this.detector.off('frame', this.onFrame);
    await this.detector.close();
  }

  private async acquire(): Promise<void> {
    clearTimeout(this.stopTimer);
    this.stopTimer = undefined;
    if (this.detector.state === 'running') return;
    // Concurrent subscribers share one start.
    this.starting ??= this.detector.start().finally(() => (this.starting = undefined));
    await this.starting;
  }

  private scheduleStop(): void {
    clearTimeout(this.stopTimer);
    this.stopTimer = setTimeout(() => {
      this.stopTimer = undefined;
      if (this.subscriptions.size > 0) return;
      this.detector.stop().catch((err) => {
        this.logger.error({ err, detector: this.detector.name }, 'detector stop failed');
      });
    }, this.graceMs);
    this.stopTimer.unref();
  }

  private readonly onFrame = (frame: Frame): void => {
    this.framesReceived++;
    for (const s of this.subscriptions) s.queue.push(frame);
  };
}
