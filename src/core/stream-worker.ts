import { setTimeout as delay } from 'node:timers/promises';
import { nowMs, type DisplayFrame, type Frame } from './frame.js';
import type { FrameSource, FrameSubscription } from './frame-source.js';
import { StreamTotals } from './stream-totals.js';
import {
  StageTimings,
  type FrameClock,
  type StageLatencies,
  type StageMarks,
} from './stage-timings.js';
import type { Logger } from './logger.js';
import { normalize } from './normalize.js';
import { subsample } from './subsample.js';
import { BufferRing } from './buffer-ring.js';
import { FramePacer } from './frame-pacer.js';
import { LiveViewError, errorMessage } from './errors.js';
import { SlowReaderReport } from './slow-reader-report.js';
import { normalizeOptionsOf, subsampleOptionsOf, type StreamParams } from './stream-params.js';

/** What a worker's encoder made of one frame; the same object goes to every session. */
export interface EncodedUnit<U> {
  /** The encoded bytes or packet (JPEG, video access unit, UC2F packet…). */
  data: U;
  /** The source frame's number. */
  frameNumber: number;
  /** The source frame's capture time, ns since the epoch. */
  timestamp: bigint;
  /** Width of the encoded image. */
  width: number;
  /** Height of the encoded image. */
  height: number;
  /** The values mapped to black and white, if the unit was normalized. */
  window?: { min: number; max: number };
}

/** One client of a stream (an HTTP response, a peer, a socket). */
export interface StreamSession<U> {
  /** Unique id within the stream. */
  readonly id: string;
  /** Who the client is (address:port), for listings. */
  readonly remote: string;
  /** Units delivered to this client. */
  readonly framesSent: number;
  /** Units skipped because this client was not ready (too slow). */
  readonly framesSkipped: number;
  /** Bytes handed to this client's transport (`BaseSession` counts them; optional for others). */
  readonly bytesSent?: number;
  /** Delivers a unit, or skips it if the client is still busy with an earlier one. Never blocks. */
  send(unit: EncodedUnit<U>): void;
  /** Protocol-specific facts getActiveStreams lists as the client's `details` (a relay's state); optional. */
  describe?(): Record<string, unknown>;
  /** Ends the session; idempotent. */
  close(reason?: string): void;
}

/** Everything a protocol needs to create a worker. */
export interface WorkerContext<P extends StreamParams> {
  /** Detector name. */
  detectorName: string;
  /** Protocol name. */
  protocol: string;
  /** Initial params (validated). */
  params: P;
  /** Frames of the detector. */
  source: FrameSource;
  /** Logger bound to the stream. */
  logger: Logger;
}

/** What getActiveStreams reports for one stream. */
export interface StreamStatus {
  detectorName: string;
  protocol: string;
  params: StreamParams;
  /** `stalled` while the detector runs without delivering frames. */
  state: 'running' | 'error' | 'stalled';
  error?: string;
  startedAt: string;
  clientCount: number;
  clients: {
    id: string;
    remote: string;
    framesSent: number;
    framesSkipped: number;
    bytesSent: number;
    /** What the protocol says of this client beyond the counters (a relay: its name, state…). */
    details?: Record<string, unknown>;
  }[];
  framesEncoded: number;
  framesSent: number;
  /** Bytes sent to the connected clients. */
  bytesSent: number;
  framesDropped: number;
  framesSkipped: number;
  encodeErrors: number;
  fps: number;
  /**
   * p50 and p95 in ms of each stage of the recent frames (last 5 s, at most 512 frames):
   * capture_to_source, queue_wait, throttle, convert, encode, send, total (see stage-timings.ts).
   */
  latencyMs: StageLatencies;
}

export {
  STAGES,
  type MarkedStage,
  type Stage,
  type StageLatencies,
  type StageMarks,
  type StagePercentiles,
} from './stage-timings.js';

const FPS_WINDOW_MS = 2000;

/** Most frames a stream encodes at once: the buffer rings below are sized for it. */
export const MAX_FRAMES_IN_FLIGHT = 2;

/**
 * One running stream (detector × protocol): reads the newest frame, throttles, lets the protocol
 * encode it once and hands the one encoded unit to every session. Protocols subclass it and
 * implement `encode`.
 */
export abstract class StreamWorker<
  P extends StreamParams = StreamParams,
  U = unknown,
  S extends StreamSession<U> = StreamSession<U>,
> {
  readonly detectorName: string;
  readonly protocol: string;
  readonly startedAt = new Date();
  protected readonly logger: Logger;
  protected readonly source: FrameSource;
  private currentParams: P;
  private subscription: FrameSubscription | undefined;
  private readonly sessionSet = new Set<S>();
  private waiters: { resolve: (u: EncodedUnit<U>) => void; reject: (e: Error) => void }[] = [];
  private stopped = false;
  private readonly stopSignal = new AbortController();
  /** Aborted (and replaced) on every params change, to wake a throttle wait. */
  private paramsChanged = new AbortController();
  private loop: Promise<void> | undefined;
  private throttled = 0;
  private encodeTimes: number[] = [];
  private lastEncodeError = 0;
  private idleListener: (() => void) | undefined;
  private readonly slowReaders: SlowReaderReport;
  /** The timings, and the counts of the sessions that left; `totals()` adds the rest. */
  private readonly history = new StreamTotals();
  private readonly timings = new StageTimings(this.history.stageSeconds);
  /**
   * The frame begun last's marks, for a protocol that encodes one frame at a time; `encode()`'s
   * own `marks` argument is the same for such a protocol and the only right one when frames
   * overlap (`framesInFlight` > 1).
   */
  protected readonly stages: StageMarks = this.timings;
  /**
   * Frames this stream encodes at once (default 1). A protocol whose `encode()` may overlap with
   * the next frame's (its encoder runs off the event loop and keeps no per-frame state across an
   * await) sets 2: the next frame's conversion runs while the encoder works, and a second encode
   * can use the second core. Units still reach the sessions in frame order. Capped at
   * MAX_FRAMES_IN_FLIGHT.
   */
  protected readonly framesInFlight: number = 1;
  /** Output of toDisplay, reused: one buffer per frame in flight and one being written. */
  private readonly displayBuffers = new BufferRing(MAX_FRAMES_IN_FLIGHT + 1);
  /** Frames encoded. */
  framesEncoded = 0;
  /** Encodes that failed. */
  encodeErrors = 0;
  /** The newest unit encoded. */
  latestUnit: EncodedUnit<U> | undefined;

  constructor(context: WorkerContext<P>) {
    this.detectorName = context.detectorName;
    this.protocol = context.protocol;
    this.currentParams = context.params;
    this.source = context.source;
    this.logger = context.logger;
    this.slowReaders = new SlowReaderReport(this.logger, () => this.framesDropped);
  }

  /**
   * Turns a frame into the unit all sessions receive; called at most once per frame. `marks`: where
   * it marks the end of its conversion (`mark('convert')`) and of its encoder (`mark('encode')`);
   * what follows the last mark counts as sending; marking nothing makes all of it the encode stage.
   */
  protected abstract encode(frame: Frame, params: P, marks: StageMarks): Promise<EncodedUnit<U>>;

  /** The stream's params. */
  get params(): P {
    return this.currentParams;
  }

  /** Connected sessions. */
  get sessions(): ReadonlySet<S> {
    return this.sessionSet;
  }

  /** True until `stop()`. */
  get running(): boolean {
    return !this.stopped;
  }

  /** Subscribes to the detector (starting it if needed) and starts the frame loop. */
  async start(): Promise<void> {
    this.subscription = await this.source.subscribe(1);
    this.loop = this.run(this.subscription);
  }

  /** Stops the loop, leaves the detector and closes every session; idempotent. */
  async stop(reason = 'stream stopped'): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopSignal.abort();
    this.slowReaders.close();
    this.subscription?.unsubscribe();
    for (const s of [...this.sessionSet]) s.close(reason);
    for (const s of this.sessionSet) this.countDeparted(s);
    this.sessionSet.clear();
    for (const w of this.waiters) w.reject(new LiveViewError(reason, 503));
    this.waiters = [];
    // Synchronously, in the call that ends the stream: /metrics never misses what it did.
    if (this.subscription) this.source.addStoppedStream(this.protocol, this.totals());
    await this.loop;
  }

  /** Applies new params live; connected sessions stay. Subclasses extend it to retune encoders. */
  updateParams(params: P): void {
    this.currentParams = params;
    this.paramsChanged.abort();
    this.paramsChanged = new AbortController();
  }

  /** Adds a client. */
  addSession(session: S): void {
    if (this.stopped) {
      session.close('stream stopped');
      return;
    }
    this.sessionSet.add(session);
    this.slowReaders.track(session);
  }

  /** Removes a client (idempotent); when the last one leaves the idle listener is told. */
  removeSession(session: StreamSession<U>): void {
    // Only addSession, typed S, adds to the set: a session found in it is an S.
    const known = session as S;
    if (!this.sessionSet.delete(known)) return;
    this.countDeparted(known);
    this.slowReaders.forget(known);
    this.sessionRemoved(known);
    if (this.sessionSet.size === 0) this.idleListener?.();
  }

  /** Keeps the counts of a session that leaves in the stream's totals. */
  private countDeparted(session: StreamSession<U>): void {
    this.history.framesSent += session.framesSent;
    this.history.framesSkipped += session.framesSkipped;
    this.history.bytesSent += session.bytesSent ?? 0;
  }

  /**
   * Everything this stream did since it started, its current and departed sessions included
   * (for /metrics; counts only grow while the stream runs).
   */
  totals(): StreamTotals {
    const totals = new StreamTotals().add(this.history);
    totals.framesEncoded = this.framesEncoded;
    totals.encodeErrors = this.encodeErrors;
    totals.framesDropped = this.framesDropped;
    for (const s of this.sessionSet) {
      totals.framesSent += s.framesSent;
      totals.framesSkipped += s.framesSkipped;
      totals.bytesSent += s.bytesSent ?? 0;
    }
    return totals;
  }

  /** Called once for each session that left; subclasses release what it used. */
  protected sessionRemoved(session: S): void {
    void session;
  }

  /** True while someone waits for this stream's units (a session or a `nextUnit` call). */
  get inUse(): boolean {
    return this.wantsFrames();
  }

  /** Registers the one callback told when the last session leaves (used for on-demand streams). */
  onIdle(listener: () => void): void {
    this.idleListener = listener;
  }

  /** The next unit encoded after this call (for snapshots); rejects after `timeoutMs`. */
  nextUnit(timeoutMs: number): Promise<EncodedUnit<U>> {
    if (this.stopped) return Promise.reject(new LiveViewError('stream stopped', 503));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (u: EncodedUnit<U>) => {
          clearTimeout(timer);
          resolve(u);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(
          new LiveViewError(
            `no frame from detector '${this.detectorName}' within ${timeoutMs} ms (state: ${this.source.state})`,
            504,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Subsamples and normalizes a frame to 8 bit with the stream's params; marks `convert` on `marks`. */
  protected toDisplay(frame: Frame, params: P, marks: StageMarks = this.stages): DisplayFrame {
    const small = subsample(frame, subsampleOptionsOf(params));
    const display = normalize(
      small,
      normalizeOptionsOf(params),
      // At most MAX_FRAMES_IN_FLIGHT frames in flight: a buffer comes back only after they are done.
      this.displayBuffers.next(small.width * small.height * small.channels),
    );
    // A protocol that converts further (I420) marks again; the later mark wins.
    marks.mark('convert');
    return display;
  }

  /** Counters for getActiveStreams. */
  status(): Omit<StreamStatus, 'params'> {
    const clients = [...this.sessionSet].map((s) => ({
      id: s.id,
      remote: s.remote,
      framesSent: s.framesSent,
      framesSkipped: s.framesSkipped,
      bytesSent: s.bytesSent ?? 0,
      ...(s.describe ? { details: s.describe() } : {}),
    }));
    const status = this.source.status;
    const problem = this.source.problem;
    return {
      detectorName: this.detectorName,
      protocol: this.protocol,
      state: status === 'error' || status === 'stalled' ? status : 'running',
      ...(problem ? { error: problem } : {}),
      startedAt: this.startedAt.toISOString(),
      clientCount: clients.length,
      clients,
      framesEncoded: this.framesEncoded,
      framesSent: clients.reduce((n, c) => n + c.framesSent, 0),
      bytesSent: clients.reduce((n, c) => n + c.bytesSent, 0),
      framesDropped: this.framesDropped,
      framesSkipped: clients.reduce((n, c) => n + c.framesSkipped, 0),
      encodeErrors: this.encodeErrors,
      fps: this.measuredFps(),
      latencyMs: this.timings.latencies(),
    };
  }

  /** Frames the detector delivered that this stream was too slow to take (throttling excluded). */
  private get framesDropped(): number {
    return Math.max(0, (this.subscription?.queue.dropped ?? 0) - this.throttled);
  }

  private measuredFps(): number {
    const now = performance.now();
    const recent = this.encodeTimes.filter((t) => now - t <= FPS_WINDOW_MS);
    if (recent.length < 2) return 0;
    const span = (recent[recent.length - 1] - recent[0]) / 1000;
    return span > 0 ? Math.round(((recent.length - 1) / span) * 10) / 10 : 0;
  }

  private wantsFrames(): boolean {
    return this.sessionSet.size > 0 || this.waiters.length > 0;
  }

  private async run(subscription: FrameSubscription): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const limit = Math.min(MAX_FRAMES_IN_FLIGHT, Math.max(1, this.framesInFlight));
    // Resolves once the frame begun last was handed over: the next one waits for it (frame order).
    let handedOver: Promise<void> = Promise.resolve();
    try {
      await this.readFrames(subscription, (frame, throttleMs) => {
        const job = this.encodeAndSend(frame, throttleMs, handedOver);
        handedOver = job;
        inFlight.add(job);
        const done = (): boolean => inFlight.delete(job);
        job.then(done, done);
        return inFlight.size >= limit ? Promise.race(inFlight) : undefined;
      });
    } finally {
      await Promise.all(inFlight);
    }
  }

  /**
   * Takes frames from the source, throttled, and hands each to `start` (which returns what to
   * wait for before the next frame may start) until the stream stops.
   */
  private async readFrames(
    subscription: FrameSubscription,
    start: (frame: Frame, throttleMs: number) => Promise<void> | undefined,
  ): Promise<void> {
    const queue = subscription.queue;
    const pacer = new FramePacer();
    for (;;) {
      let frame = await queue.next();
      if (!frame || this.stopped) return;
      if (!this.wantsFrames()) continue;
      // Frames that arrive while we wait for the throttle are skipped on purpose, not dropped.
      const droppedBefore = queue.dropped;
      let wait: number;
      let waited = false;
      let pauseFrom = 0;
      // Recomputed after a params change wakes the wait: a shorter throttle applies at once.
      while ((wait = pacer.waitMs(nowMs(), this.currentParams.throttle_ms)) > 0) {
        if (!waited) pauseFrom = nowMs();
        waited = true;
        const paramsChanged = this.paramsChanged.signal;
        try {
          await delay(wait, undefined, {
            signal: AbortSignal.any([this.stopSignal.signal, paramsChanged]),
          });
        } catch {
          if (this.stopped) return;
        }
      }
      let throttleMs = 0;
      if (waited) {
        const newer = queue.takeNewest();
        this.throttled += queue.dropped - droppedBefore;
        if (newer) frame = newer;
        // Only the part of the pause this frame was there for: a newer one arrived during it.
        throttleMs = Math.max(0, nowMs() - Math.max(pauseFrom, frame.receivedAtMs ?? pauseFrom));
      }
      pacer.take(frame.receivedAtMs ?? nowMs(), this.currentParams.throttle_ms);
      const busy = start(frame, throttleMs);
      if (busy) await busy;
    }
  }

  /** Encodes a frame and, once the frame before it was handed over (`previous`), sends its unit. */
  private async encodeAndSend(
    frame: Frame,
    throttleMs: number,
    previous: Promise<void>,
  ): Promise<void> {
    let unit: EncodedUnit<U>;
    const clock: FrameClock = this.timings.begin(frame.receivedAtMs ?? NaN, throttleMs);
    const began = performance.now();
    try {
      unit = await this.encode(frame, this.currentParams, clock);
    } catch (err) {
      this.encodeErrors++;
      const now = Date.now();
      // One log line per 10 s at most: a broken encoder must not flood the log.
      if (now - this.lastEncodeError > 10_000) {
        this.lastEncodeError = now;
        this.logger.error({ err: errorMessage(err), errors: this.encodeErrors }, 'encode failed');
      }
      await previous;
      return;
    }
    const encodedAt = nowMs();
    this.history.encodeSeconds.observe((performance.now() - began) / 1000);
    await previous;
    if (this.stopped) return;
    this.framesEncoded++;
    this.latestUnit = unit;
    this.encodeTimes.push(performance.now());
    if (this.encodeTimes.length > 256) this.encodeTimes = this.encodeTimes.slice(-128);
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve(unit);
    for (const session of this.sessionSet) {
      try {
        session.send(unit);
      } catch (err) {
        this.logger.warn({ err: errorMessage(err), session: session.id }, 'session send failed');
        session.close('send failed');
        this.removeSession(session);
      }
    }
    // Capture → handed to every session, on the clock of capture times; a unit or frame without
    // a capture time (0) is not timed from capture.
    const total = this.timings.finish(
      msOf(frame.timestamp),
      msOf(unit.timestamp),
      encodedAt,
      clock,
    );
    if (Number.isFinite(total)) this.history.latencySeconds.observe(total / 1000);
  }
}

/** A capture time in ms since the epoch, NaN for none (0): a double, not bigint arithmetic, which allocates. */
function msOf(timestamp: bigint): number {
  return timestamp > 0n ? Number(timestamp) / 1e6 : NaN;
}

/** A worker of any unit type (the controller does not look inside units). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStreamWorker<P extends StreamParams = StreamParams> = StreamWorker<P, any>;
