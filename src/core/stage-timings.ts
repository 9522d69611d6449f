/**
 * Where the time of a stream's frames goes, stage by stage. Every time is on the clock of capture
 * times (`nowMs`, ms since the Unix epoch), so a frame's stages add up to its capture→clients
 * latency (up to the few microseconds of bookkeeping between them):
 *
 * - `capture_to_source`: the frame's capture time (`Frame.timestamp`) → the FrameSource received
 *   it from the detector (readout, transfer, the plugin's own conversion). Only frames with a
 *   capture time.
 * - `queue_wait`: received → the stream's encode began, minus `throttle`: the time the frame waited
 *   for the stream to finish earlier frames (and for the event loop).
 * - `throttle`: the part of that wait the stream spent in its deliberate `throttle_ms` pause, from
 *   the frame's arrival (or the pause's start) to the pause's end; 0 for frames that found no
 *   pause. Reported apart because it is chosen, not a cost.
 * - `convert`: subsampling, normalization and colour conversion (`toDisplay`, I420 for WebRTC),
 *   from the start of `encode()` to the protocol's `mark('convert')`. Absent for frames the
 *   protocol does not mark (a camera JPEG passed through, a protocol that never marks).
 * - `encode`: the encoder (JPEG, VP8/H.264, LZ4/Zstandard): from `mark('convert')` (or the start of
 *   `encode()`) to `mark('encode')` (or the end of `encode()`).
 * - `send`: framing and packetizing after `mark('encode')` (RTP packetizer, UC2F packet, multipart
 *   header) plus the hand-over of the unit to every session (socket writes, `writeRtp` for every
 *   viewer), including the wait for the earlier frames' hand-over when frames overlap.
 * - `total`: the unit's capture time → handed to every session (`liveview_stream_latency_seconds`).
 *   Only units with a capture time.
 */

/** Every stage, in the order a frame passes them. */
export const STAGES = [
  'capture_to_source',
  'queue_wait',
  'throttle',
  'convert',
  'encode',
  'send',
  'total',
] as const;

/** One stage of a frame's way from the camera to the clients (see STAGES and this module's doc). */
export type Stage = (typeof STAGES)[number];

/** The boundaries a protocol's `encode()` may mark: the end of its conversion, the end of its encoder. */
export type MarkedStage = 'convert' | 'encode';

/** What a protocol's `encode()` tells about itself; marking nothing is fine (all of it is `encode`). */
export interface StageMarks {
  /** The stage ends now; a later mark of the same stage moves its end. */
  mark(stage: MarkedStage): void;
}

/** Median and 95th percentile of a stage, in ms. */
export interface StagePercentiles {
  /** Median, ms. */
  p50: number;
  /** 95th percentile, ms. */
  p95: number;
}

/** The stages of a stream's recent frames; a stage without recent samples is left out. */
export type StageLatencies = Partial<Record<Stage, StagePercentiles>>;

/** What receives each stage's time in seconds (the stream's cumulative histograms). */
export type StageSink = Readonly<Record<Stage, { observe(seconds: number): void }>>;

/** Percentiles cover the frames of this many recent ms… */
export const STAGE_WINDOW_MS = 5000;
/** …and at most this many frames (so a 200 fps stream reports its last 2.5 s). */
export const STAGE_RING_SIZE = 512;

/**
 * The `p`-th percentile (0 < p ≤ 100) of the first `n` values of a sorted array, by nearest rank:
 * the smallest value that at least p % of the values do not exceed (always one of the values).
 */
export function nearestRank(sorted: ArrayLike<number>, n: number, p: number): number {
  if (n <= 0) return NaN;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1];
}

/**
 * The last `capacity` samples of one stage with the time each was taken, in preallocated arrays:
 * adding a sample allocates nothing, reading percentiles sorts a copy into a scratch array.
 */
export class SampleRing {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private next = 0;
  private size = 0;

  constructor(
    /** Most samples kept; the oldest is overwritten. */
    readonly capacity = STAGE_RING_SIZE,
    /** Only samples taken within this many ms before the reading count. */
    readonly windowMs = STAGE_WINDOW_MS,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('capacity must be >= 1');
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
  }

  /** Samples held, recent or not. */
  get length(): number {
    return this.size;
  }

  /** Keeps a sample taken at `at` (ms); a non-finite value is ignored. */
  add(value: number, at: number): void {
    if (!Number.isFinite(value)) return;
    this.values[this.next] = value;
    this.times[this.next] = at;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /**
   * p50 and p95 of the samples taken within `windowMs` before `now`, or undefined if none.
   * `scratch` (at least `capacity` long) is overwritten; it saves an allocation per reading.
   */
  percentiles(
    now: number,
    scratch: Float64Array = new Float64Array(this.capacity),
  ): StagePercentiles | undefined {
    const from = now - this.windowMs;
    let n = 0;
    for (let i = 0; i < this.size; i++) {
      if (this.times[i] >= from) scratch[n++] = this.values[i];
    }
    if (n === 0) return undefined;
    const sorted = scratch.subarray(0, n).sort();
    return { p50: nearestRank(sorted, n, 50), p95: nearestRank(sorted, n, 95) };
  }
}

/** Index of each stage in STAGES, so the per-frame path indexes arrays instead of hashing names. */
const CAPTURE_TO_SOURCE = 0;
const QUEUE_WAIT = 1;
const THROTTLE = 2;
const CONVERT = 3;
const ENCODE = 4;
const SEND = 5;
const TOTAL = 6;

/** One frame's marks: begun by the worker, marked by the protocol's `encode()`, read at finish. */
export class FrameClock implements StageMarks {
  /** When `encode()` began, ms since the epoch. */
  encodeBegan = NaN;
  /** When the conversion ended (NaN: not marked). */
  convertEnd = NaN;
  /** When the encoder ended (NaN: not marked). */
  encodeEnd = NaN;
  /** When the source received the frame (NaN: unknown). */
  receivedAt = NaN;
  /** How much of the frame's wait was the throttle pause, ms. */
  throttleMs = 0;

  constructor(private readonly now: () => number) {}

  /** The protocol's conversion or encoder ended now. */
  mark(stage: MarkedStage): void {
    if (stage === 'convert') this.convertEnd = this.now();
    else this.encodeEnd = this.now();
  }
}

/**
 * The stage clock of one stream: the worker calls `begin` before `encode()` and `finish` after the
 * hand-over, the protocol's `encode()` marks its boundaries on the frame's clock in between.
 * Frames may overlap (a worker with several frames in flight): each has its own FrameClock, taken
 * in turn from a preallocated few, so nothing is allocated per frame.
 */
export class StageTimings implements StageMarks {
  private readonly rings: SampleRing[];
  private readonly scratch: Float64Array;
  private readonly clocks: FrameClock[];
  private latest = 0;

  constructor(
    /** Also gets every sample, in seconds (the stream's histograms for /metrics). */
    private readonly sink?: StageSink,
    capacity = STAGE_RING_SIZE,
    windowMs = STAGE_WINDOW_MS,
    /** The clock, ms since the epoch (tests pass their own). */
    private readonly now: () => number = () => performance.timeOrigin + performance.now(),
    /** Frames that may be between `begin` and `finish` at once, plus one (default 4). */
    clocks = 4,
  ) {
    this.rings = STAGES.map(() => new SampleRing(capacity, windowMs));
    this.scratch = new Float64Array(capacity);
    this.clocks = Array.from({ length: clocks }, () => new FrameClock(now));
  }

  /**
   * `encode()` of a frame begins now; returns the frame's clock. `receivedAt`: when its source
   * received it (NaN if unknown); `throttleMs`: how much of its wait was the stream's throttle pause.
   */
  begin(receivedAt: number, throttleMs: number): FrameClock {
    this.latest = (this.latest + 1) % this.clocks.length;
    const clock = this.clocks[this.latest];
    clock.encodeBegan = this.now();
    clock.convertEnd = NaN;
    clock.encodeEnd = NaN;
    clock.receivedAt = receivedAt;
    clock.throttleMs = throttleMs;
    return clock;
  }

  /** Marks the frame begun last (a protocol that encodes one frame at a time may use this). */
  mark(stage: MarkedStage): void {
    this.clocks[this.latest].mark(stage);
  }

  /**
   * The frame's unit went to every session: records its stages. `captureMs` / `unitCaptureMs`:
   * the frame's and the unit's capture time in ms since the epoch, NaN if they have none;
   * `encodedAt`: when `encode()` returned; `clock`: the frame's (default: the one begun last).
   * Returns the total (capture→clients) in ms, or NaN.
   */
  finish(
    captureMs: number,
    unitCaptureMs: number,
    encodedAt: number,
    clock: FrameClock = this.clocks[this.latest],
  ): number {
    const done = this.now();
    const began = clock.encodeBegan;
    // A clock that differs from ours (a camera's own) could put capture after receipt: clamp.
    this.record(CAPTURE_TO_SOURCE, Math.max(0, clock.receivedAt - captureMs), done);
    this.record(QUEUE_WAIT, Math.max(0, began - clock.receivedAt - clock.throttleMs), done);
    this.record(THROTTLE, clock.throttleMs, done);
    let encodeFrom = began;
    if (clock.convertEnd >= began) {
      this.record(CONVERT, clock.convertEnd - began, done);
      encodeFrom = clock.convertEnd;
    }
    const encodeTo = clock.encodeEnd >= encodeFrom ? clock.encodeEnd : encodedAt;
    this.record(ENCODE, Math.max(0, encodeTo - encodeFrom), done);
    this.record(SEND, Math.max(0, done - encodeTo), done);
    const total = Math.max(0, done - unitCaptureMs);
    this.record(TOTAL, total, done);
    return total;
  }

  /** p50 and p95 of every stage over the recent frames, in ms rounded to µs. */
  latencies(): StageLatencies {
    const now = this.now();
    const out: StageLatencies = {};
    STAGES.forEach((stage, i) => {
      const p = this.rings[i].percentiles(now, this.scratch);
      if (p) out[stage] = { p50: round(p.p50), p95: round(p.p95) };
    });
    return out;
  }

  private record(stage: number, ms: number, at: number): void {
    // NaN (an unknown start or end) is no sample: the stage did not happen or cannot be timed.
    if (!Number.isFinite(ms)) return;
    this.rings[stage].add(ms, at);
    this.sink?.[STAGES[stage]].observe(ms / 1000);
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
