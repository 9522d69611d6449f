import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Router } from 'express';
import type { ApiRoutes, WebSocketDoc } from './api-routes.js';
import type { RecordingFormat } from './recording.js';
import type { StreamHub } from './stream-hub.js';
import type { StreamParams } from './stream-params.js';
import type { AnyStreamWorker, WorkerContext } from './stream-worker.js';
import type { ValidatedClass } from './validation.js';

/** Token under which plugins bind their protocols. */
export const Protocol = Symbol.for('liveview.Protocol');

/**
 * Takes one WebSocket upgrade request that matched a registered path. It may reject (throw or
 * reject a LiveViewError): the request is then answered with the same JSON error and status as
 * a REST call would get.
 */
export type UpgradeHandler = (
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  url: URL,
) => void | Promise<void>;

/** Where protocols register their WebSocket endpoints (one upgrade router for the server). */
export interface WebSocketRoutes {
  /**
   * Routes upgrades of `path` (exact; a path ending in `/` also takes everything below it); `doc`
   * describes it in `GET /openapi.json` (without it the endpoint is listed as undocumented).
   */
  route(path: string, handler: UpgradeHandler, doc?: WebSocketDoc): void;
}

/** What a protocol gets when the server exists. */
export interface ProtocolContext<W extends AnyStreamWorker = AnyStreamWorker> {
  /** The protocol's streams. */
  hub: StreamHub<W>;
  /** Registers WebSocket endpoints. */
  websockets: WebSocketRoutes;
}

/** A streaming protocol plugin (mjpeg, webrtc, binary…); `W` is its worker class. */
export interface Protocol<
  P extends StreamParams = StreamParams,
  W extends AnyStreamWorker<P> = AnyStreamWorker<P>,
> {
  /** Name used in the config and the REST API, e.g. `mjpeg`. */
  readonly name: string;
  /** One-line description for listings. */
  readonly description: string;
  /** The class of its params (extends StreamParams); its initializers are the defaults. */
  readonly paramsClass: ValidatedClass<P>;
  /** Creates the worker for one detector's stream. */
  createWorker(context: WorkerContext<P>): W;
  /** Where a client connects for a detector's stream (path and query, relative to the server). */
  clientUrl(detectorName: string): string;
  /**
   * Adds the protocol's HTTP routes under `/liveview`: declared with `routes.route(…)` (handler and
   * documentation at once), or added to `router` the plain express way (still served, listed in
   * `GET /openapi.json` as undocumented). A protocol that ignores `routes` works unchanged.
   */
  registerRoutes?(router: Router, hub: StreamHub<W>, routes: ApiRoutes): void;
  /** Called once the server exists: WebSocket endpoints and anything else that needs it. */
  attach?(context: ProtocolContext<W>): void;
  /**
   * Recording formats that record this protocol's encoded output (e.g. WebRTC's encoder into
   * MP4), so a recording beside a viewer costs no second encoder. Read after `attach`.
   */
  recordingFormats?(): readonly RecordingFormat[];
  /** Releases what `attach` opened; called on shutdown after every stream stopped. */
  close?(): Promise<void>;
}
