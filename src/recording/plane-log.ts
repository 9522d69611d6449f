import type { Frame } from '../index.js';
import { exposureMs, secondsSince } from './frame-format.js';

/** What a raw recording remembers of each frame it wrote, for the metadata written at the end. */
export class PlaneLog {
  /** Capture time of the first frame, ns since the Unix epoch. */
  firstTimestamp: bigint | undefined;
  /** Seconds from the first frame's capture, one per frame. */
  readonly deltaT: number[] = [];
  /** Exposure time in ms, one per frame (null where the frame said none). */
  readonly exposureMs: (number | null)[] = [];
  /** The detector's frame numbers (gaps are frames the detector or the recording lost). */
  readonly frameNumbers: number[] = [];
  /** True once a frame carried an exposure time. */
  hasExposure = false;

  /** Frames logged. */
  get length(): number {
    return this.deltaT.length;
  }

  /** Logs the next frame. */
  add(frame: Frame): void {
    this.firstTimestamp ??= frame.timestamp;
    this.deltaT.push(secondsSince(this.firstTimestamp, frame.timestamp));
    const exposure = exposureMs(frame.metadata);
    this.hasExposure ||= exposure !== undefined;
    this.exposureMs.push(exposure ?? null);
    this.frameNumbers.push(frame.frameNumber);
  }

  /** Mean seconds between frames over the first `count`, or undefined with fewer than two. */
  meanInterval(count = this.length): number | undefined {
    if (count < 2) return undefined;
    return this.deltaT[count - 1] / (count - 1);
  }
}
