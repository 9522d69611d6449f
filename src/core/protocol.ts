import type { Server } from 'node:http';
import type { Router } from 'express';
import type { StreamParams } from './stream-params.js';
import type { AnyStreamWorker, WorkerContext } from './stream-worker.js';
import type { ValidatedClass } from './validation.js';
import type { LiveViewController } from './controller.js';

/** Token under which plugins bind their protocols. */
export const Protocol = Symbol.for('liveview.Protocol');

/** A streaming protocol plugin (mjpeg, webrtc, binary…). */
export interface Protocol<P extends StreamParams = StreamParams> {
  /** Name used in the config and the REST API, e.g. `mjpeg`. */
  readonly name: string;
  /** One-line description for listings. */
  readonly description: string;
  /** The class of its params (extends StreamParams); its initializers are the defaults. */
  readonly paramsClass: ValidatedClass<P>;
  /** Creates the worker for one detector's stream. */
  createWorker(context: WorkerContext<P>): AnyStreamWorker<P>;
  /** Where a client connects for a detector's stream (path and query, relative to the server). */
  clientUrl(detectorName: string): string;
  /** Adds the protocol's HTTP routes under `/liveview`. */
  registerRoutes?(router: Router, controller: LiveViewController): void;
  /** Attaches to the HTTP server once it exists (e.g. WebSocket upgrades). */
  attach?(server: Server, controller: LiveViewController): void;
  /** Releases what `attach` opened; called on shutdown after every stream stopped. */
  close?(): Promise<void>;
}
