/** Shortest silence reported as a stall, whatever the frame rate (ms; default 2000). */
export const MIN_STALL_TIMEOUT_MS = 2000;

/** Frame periods of silence that make a stall when the timeout is automatic (default 5). */
export const STALL_FRAME_PERIODS = 5;

/** Weight of the newest interval in the frame-period estimate. */
const PERIOD_WEIGHT = 0.2;

/**
 * Tells whether a running detector has stopped delivering: no frame for `timeoutMs` since the
 * last one (or since acquisition started). The automatic timeout follows the measured frame
 * period, so a slow camera (long exposures) is not called stalled for being slow.
 */
export class StallWatch {
  private runningSince: number | undefined;
  private lastFrameAt: number | undefined;
  private periodMs: number | undefined;

  constructor(
    /** Fixed timeout in ms; 0 = automatic: max(MIN_STALL_TIMEOUT_MS, 5 frame periods). */
    private readonly fixedTimeoutMs = 0,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Acquisition started: silence counts from now. */
  started(): void {
    this.runningSince = this.now();
    this.lastFrameAt = undefined;
  }

  /** Acquisition stopped (or failed): nothing is expected, so nothing is stalled. */
  stopped(): void {
    this.runningSince = undefined;
    this.lastFrameAt = undefined;
  }

  /** A frame arrived. */
  frame(): void {
    const now = this.now();
    if (this.lastFrameAt !== undefined) {
      const interval = now - this.lastFrameAt;
      this.periodMs =
        this.periodMs === undefined
          ? interval
          : this.periodMs + PERIOD_WEIGHT * (interval - this.periodMs);
    }
    this.lastFrameAt = now;
    this.runningSince ??= now;
  }

  /** The silence after which a stall is reported, in ms. */
  get timeoutMs(): number {
    if (this.fixedTimeoutMs > 0) return this.fixedTimeoutMs;
    return Math.max(MIN_STALL_TIMEOUT_MS, STALL_FRAME_PERIODS * (this.periodMs ?? 0));
  }

  /** How long the detector has been silent, if that is a stall; undefined otherwise. */
  get stalledForMs(): number | undefined {
    if (this.runningSince === undefined) return undefined;
    const silentFor = this.now() - (this.lastFrameAt ?? this.runningSince);
    return silentFor > this.timeoutMs ? silentFor : undefined;
  }
}
