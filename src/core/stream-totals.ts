import { STAGES, type Stage } from './stage-timings.js';

/** Upper bounds, in seconds, of the buckets of a stream's encode-time histogram. */
export const ENCODE_SECONDS_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];

/** Upper bounds, in seconds, of the buckets of a stream's capture→send latency histogram. */
export const LATENCY_SECONDS_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Upper bounds, in seconds, of the buckets of the per-stage histograms (µs-scale sends to slow encodes). */
export const STAGE_SECONDS_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * A histogram as plain numbers, cheap enough to fill once per frame: a count per bucket (not
 * cumulative; the last bucket is +Inf), the sum and the count of the observations.
 */
export class BucketCounts {
  /** Observations per bucket: `counts[i]` those ≤ `bounds[i]` and > `bounds[i - 1]`; the last one above every bound. */
  readonly counts: number[];
  /** Sum of the observations. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  constructor(
    /** Upper bounds of the buckets, ascending (+Inf is implied). */
    readonly bounds: readonly number[],
  ) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  /** Counts one observation; a non-finite value is ignored. */
  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }

  /** Adds another histogram's observations (same bounds) to these. */
  add(other: BucketCounts): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i] += other.counts[i] ?? 0;
    this.sum += other.sum;
    this.count += other.count;
  }
}

/** What a stream did, for /metrics: frames, bytes and timings. */
export class StreamTotals {
  /** Frames encoded. */
  framesEncoded = 0;
  /** Encodes that failed. */
  encodeErrors = 0;
  /** Units delivered, summed over the clients. */
  framesSent = 0;
  /** Units a client was too slow for, summed over the clients. */
  framesSkipped = 0;
  /** Frames the stream was too slow to take from its detector (throttling excluded). */
  framesDropped = 0;
  /** Bytes handed to the clients' transports, summed over the clients. */
  bytesSent = 0;
  /** Seconds each successful encode took. */
  readonly encodeSeconds = new BucketCounts(ENCODE_SECONDS_BUCKETS);
  /** Seconds from a frame's capture to the moment its unit was handed to every session (`total`). */
  readonly latencySeconds = new BucketCounts(LATENCY_SECONDS_BUCKETS);
  /** Seconds each frame spent in each stage (see stage-timings.ts for what each one covers). */
  readonly stageSeconds = Object.fromEntries(
    STAGES.map((stage) => [stage, new BucketCounts(STAGE_SECONDS_BUCKETS)]),
  ) as Readonly<Record<Stage, BucketCounts>>;

  /** Adds another's counts to these; returns this. */
  add(other: StreamTotals): this {
    this.framesEncoded += other.framesEncoded;
    this.encodeErrors += other.encodeErrors;
    this.framesSent += other.framesSent;
    this.framesSkipped += other.framesSkipped;
    this.framesDropped += other.framesDropped;
    this.bytesSent += other.bytesSent;
    this.encodeSeconds.add(other.encodeSeconds);
    this.latencySeconds.add(other.latencySeconds);
    for (const stage of STAGES) this.stageSeconds[stage].add(other.stageSeconds[stage]);
    return this;
  }
}
