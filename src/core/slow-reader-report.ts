import type { Logger } from './logger.js';

/** How often, at most, one reader's losses are logged (ms; default 10 000, as MediaMTX does). */
export const SLOW_READER_REPORT_MS = 10_000;

/** A reader whose losses are reported: a session's skipped units. */
interface Reader {
  readonly id: string;
  readonly remote: string;
  readonly framesSkipped: number;
}

/**
 * Tells the log which readers lose frames: one line per reader per period at most, naming how
 * many it lost since the last line, instead of a line per frame or silent counters. The stream
 * itself is a reader of its detector too (frames it was too slow to encode).
 */
export class SlowReaderReport {
  private readonly reported = new Map<Reader, number>();
  private streamReported = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly logger: Logger,
    /** Frames the stream lost to its detector so far. */
    private readonly streamDropped: () => number,
    private readonly periodMs = SLOW_READER_REPORT_MS,
  ) {}

  /** Starts watching a reader (from its current count: earlier losses are not news). */
  track(reader: Reader): void {
    if (this.closed) return;
    this.reported.set(reader, reader.framesSkipped);
    if (!this.timer) {
      this.streamReported = this.streamDropped();
      this.timer = setInterval(() => this.report(), this.periodMs);
      this.timer.unref();
    }
  }

  /** Stops watching a reader (it left). */
  forget(reader: Reader): void {
    this.reported.delete(reader);
  }

  /** Stops the timer; idempotent. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.timer = undefined;
    this.reported.clear();
  }

  /** Logs every reader that lost frames since the last report. */
  report(): void {
    const seconds = Math.round(this.periodMs / 1000);
    for (const [reader, before] of this.reported) {
      const now = reader.framesSkipped;
      if (now <= before) continue;
      this.reported.set(reader, now);
      this.logger.warn(
        { client: reader.id, remote: reader.remote, skipped: now - before },
        `reader too slow, discarded ${now - before} frames in the last ${seconds} s`,
      );
    }
    const dropped = this.streamDropped();
    if (dropped > this.streamReported) {
      this.logger.warn(
        { dropped: dropped - this.streamReported },
        `stream too slow for its detector, discarded ${dropped - this.streamReported} frames in the last ${seconds} s`,
      );
      this.streamReported = dropped;
    }
  }
}
