import type { LiveViewController } from '../../core/controller.js';
import { BadRequestError, ConfigError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { Protocol } from '../../core/protocol.js';
import { parseStreamParams } from '../../core/stream-params.js';
import type { AnyStreamWorker, StreamSession } from '../../core/stream-worker.js';
import { knownKeys } from '../../core/validation.js';
import { longExposureInfo } from './exposure.js';
import {
  COMMON_KEYS,
  IMSWITCH_PROTOCOLS,
  LIVEVIEW_PROTOCOL,
  toImswitchDict,
  toLiveviewParams,
  type ImswitchParamsDict,
  type ImswitchProtocol,
  type ImswitchStreamParams,
} from './params.js';

/**
 * A stream as ImSwitch sees it: started by startLiveView (or mjpeg_stream, webrtc_offer) and
 * active until stopLiveView. Its liveview stream runs only while a client watches it.
 */
export interface StreamRecord {
  /** Detector name. */
  readonly detector: string;
  /** ImSwitch protocol. */
  readonly protocol: ImswitchProtocol;
  /** Params (liveview's names) it was started or retuned with, applied again when its stream restarts. */
  overrides: Record<string, unknown>;
  /** Its MJPEG and WebRTC clients with their stream: stopLiveView ends them. */
  readonly clients: Map<StreamSession<unknown>, AnyStreamWorker>;
}

/** Told when ImSwitch streams start and stop (the Socket.IO channel follows them). */
export interface RecordListener {
  /** A stream was started. */
  added(record: StreamRecord): void;
  /** A stream was stopped. */
  removed(record: StreamRecord): void;
}

/** Answer of startLiveView when the exposure is above the threshold and `force` is not set. */
export interface LongExposureAnswer {
  status: 'long_exposure';
  detector: string;
  protocol: ImswitchProtocol;
  exposureMs: number;
  thresholdMs: number;
  message: string;
}

/** Answer of startLiveView. */
export type StartAnswer =
  | {
      status: 'success' | 'already_running';
      detector: string;
      protocol: ImswitchProtocol;
      params: ImswitchParamsDict;
      message?: string;
    }
  | LongExposureAnswer;

/** Answer of stopLiveView. */
export type StopAnswer =
  | {
      status: 'success';
      detector: string;
      protocol: ImswitchProtocol;
      protocols: ImswitchProtocol[];
    }
  | { status: 'not_running'; detector?: string; message: string };

/** What startLiveView asks for. */
export interface StartRequest {
  /** Detector (default: the first configured). */
  detectorName?: string | null;
  /** ImSwitch protocol. */
  protocol: ImswitchProtocol;
  /** Params by ImSwitch's names (none: the detector's saved ones, as ImSwitch). */
  params?: ImswitchStreamParams;
  /** Start even at a long exposure. */
  force?: boolean;
}

/**
 * ImSwitch's LiveViewController over liveview's: which streams are active, the params each
 * detector last streamed with, and the mapping of both onto liveview's streams. One ImSwitch
 * protocol per detector and protocol; several protocols of one detector may run at once, as in
 * liveview.
 */
export class ImswitchStreams {
  private readonly records = new Map<string, StreamRecord>();
  private readonly detectorParams = new Map<string, ImswitchParamsDict>();
  private readonly listeners = new Set<RecordListener>();

  constructor(
    /** The controller that owns every stream. */
    readonly controller: LiveViewController,
    private readonly logger: Logger,
  ) {}

  /** Active streams, oldest first. */
  list(): StreamRecord[] {
    return [...this.records.values()];
  }

  /** The active stream of a detector and protocol, if any. */
  find(detector: string, protocol: ImswitchProtocol): StreamRecord | undefined {
    return this.records.get(keyOf(detector, protocol));
  }

  /** True while `record` is active. */
  isActive(record: StreamRecord): boolean {
    return this.records.get(keyOf(record.detector, record.protocol)) === record;
  }

  /** Calls `listener` for every stream started or stopped from now on. */
  listen(listener: RecordListener): void {
    this.listeners.add(listener);
  }

  /** ImSwitch's startLiveView: validates, starts the liveview stream (held briefly) and records it. */
  async start(request: StartRequest): Promise<StartAnswer> {
    const name = this.controller.detectorName(request.detectorName ?? undefined);
    const protocol = request.protocol;
    const exposure = longExposureInfo(this.controller.detectors.detector(name));
    if (!request.force && exposure.isLongExposure) {
      return {
        status: 'long_exposure',
        detector: name,
        protocol,
        exposureMs: exposure.exposureMs,
        thresholdMs: exposure.thresholdMs,
        message: `exposure ${exposure.exposureMs} ms is above ${exposure.thresholdMs} ms: a live stream would show one old frame every few seconds; take single frames instead, or pass force=true to stream anyway`,
      };
    }
    const lv = this.liveviewProtocol(protocol);
    const overrides = this.startOverrides(name, protocol, request.params, lv);
    // Checked before anything starts: wrong params leave nothing behind.
    checked(() =>
      parseStreamParams(
        lv.paramsClass,
        overrides,
        'params',
        this.controller.getStreamParams(lv.name),
      ),
    );
    const worker = await this.controller.ensureStream(name, lv.name);
    try {
      const params = hasKeys(overrides)
        ? this.controller.updateStreamParams(name, lv.name, overrides)
        : worker.params;
      const dict = toImswitchDict(params, protocol, name);
      this.detectorParams.set(name, plain(dict));
      const existing = this.find(name, protocol);
      if (existing) {
        existing.overrides = { ...existing.overrides, ...overrides };
        return {
          status: 'already_running',
          detector: name,
          protocol,
          params: dict,
          message: `the ${protocol} stream of ${name} was already running; its params were updated`,
        };
      }
      const record: StreamRecord = { detector: name, protocol, overrides, clients: new Map() };
      this.records.set(keyOf(name, protocol), record);
      // Told before the hold ends, so that watchers hold the stream before it could idle out.
      for (const listener of this.listeners) listener.added(record);
      this.logger.info({ detector: name, protocol }, 'ImSwitch stream started');
      return { status: 'success', detector: name, protocol, params: dict };
    } finally {
      this.controller.releaseStream(worker);
    }
  }

  /** ImSwitch's stopLiveView: ends a detector's streams (default: the first active stream's detector). */
  stop(request: { detectorName?: string; protocol?: ImswitchProtocol }): StopAnswer {
    let name: string;
    if (request.detectorName === undefined) {
      const first = this.records.values().next().value;
      if (!first) return { status: 'not_running', message: 'no active streams to stop' };
      name = first.detector;
    } else name = this.controller.detectorName(request.detectorName);
    const stopping = this.list().filter(
      (r) =>
        r.detector === name && (request.protocol === undefined || r.protocol === request.protocol),
    );
    if (stopping.length === 0)
      return {
        status: 'not_running',
        detector: name,
        message: `no active stream for detector ${name}`,
      };
    for (const record of stopping) this.remove(record, 'stream stopped');
    return {
      status: 'success',
      detector: name,
      protocol: stopping[0].protocol,
      protocols: stopping.map((r) => r.protocol),
    };
  }

  /** An active stream whose liveview stream was stopped under its watchers (elsewhere, or shutdown) is stopped too. */
  lost(record: StreamRecord): void {
    if (this.isActive(record)) this.remove(record, 'stream stopped');
  }

  /**
   * Holds the liveview stream of an active stream (started on demand, with the stream's params
   * when it starts anew). Pair every call with `release`.
   */
  async hold(record: StreamRecord): Promise<AnyStreamWorker> {
    const lv = LIVEVIEW_PROTOCOL[record.protocol];
    const fresh = this.controller.findStream(record.detector, lv) === undefined;
    const worker = await this.controller.ensureStream(record.detector, lv);
    if (fresh && hasKeys(record.overrides)) {
      try {
        this.controller.updateStreamParams(record.detector, lv, record.overrides);
      } catch (err) {
        this.logger.warn(
          { detector: record.detector, protocol: record.protocol, err: errorMessage(err) },
          'ImSwitch stream params no longer apply; the stream runs with the defaults',
        );
      }
    }
    return worker;
  }

  /** Ends one `hold`. */
  release(worker: AnyStreamWorker): void {
    this.controller.releaseStream(worker);
  }

  /** Remembers an MJPEG or WebRTC client of an active stream, for stopLiveView to end it. */
  track(record: StreamRecord, session: StreamSession<unknown>, worker: AnyStreamWorker): void {
    for (const [s, w] of record.clients) if (!w.sessions.has(s)) record.clients.delete(s);
    record.clients.set(session, worker);
  }

  /** Applies params by ImSwitch's names to an active stream (webrtc_offer's params). */
  retune(record: StreamRecord, params: ImswitchStreamParams): void {
    const lv = this.liveviewProtocol(record.protocol);
    const mapped = toLiveviewParams(params, knownKeys(lv.paramsClass));
    if (!hasKeys(mapped)) return;
    if (this.controller.findStream(record.detector, lv.name))
      this.controller.updateStreamParams(record.detector, lv.name, mapped);
    else
      checked(() =>
        parseStreamParams(
          lv.paramsClass,
          mapped,
          'params',
          this.controller.getStreamParams(lv.name),
        ),
      );
    record.overrides = { ...record.overrides, ...mapped };
    const saved = this.detectorParams.get(record.detector);
    if (saved?.protocol === record.protocol)
      this.detectorParams.set(record.detector, plain({ ...saved, ...definedOf(params) }));
  }

  /** ImSwitch's setStreamParameters: a protocol's defaults, applied live to its running streams. */
  setProtocolParams(protocol: ImswitchProtocol, params: ImswitchStreamParams): object {
    const lv = this.liveviewProtocol(protocol);
    const mapped = toLiveviewParams(params, knownKeys(lv.paramsClass));
    const updated = this.controller.setStreamParams(lv.name, mapped);
    const updatedDetectors: string[] = [];
    for (const record of this.records.values()) {
      if (LIVEVIEW_PROTOCOL[record.protocol] !== lv.name) continue;
      record.overrides = { ...record.overrides, ...mapped };
      if (record.protocol !== protocol) continue;
      updatedDetectors.push(record.detector);
      const saved = this.detectorParams.get(record.detector);
      if (saved?.protocol === protocol)
        this.detectorParams.set(record.detector, plain({ ...saved, ...definedOf(params) }));
    }
    return {
      status: 'success',
      protocol,
      params: toImswitchDict(updated, protocol, null),
      ...(updatedDetectors.length > 0
        ? {
            updated_detectors: updatedDetectors,
            message: `params applied live to ${updatedDetectors.length} stream(s), no restart`,
          }
        : { message: 'params updated (no active streams)' }),
    };
  }

  /** ImSwitch's setDetectorStreamParameters: a detector's saved params, applied live to its active streams. */
  setDetectorParams(detectorName: string, params: ImswitchStreamParams): object {
    const name = this.controller.detectorName(detectorName);
    const saved = this.detectorParams.get(name);
    const protocol = params.protocol ?? saved?.protocol ?? 'jpeg';
    const lv = this.liveviewProtocol(protocol);
    const base = saved ?? toImswitchDict(this.controller.getStreamParams(lv.name), protocol, name);
    checked(() =>
      parseStreamParams(
        lv.paramsClass,
        toLiveviewParams(params, knownKeys(lv.paramsClass)),
        'params',
        this.controller.getStreamParams(lv.name),
      ),
    );
    // Every running stream checked first, so that a bad combination changes nothing.
    const changes = this.list()
      .filter((r) => r.detector === name)
      .map((record) => {
        const rlv = this.liveviewProtocol(record.protocol);
        const mapped = toLiveviewParams(params, knownKeys(rlv.paramsClass));
        const worker = this.controller.findStream(name, rlv.name);
        checked(() =>
          parseStreamParams(
            rlv.paramsClass,
            mapped,
            'params',
            worker?.params ?? this.controller.getStreamParams(rlv.name),
          ),
        );
        return { record, lv: rlv.name, mapped, running: worker !== undefined };
      })
      .filter((c) => hasKeys(c.mapped));
    for (const c of changes) {
      if (c.running) this.controller.updateStreamParams(name, c.lv, c.mapped);
      c.record.overrides = { ...c.record.overrides, ...c.mapped };
    }
    const updated = plain({ ...base, ...definedOf(params), detector_name: name, protocol });
    this.detectorParams.set(name, updated);
    return {
      status: 'success',
      detector: name,
      params: updated,
      restarted: false,
      ...(changes.some((c) => c.running) ? { updated_live: true } : {}),
    };
  }

  /** ImSwitch's getStreamParameters: one protocol's defaults, or all with the active streams. */
  streamParameters(protocol?: ImswitchProtocol, detectorName?: string): object {
    const active: Record<string, ImswitchProtocol> = {};
    for (const r of this.records.values()) active[r.detector] = r.protocol;
    const onProtocol = (p: ImswitchProtocol) =>
      this.list()
        .filter((r) => r.protocol === p)
        .map((r) => r.detector);
    const defaults = (p: ImswitchProtocol) =>
      toImswitchDict(this.controller.getStreamParams(LIVEVIEW_PROTOCOL[p]), p, null);
    if (protocol) {
      this.liveviewProtocol(protocol);
      const detectors = onProtocol(protocol);
      return {
        status: 'success',
        protocol,
        params: defaults(protocol),
        active_detectors: detectors,
        is_active: detectors.length > 0,
      };
    }
    const available = IMSWITCH_PROTOCOLS.filter((p) =>
      this.controller.registry.findProtocol(LIVEVIEW_PROTOCOL[p]),
    );
    return {
      status: 'success',
      current_active_protocols: active,
      current_protocol:
        (detectorName !== undefined ? active[detectorName] : undefined) ??
        Object.values(active)[0] ??
        null,
      total_active_streams: this.records.size,
      protocols: Object.fromEntries(
        available.map((p) => {
          const detectors = onProtocol(p);
          return [
            p,
            { ...defaults(p), active_detectors: detectors, is_active: detectors.length > 0 },
          ];
        }),
      ),
      per_detector: Object.fromEntries(this.detectorParams),
    };
  }

  /** Stops every active stream, as stopLiveView does each. */
  stopAll(reason = 'stream stopped'): void {
    for (const record of this.list()) this.remove(record, reason);
  }

  /** Stops every stream and forgets the listeners (shutdown). */
  clear(): void {
    this.stopAll('server stopping');
    this.listeners.clear();
  }

  private remove(record: StreamRecord, reason: string): void {
    this.records.delete(keyOf(record.detector, record.protocol));
    for (const listener of this.listeners) listener.removed(record);
    for (const session of record.clients.keys()) session.close(reason);
    record.clients.clear();
    this.logger.info(
      { detector: record.detector, protocol: record.protocol },
      'ImSwitch stream stopped',
    );
  }

  /**
   * The params a start applies, as ImSwitch resolves them: the request's; else the detector's
   * saved ones for the same protocol; else the protocol's defaults with the saved settings every
   * protocol shares.
   */
  private startOverrides(
    name: string,
    protocol: ImswitchProtocol,
    explicit: ImswitchStreamParams | undefined,
    lv: Protocol,
  ): Record<string, unknown> {
    const known = knownKeys(lv.paramsClass);
    if (explicit && hasKeys(definedOf(explicit))) return toLiveviewParams(explicit, known);
    const saved = this.detectorParams.get(name);
    if (!saved) return {};
    if (saved.protocol === protocol) return toLiveviewParams(saved, known);
    const common = Object.fromEntries(COMMON_KEYS.map((k) => [k, saved[k]]));
    return toLiveviewParams(common, known);
  }

  /** The liveview protocol serving an ImSwitch protocol; 400 when it is not loaded. */
  private liveviewProtocol(protocol: ImswitchProtocol): Protocol {
    return this.controller.protocol(LIVEVIEW_PROTOCOL[protocol]);
  }
}

function keyOf(detector: string, protocol: string): string {
  return `${detector}\u0000${protocol}`;
}

function hasKeys(o: object): boolean {
  return Object.keys(o).length > 0;
}

/** The keys of ImSwitch params a client gave. */
function definedOf(params: Partial<ImswitchStreamParams>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined));
}

/** A params dict as plain JSON data (TURN secrets shown as placeholders, as every answer shows them). */
function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Param problems are the client's: 400 with the same messages. */
function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigError) throw new BadRequestError(err.problems.join('; '));
    throw err;
  }
}
