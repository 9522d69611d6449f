import type { Dtype, Frame } from './frame.js';
import type { Logger } from './logger.js';
import { SafeEmitter } from './safe-emitter.js';
import { BadRequestError, errorMessage } from './errors.js';

/** Value of a detector parameter. */
export type ParameterValue = number | string | boolean;

/** Describes one detector parameter: its type, range and unit, for UIs and validation. */
export interface ParameterSpec {
  /** Parameter name, e.g. `exposure_ms`. */
  name: string;
  /** Value type; `enum` values come from `values`. */
  type: 'integer' | 'number' | 'boolean' | 'enum' | 'string';
  /** Smallest allowed value (integer/number). */
  min?: number;
  /** Largest allowed value (integer/number). */
  max?: number;
  /** Allowed values (enum). */
  values?: string[];
  /** Unit shown to users, e.g. `ms`. */
  unit?: string;
  /** True if the value can be read but not set. */
  readOnly?: boolean;
  /** One-line description. */
  description: string;
}

/** Static facts about a detector. */
export interface DetectorInfo {
  /** Manufacturer. */
  vendor: string;
  /** Model name. */
  model: string;
  /** Serial number or other unique id. */
  serial: string;
  /** Full sensor width in pixels. */
  sensorWidth: number;
  /** Full sensor height in pixels. */
  sensorHeight: number;
  /** Dtypes the detector can deliver. */
  dtypes: Dtype[];
  /** Anything else worth showing. */
  [key: string]: unknown;
}

/** Life cycle of a detector. */
export type DetectorState = 'idle' | 'starting' | 'running' | 'error' | 'closed';

/** Events a detector emits. */
export type DetectorEvents = {
  /** A captured frame. */
  frame: [Frame];
  /** The state changed; `error` holds the reason when the state is `error`. */
  state: [DetectorState, string | undefined];
};

/** A camera: starts and stops acquisition, emits frames, has typed parameters. */
export interface Detector {
  /** Name from the config (`detectors.<name>`). */
  readonly name: string;
  /** Type from the config, e.g. `mock`. */
  readonly type: string;
  /** Static facts. */
  readonly info: DetectorInfo;
  /** Current state. */
  readonly state: DetectorState;
  /** Why the detector is in `error`, if it is. */
  readonly error: string | undefined;
  /** Starts acquisition; resolves when frames will follow. */
  start(): Promise<void>;
  /** Stops acquisition; idempotent. */
  stop(): Promise<void>;
  /** Stops and releases the device; idempotent. */
  close(): Promise<void>;
  /** The newest frame captured, if any. */
  getLatestFrame(): Frame | undefined;
  /** Descriptions of the parameters. */
  getParameterSpecs(): ParameterSpec[];
  /** Current parameter values. */
  getParameters(): Record<string, ParameterValue>;
  /** Sets some parameters; rejects with a BadRequestError naming the wrong one; resolves to all values. */
  setParameters(values: Record<string, unknown>): Promise<Record<string, ParameterValue>>;
  /** Subscribes to an event. */
  on<K extends keyof DetectorEvents & string>(
    event: K,
    listener: (...args: DetectorEvents[K]) => void,
  ): this;
  /** Unsubscribes from an event. */
  off<K extends keyof DetectorEvents & string>(
    event: K,
    listener: (...args: DetectorEvents[K]) => void,
  ): this;
}

/** A device feature as a detector with a feature tree (GenICam) describes it. */
export interface FeatureDescription {
  /** Feature name, e.g. ExposureTime. */
  name: string;
  /** Node type, e.g. Integer, Float, Enumeration, Command. */
  type: string;
  /** Access mode: RO, WO, RW, NA (not available) or NI (not implemented). */
  access: string;
  /** Current value, when readable. */
  value?: ParameterValue;
  /** Anything else: range, increment, unit, entries, description. */
  [key: string]: unknown;
}

/** A detector that exposes every device feature by name (GET/PUT …/features/{feature}). */
export interface FeatureAccess {
  /** Describes one feature; NotFoundError when there is none of that name. */
  getFeature(name: string): Promise<FeatureDescription>;
  /** Sets a feature (or executes a command); BadRequestError/ConflictError say what is wrong. */
  setFeature(name: string, value: unknown): Promise<FeatureDescription>;
}

/** True when a detector exposes features by name. */
export function hasFeatureAccess(d: Detector): d is Detector & FeatureAccess {
  const f = d as Partial<FeatureAccess>;
  return typeof f.getFeature === 'function' && typeof f.setFeature === 'function';
}

/** Checks a value against its spec; returns an error message or undefined. */
export function checkParameter(spec: ParameterSpec, value: unknown): string | undefined {
  if (spec.readOnly) return `parameter '${spec.name}' is read-only`;
  const range =
    spec.min !== undefined && spec.max !== undefined ? ` between ${spec.min} and ${spec.max}` : '';
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value) || outside(spec, value))
        return `parameter '${spec.name}' must be an integer${range}`;
      return undefined;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value) || outside(spec, value))
        return `parameter '${spec.name}' must be a number${range}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean'
        ? undefined
        : `parameter '${spec.name}' must be true or false`;
    case 'enum':
      return typeof value === 'string' && (spec.values ?? []).includes(value)
        ? undefined
        : `parameter '${spec.name}' must be one of: ${(spec.values ?? []).join(', ')}`;
    case 'string':
      return typeof value === 'string' ? undefined : `parameter '${spec.name}' must be a string`;
  }
}

function outside(spec: ParameterSpec, v: number): boolean {
  return (spec.min !== undefined && v < spec.min) || (spec.max !== undefined && v > spec.max);
}

/**
 * Base class for detector plugins: keeps the state, the latest frame and safe event delivery,
 * and validates parameters against their specs before `applyParameters` sees them.
 */
export abstract class BaseDetector extends SafeEmitter<DetectorEvents> implements Detector {
  private currentState: DetectorState = 'idle';
  private currentError: string | undefined;
  private latest: Frame | undefined;
  /** Counts starts and stops, so a start can tell that a stop came while it was under way. */
  private runs = 0;

  constructor(
    readonly name: string,
    readonly type: string,
    protected readonly logger: Logger,
  ) {
    super(logger);
  }

  /** Static facts. */
  abstract get info(): DetectorInfo;
  /** Starts the device's acquisition. */
  protected abstract startAcquisition(): Promise<void>;
  /** Stops the device's acquisition. */
  protected abstract stopAcquisition(): Promise<void>;
  /** Descriptions of the parameters. */
  abstract getParameterSpecs(): ParameterSpec[];
  /** Current parameter values. */
  abstract getParameters(): Record<string, ParameterValue>;
  /** Applies already validated values to the device. */
  protected abstract applyParameters(values: Record<string, ParameterValue>): Promise<void>;

  get state(): DetectorState {
    return this.currentState;
  }

  get error(): string | undefined {
    return this.currentError;
  }

  async start(): Promise<void> {
    if (this.currentState === 'running' || this.currentState === 'starting') return;
    if (this.currentState === 'closed') throw new Error(`detector '${this.name}' is closed`);
    this.setState('starting');
    const run = ++this.runs;
    try {
      await this.startAcquisition();
    } catch (err) {
      if (run === this.runs) this.setState('error', errorMessage(err));
      throw err;
    }
    if (run !== this.runs) {
      // stop() or close() came while the device was starting: what the start opened is released
      // and the detector stays stopped instead of saying `running`.
      await this.stopAcquisition().catch(() => undefined);
      throw new Error(`detector '${this.name}' was stopped while it started`);
    }
    this.setState('running');
  }

  async stop(): Promise<void> {
    if (this.currentState === 'idle' || this.currentState === 'closed') return;
    this.runs++;
    await this.stopAcquisition();
    // A close() that ran meanwhile has the last word.
    if (!this.isClosed()) this.setState('idle');
  }

  private isClosed(): boolean {
    return this.currentState === 'closed';
  }

  async close(): Promise<void> {
    if (this.currentState === 'closed') return;
    try {
      await this.stop();
    } finally {
      this.setState('closed');
      this.removeAllListeners();
    }
  }

  getLatestFrame(): Frame | undefined {
    return this.latest;
  }

  async setParameters(values: Record<string, unknown>): Promise<Record<string, ParameterValue>> {
    const specs = new Map(this.getParameterSpecs().map((s) => [s.name, s]));
    const checked: Record<string, ParameterValue> = {};
    for (const [name, value] of Object.entries(values)) {
      const spec = specs.get(name);
      if (!spec) {
        throw new BadRequestError(
          `unknown parameter '${name}' for detector '${this.name}' (known: ${[...specs.keys()].join(', ')})`,
        );
      }
      const problem = checkParameter(spec, value);
      if (problem) throw new BadRequestError(problem);
      checked[name] = value as ParameterValue;
    }
    await this.applyParameters(checked);
    return this.getParameters();
  }

  /** Plugins call this for each captured frame: it becomes the latest and goes to the listeners. */
  protected emitFrame(frame: Frame): void {
    this.latest = frame;
    this.safeEmit('frame', frame);
  }

  /** Plugins call this when the device fails (e.g. vanished) or recovers. */
  protected setState(state: DetectorState, error?: string): void {
    if (state === this.currentState && error === this.currentError) return;
    this.currentState = state;
    this.currentError = state === 'error' ? error : undefined;
    if (state === 'error') this.logger.error({ detector: this.name, error }, 'detector error');
    this.safeEmit('state', state, this.currentError);
  }
}

/** What a provider gets besides the options when it creates a detector. */
export interface DetectorContext {
  /** Logger bound to the detector's name. */
  logger: Logger;
  /** Folder of the config file, for resolving relative paths in options. */
  configDir: string;
}

/** Token under which plugins bind their detector providers. */
export const DetectorProvider = Symbol.for('liveview.DetectorProvider');

/** A plugin's factory for one detector `type`. */
export interface DetectorProvider<Options = unknown> {
  /** The `type` it serves in `detectors.<name>.type`. */
  readonly type: string;
  /** One-line description for listings. */
  readonly description: string;
  /** Validates an `options` block (defaults filled in); throws ConfigError naming key paths under `path`. */
  parseOptions(raw: unknown, path: string): Options;
  /** Creates a detector (not started). */
  create(name: string, options: Options, context: DetectorContext): Detector;
  /**
   * Lists the devices of this type that answer now (for GET /liveview/detectors), looking where
   * the configured detectors' options say; only called when at least one is configured.
   * `timeoutMs` is how long to wait for answers (default: the provider's own, kept short for
   * the REST API).
   */
  discover?(configured: Options[], timeoutMs?: number): Promise<Record<string, unknown>[]>;
  /** One or more lines describing a device `discover` found, for `liveview devices` (default: its JSON). */
  formatDevice?(device: Record<string, unknown>): string;
}
