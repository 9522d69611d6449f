import type { StreamParams } from './stream-params.js';
import type { AnyStreamWorker, StreamStatus } from './stream-worker.js';

/** One entry of getActiveStreams: a stream's counters, where clients connect, how it started. */
export interface ActiveStream extends StreamStatus {
  /** Where a client connects (relative to the server). */
  url: string;
  /** True if a client's connection started it: it stops when its last client leaves. */
  onDemand: boolean;
}

/**
 * What a protocol sees of the streams: its own streams only, typed as its own worker, so it needs
 * neither the controller nor a downcast. Every stream a protocol's client starts or retunes goes
 * through here, so the controller stays the one owner of streams.
 */
export interface StreamHub<W extends AnyStreamWorker = AnyStreamWorker> {
  /** The protocol these streams belong to. */
  readonly protocol: string;
  /** Resolves an optional detector name (default: the first configured); NotFoundError for an unknown one. */
  detectorName(name: unknown): string;
  /**
   * The running stream of a detector, started with the protocol's defaults if there is none (on
   * demand). The stream is held for the caller until `release`: pair every call with one (in a
   * `finally`), after the caller's session was added or it gave up, so an unused stream stops.
   */
  ensure(detectorName: string | undefined): Promise<W>;
  /** Ends the hold of one `ensure`: an on-demand stream nobody uses then stops after the grace period. */
  release(worker: W): void;
  /** The running stream of a detector, or undefined. */
  find(detectorName: string): W | undefined;
  /** A running stream's status as getActiveStreams lists it, or undefined. */
  status(detectorName: string): ActiveStream | undefined;
  /** Validates params against a running stream's and applies them live; BadRequestError naming the wrong one. */
  updateParams(detectorName: string, params: unknown): StreamParams;
}
