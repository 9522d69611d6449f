/**
 * Most a frame may come early and still be taken at once, in ms: the timing jitter of a camera
 * (or of a timer) running at about the throttle's rate, which must not cost a frame or a wait.
 */
export function pacingTolerance(throttleMs: number): number {
  return Math.min(4, throttleMs / 4);
}

/**
 * When a stream may take its next frame under `throttle_ms`. The windows follow the frames'
 * arrival times on a fixed grid (each one `throttle_ms` after the last, or after the frame itself
 * after a gap), not the moment the previous encode began: a camera at the throttle's rate then
 * never waits (with encode starts as the reference, every timer's lateness would push the next
 * window later and frames would wait up to a whole period), and a faster camera is thinned to
 * the throttle's rate on average.
 */
export class FramePacer {
  private anchor = -Infinity;

  /** Ms from `now` until a frame may be taken (≤ 0: at once); `now` on the clock of arrival times. */
  waitMs(now: number, throttleMs: number): number {
    if (throttleMs <= 0) return 0;
    return this.anchor + throttleMs - pacingTolerance(throttleMs) - now;
  }

  /** The stream takes a frame that arrived at `arrivedAt`: the next window follows from it. */
  take(arrivedAt: number, throttleMs: number): void {
    // Behind by two periods or more (a pause, a slow camera): start the grid again at this frame.
    if (throttleMs <= 0 || arrivedAt - this.anchor >= 2 * throttleMs) this.anchor = arrivedAt;
    else this.anchor += throttleMs;
  }
}
