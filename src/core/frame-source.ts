import type { Detector, DetectorState } from './detector.js';
import { nowMs, type Frame } from './frame.js';
import type { Logger } from './logger.js';
import { LatestQueue } from './latest-queue.js';
import { StallWatch } from './stall-watch.js';
import { StreamTotals } from './stream-totals.js';

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
  /** Milliseconds without a frame before a running detector is reported stalled (default 0: max(2000, 5 frame periods)). */
  stallTimeoutMs?: number;
}

/** How often a running source looks for a stall, in ms. */
const STALL_CHECK_MS = 250;

/** What a source reports about its detector: its own state, or `stalled` when it is silent. */
export type SourceState = DetectorState | 'stalled';

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
  private readonly stall: StallWatch;
  private stallTimer: NodeJS.Timeout | undefined;
  private stallReported = false;
  private readonly stopped = new Map<string, StreamTotals>();
  /** Frames received from the detector. */
  framesReceived = 0;

  constructor(
    readonly detector: Detector,
    private readonly logger: Logger,
    options: FrameSourceOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 1000;
    this.stall = new StallWatch(options.stallTimeoutMs ?? 0);
    detector.on('frame', this.onFrame);
    detector.on('state', this.onState);
  }

  /** The detector's state, or `stalled` while it runs without delivering frames. */
  get status(): SourceState {
    return this.stalledForMs !== undefined ? 'stalled' : this.detector.state;
  }

  /** How long a running detector has delivered nothing, if that counts as a stall. */
  get stalledForMs(): number | undefined {
    return this.detector.state === 'running' ? this.stall.stalledForMs : undefined;
  }

  /** Why the source is not delivering, for listings: the detector's error or the stall. */
  get problem(): string | undefined {
    const stalled = this.stalledForMs;
    if (stalled !== undefined) {
      return `detector '${this.detector.name}' delivered no frame for ${(stalled / 1000).toFixed(1)} s (stalled; reported after ${(this.stall.timeoutMs / 1000).toFixed(1)} s without frames)`;
    }
    return this.detector.error;
  }

  /**
   * What this detector's stopped streams did, summed per protocol: a stream's counters end with
   * it, these let /metrics count on across restarts of a stream.
   */
  get stoppedStreams(): ReadonlyMap<string, StreamTotals> {
    return this.stopped;
  }

  /** Adds what a stream of a protocol did when it stops (its `stop()` calls this once). */
  addStoppedStream(protocol: string, totals: StreamTotals): void {
    const sum = this.stopped.get(protocol) ?? new StreamTotals();
    this.stopped.set(protocol, sum.add(totals));
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
    this.watchStall(false);
    this.detector.off('state', this.onState);
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

  private readonly onState = (state: DetectorState): void => {
    if (state === 'running') this.stall.started();
    else this.stall.stopped();
    this.watchStall(state === 'running');
  };

  /** Starts or stops the periodic look for a stall, which logs each stall and recovery once. */
  private watchStall(on: boolean): void {
    clearInterval(this.stallTimer);
    this.stallTimer = undefined;
    if (!on) {
      this.stallReported = false;
      return;
    }
    this.stallTimer = setInterval(() => {
      const problem = this.stalledForMs !== undefined ? this.problem : undefined;
      if (problem && !this.stallReported)
        this.logger.warn({ detector: this.detector.name }, problem);
      this.stallReported = problem !== undefined;
    }, STALL_CHECK_MS);
    this.stallTimer.unref();
  }

  private readonly onFrame = (frame: Frame): void => {
    // The start of the queue_wait stage and the end of capture_to_source. Stamped on the frame
    // itself because a wrapper or a map entry would allocate per frame; Reflect.set because a
    // plugin's frozen frame must not throw here (its streams then just lack those two stages).
    Reflect.set(frame, 'receivedAtMs', nowMs());
    if (this.stallReported) {
      this.stallReported = false;
      this.logger.info(
        { detector: this.detector.name },
        `detector '${this.detector.name}' delivers frames again`,
      );
    }
    this.stall.frame();
    this.framesReceived++;
    for (const s of this.subscriptions) s.queue.push(frame);
  };
}
