import { inject, injectable } from 'inversify';
import type { ResolvedConfig } from './config.js';
import { DetectorManager } from './detector-manager.js';
import {
  BadRequestError,
  ConfigError,
  ConflictError,
  LiveViewError,
  NotFoundError,
  errorMessage,
} from './errors.js';
import type { Logger } from './logger.js';
import type { Protocol } from './protocol.js';
import { PluginRegistry } from './registry.js';
import type { ActiveStream, StreamHub } from './stream-hub.js';
import { parseStreamParams, type StreamParams } from './stream-params.js';
import type { AnyStreamWorker as StreamWorker } from './stream-worker.js';
import { ConfigToken, LoggerToken } from './tokens.js';

/** Body of startLiveView. */
export interface StartRequest {
  /** Detector (default: the first configured). */
  detectorName?: string;
  /** Protocol name. */
  protocol: string;
  /** Params overriding the protocol's defaults for this stream. */
  params?: Record<string, unknown>;
}

/** Answer of startLiveView. */
export interface StartResult {
  detectorName: string;
  protocol: string;
  params: StreamParams;
  /** Where a client connects (relative to the server). */
  url: string;
}

/** A running stream with its bookkeeping. */
interface StreamEntry {
  worker: StreamWorker;
  protocol: Protocol;
  /** True if a client's connection started it; it stops when its last client leaves. */
  onDemand: boolean;
  /** Callers between ensureStream and releaseStream: the stream is not idle while any is. */
  holds: number;
  idleTimer?: NodeJS.Timeout;
}

/** Milliseconds an on-demand stream lingers after its last client left (default 2000). */
const ON_DEMAND_GRACE_MS = 2000;

/**
 * The one owner of all streams: the REST API and the protocols go through it, nothing else
 * creates or stops a StreamWorker.
 */
@injectable()
export class LiveViewController {
  private readonly streams = new Map<string, StreamEntry>();
  private readonly pending = new Map<string, Promise<StreamEntry>>();
  private readonly defaults = new Map<string, StreamParams>();
  private closed = false;

  constructor(
    @inject(DetectorManager) readonly detectors: DetectorManager,
    @inject(PluginRegistry) readonly registry: PluginRegistry,
    @inject(ConfigToken) config: ResolvedConfig,
    @inject(LoggerToken) private readonly logger: Logger,
  ) {
    for (const [name, params] of Object.entries(config.protocols)) this.defaults.set(name, params);
  }

  /** The protocol of a name; BadRequestError listing the known ones. */
  protocol(name: unknown): Protocol {
    const protocol = typeof name === 'string' ? this.registry.findProtocol(name) : undefined;
    if (!protocol) {
      if (name === undefined) {
        throw new BadRequestError(
          `protocol is required (known protocols: ${this.registry.protocolNames.join(', ')})`,
        );
      }
      throw new BadRequestError(this.registry.unknownProtocolMessage(name));
    }
    return protocol;
  }

  /** Resolves an optional detector name to a configured one. */
  detectorName(name: unknown): string {
    if (name === undefined || name === null || name === '') return this.detectors.defaultName;
    if (typeof name !== 'string') throw new BadRequestError('detectorName must be a string');
    this.detectors.source(name);
    return name;
  }

  /** Starts a stream, or updates the params of a running one (not an error). */
  async startLiveView(request: StartRequest): Promise<StartResult> {
    const protocol = this.protocol(request.protocol);
    const detectorName = this.detectorName(request.detectorName);
    const key = streamKey(detectorName, protocol.name);
    const running = this.streams.get(key) ?? (await this.pending.get(key));
    if (running) {
      running.onDemand = false;
      if (request.params !== undefined) {
        running.worker.updateParams(
          toBadRequest(() =>
            parseStreamParams(
              protocol.paramsClass,
              request.params,
              'params',
              running.worker.params,
            ),
          ),
        );
      }
      return this.describeStart(running);
    }
    const params = toBadRequest(() =>
      parseStreamParams(
        protocol.paramsClass,
        request.params,
        'params',
        this.getStreamParams(protocol.name),
      ),
    );
    const entry = await this.createStream(detectorName, protocol, params, false);
    return this.describeStart(entry);
  }

  /**
   * The running stream of a detector and protocol, started with the defaults if there is none (on
   * demand). The stream is held until `releaseStream`: every call must be paired with one.
   */
  async ensureStream(
    detectorName: string | undefined,
    protocolName: string,
  ): Promise<StreamWorker> {
    const protocol = this.protocol(protocolName);
    const name = this.detectorName(detectorName);
    const key = streamKey(name, protocol.name);
    const entry =
      this.streams.get(key) ??
      (await this.pending.get(key)) ??
      (await this.createStream(name, protocol, this.getStreamParams(protocol.name), true));
    clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    entry.holds++;
    return entry.worker;
  }

  /** Ends one `ensureStream` hold (its caller added its session, or gave up): an unused on-demand stream stops after the grace period. */
  releaseStream(worker: StreamWorker): void {
    const key = streamKey(worker.detectorName, worker.protocol);
    const entry = this.streams.get(key);
    if (entry?.worker !== worker || entry.holds === 0) return;
    entry.holds--;
    if (entry.holds === 0) this.scheduleIdleStop(key, entry);
  }

  /** The running stream or undefined. */
  findStream(detectorName: string, protocol: string): StreamWorker | undefined {
    return this.streams.get(streamKey(detectorName, protocol))?.worker;
  }

  /** The view of the streams a protocol gets: its own, typed as its own worker. */
  hub<W extends StreamWorker>(protocol: Protocol<StreamParams, W>): StreamHub<W> {
    if (this.registry.findProtocol(protocol.name) !== protocol) {
      throw new Error(`protocol '${protocol.name}' is not the registered one`);
    }
    return new ProtocolStreamHub<W>(this, protocol.name);
  }

  /** Validates params against a running stream's and applies them live (any client, any protocol). */
  updateStreamParams(detectorName: string, protocolName: string, params: unknown): StreamParams {
    const protocol = this.protocol(protocolName);
    const worker = this.findStream(this.detectorName(detectorName), protocol.name);
    if (!worker) {
      throw new NotFoundError(
        `no ${protocol.name} stream of detector '${detectorName}' is running; start it first`,
      );
    }
    const updated = toBadRequest(() =>
      parseStreamParams(protocol.paramsClass, params, 'params', worker.params),
    );
    worker.updateParams(updated);
    return updated;
  }

  /** One running stream as getActiveStreams lists it, or undefined. */
  streamStatus(detectorName: string, protocolName: string): ActiveStream | undefined {
    const entry = this.streams.get(streamKey(detectorName, protocolName));
    return entry && this.describeStream(entry);
  }

  /** Stops a detector's stream of one protocol, or all its streams; returns the stopped protocols. */
  async stopLiveView(request: { detectorName?: unknown; protocol?: unknown }): Promise<string[]> {
    const detectorName = this.detectorName(request.detectorName);
    const protocols =
      request.protocol === undefined
        ? [...this.streams.values()]
            .filter((e) => e.worker.detectorName === detectorName)
            .map((e) => e.protocol.name)
        : [this.protocol(request.protocol).name];
    const stopped: string[] = [];
    for (const name of protocols) {
      if (await this.stopStream(streamKey(detectorName, name))) stopped.push(name);
    }
    return stopped;
  }

  /** Every running stream with its counters. */
  getActiveStreams(): ActiveStream[] {
    return [...this.streams.values()].map((e) => this.describeStream(e));
  }

  private describeStream(e: StreamEntry): ActiveStream {
    return {
      ...e.worker.status(),
      params: e.worker.params,
      url: e.protocol.clientUrl(e.worker.detectorName),
      onDemand: e.onDemand,
    };
  }

  /** Default params for new streams of a protocol. */
  getStreamParams(protocolName: unknown): StreamParams {
    const protocol = this.protocol(protocolName);
    return this.defaults.get(protocol.name) ?? new protocol.paramsClass();
  }

  /** Changes a protocol's defaults and applies the change live to its running streams. */
  setStreamParams(protocolName: unknown, params: unknown): StreamParams {
    const protocol = this.protocol(protocolName);
    const updated = toBadRequest(() =>
      parseStreamParams(
        protocol.paramsClass,
        params,
        'params',
        this.getStreamParams(protocol.name),
      ),
    );
    // Check every running stream first so that a bad combination changes nothing.
    const perStream = [...this.streams.values()]
      .filter((e) => e.protocol === protocol)
      .map((e) => ({
        e,
        p: toBadRequest(() =>
          parseStreamParams(protocol.paramsClass, params, 'params', e.worker.params),
        ),
      }));
    this.defaults.set(protocol.name, updated);
    for (const { e, p } of perStream) e.worker.updateParams(p);
    return updated;
  }

  /** Stops every stream (shutdown). */
  async stopAll(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pending.values()]);
    await Promise.all([...this.streams.keys()].map((k) => this.stopStream(k)));
  }

  private describeStart(entry: StreamEntry): StartResult {
    return {
      detectorName: entry.worker.detectorName,
      protocol: entry.protocol.name,
      params: entry.worker.params,
      url: entry.protocol.clientUrl(entry.worker.detectorName),
    };
  }

  private async createStream(
    detectorName: string,
    protocol: Protocol,
    params: StreamParams,
    onDemand: boolean,
  ): Promise<StreamEntry> {
    if (this.closed) throw new LiveViewError('the server is shutting down', 503);
    const key = streamKey(detectorName, protocol.name);
    const create = async (): Promise<StreamEntry> => {
      const worker = protocol.createWorker({
        detectorName,
        protocol: protocol.name,
        params,
        source: this.detectors.source(detectorName),
        logger: this.logger.child({ detector: detectorName, protocol: protocol.name }),
      });
      try {
        await worker.start();
      } catch (err) {
        await worker.stop().catch(() => undefined);
        throw new ConflictError(`detector '${detectorName}' failed to start: ${errorMessage(err)}`);
      }
      const entry: StreamEntry = { worker, protocol, onDemand, holds: 0 };
      worker.onIdle(() => this.scheduleIdleStop(key, entry));
      this.streams.set(key, entry);
      // Armed now, not only when a last client leaves: a stream no client ever joins must stop too.
      this.scheduleIdleStop(key, entry);
      this.logger.info(
        { detector: detectorName, protocol: protocol.name, onDemand },
        'stream started',
      );
      return entry;
    };
    const promise = create().finally(() => this.pending.delete(key));
    this.pending.set(key, promise);
    return promise;
  }

  private scheduleIdleStop(key: string, entry: StreamEntry): void {
    if (!entry.onDemand) return;
    clearTimeout(entry.idleTimer);
    entry.idleTimer = setTimeout(() => {
      if (
        entry.onDemand &&
        entry.holds === 0 &&
        !entry.worker.inUse &&
        this.streams.get(key) === entry
      ) {
        void this.stopStream(key);
      }
    }, ON_DEMAND_GRACE_MS);
    entry.idleTimer.unref();
  }

  private async stopStream(key: string): Promise<boolean> {
    const entry = this.streams.get(key);
    if (!entry) return false;
    this.streams.delete(key);
    clearTimeout(entry.idleTimer);
    await entry.worker.stop();
    this.logger.info(
      { detector: entry.worker.detectorName, protocol: entry.protocol.name },
      'stream stopped',
    );
    return true;
  }
}

function streamKey(detectorName: string, protocol: string): string {
  return `${detectorName}\u0000${protocol}`;
}

/** Param problems in a request are the client's fault: 400 with the same messages. */
function toBadRequest<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigError) throw new BadRequestError(err.problems.join('; '));
    throw err;
  }
}

/** A protocol's view of the controller: its own streams, typed as its worker. */
class ProtocolStreamHub<W extends StreamWorker> implements StreamHub<W> {
  constructor(
    private readonly controller: LiveViewController,
    readonly protocol: string,
  ) {}

  detectorName(name: unknown): string {
    return this.controller.detectorName(name);
  }

  async ensure(detectorName: string | undefined): Promise<W> {
    // The controller created this worker with this protocol's createWorker, which returns W.
    return (await this.controller.ensureStream(detectorName, this.protocol)) as W;
  }

  release(worker: W): void {
    this.controller.releaseStream(worker);
  }

  find(detectorName: string): W | undefined {
    return this.controller.findStream(detectorName, this.protocol) as W | undefined;
  }

  status(detectorName: string): ActiveStream | undefined {
    return this.controller.streamStatus(detectorName, this.protocol);
  }

  updateParams(detectorName: string, params: unknown): StreamParams {
    return this.controller.updateStreamParams(detectorName, this.protocol, params);
  }
}
