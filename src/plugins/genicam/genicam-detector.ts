import {
  BadRequestError,
  ConflictError,
  NotFoundError,
  ReconnectingDetector,
  errorMessage,
  nowNs,
  type DetectorInfo,
  type FeatureAccess,
  type FeatureDescription,
  type Logger,
  type ParameterSpec,
  type ParameterValue,
} from '../../index.js';
import { GenApiError, type FeatureInfo } from './genapi/index.js';
import { GenicamCamera } from './camera.js';
import { locateCamera } from './discovery.js';
import type { GvspFrame } from './gvsp-receiver.js';
import type { GenicamOptions } from './options.js';
import { pixelFormatCode, unpackImage } from './pixel-formats.js';
import {
  STANDARD_PARAMETERS,
  STREAM_SHAPING,
  type StandardParameter,
} from './standard-features.js';

/** A standard parameter and the feature that implements it on this camera. */
interface MappedParameter {
  standard: StandardParameter;
  feature: string;
}

/**
 * A GigE Vision camera through its GenICam XML: parameters mapped to standard feature names,
 * every feature reachable by name, GVSP streaming with resends, and reconnection when the
 * camera comes back after vanishing.
 */
export class GenicamDetector extends ReconnectingDetector implements FeatureAccess {
  private camera: GenicamCamera | undefined;
  private connecting: Promise<GenicamCamera> | undefined;
  private mapped: MappedParameter[] = [];
  private specs: ParameterSpec[] = [];
  private values: Record<string, ParameterValue> = {};
  private frameCounter = 0;
  private lastError: string | undefined;

  constructor(
    name: string,
    private readonly options: GenicamOptions,
    logger: Logger,
  ) {
    super(name, 'genicam', logger, options.reconnect_ms);
    // Read the camera's features in the background so listings show them; start() reports
    // any problem, the server starts anyway.
    this.ensureCamera().catch((err) => {
      this.lastError = errorMessage(err);
      this.logger.warn({ detector: name, err: this.lastError }, 'camera not reachable yet');
    });
  }

  get info(): DetectorInfo {
    const c = this.camera;
    return {
      vendor: c?.identity.vendor ?? 'GigE Vision',
      model: c?.identity.model ?? '',
      serial: c?.identity.serial ?? this.options.serial,
      sensorWidth: Number(this.values.SensorWidth ?? this.values.Width ?? 0),
      sensorHeight: Number(this.values.SensorHeight ?? this.values.Height ?? 0),
      dtypes: ['uint8', 'uint16'],
      address: c?.client.address ?? this.options.address,
      ...(c
        ? {
            mac: c.identity.mac,
            userName: c.identity.userName,
            deviceVersion: c.identity.version,
            xmlUrl: c.xmlUrl,
          }
        : {}),
      ...(this.lastError && !c ? { connectError: this.lastError } : {}),
      ...(c?.streamStats ? { stream: { ...c.streamStats } } : {}),
    };
  }

  protected async closeDevice(): Promise<void> {
    const camera = this.camera;
    if (!camera) return;
    await camera.stopStream().catch(() => undefined);
    await camera.client.releaseControl().catch(() => undefined);
  }

  override async close(): Promise<void> {
    await super.close();
    const camera = this.camera;
    this.camera = undefined;
    await camera?.close();
  }

  getParameterSpecs(): ParameterSpec[] {
    return this.specs;
  }

  getParameters(): Record<string, ParameterValue> {
    const out: Record<string, ParameterValue> = {};
    for (const s of this.specs)
      if (this.values[s.name] !== undefined) out[s.name] = this.values[s.name]!;
    return out;
  }

  override async setParameters(
    values: Record<string, unknown>,
  ): Promise<Record<string, ParameterValue>> {
    // Specs come from the camera: read them first if the camera was not reachable until now.
    if (!this.camera) await this.ensureCamera();
    return super.setParameters(values);
  }

  protected async applyParameters(values: Record<string, ParameterValue>): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      const m = this.mapped.find((p) => p.standard.name === name)!;
      await this.writeFeature(m.feature, value);
    }
  }

  async getFeature(name: string): Promise<FeatureDescription> {
    const camera = await this.ensureCamera();
    return this.describeFeature(camera, name);
  }

  async setFeature(name: string, value: unknown): Promise<FeatureDescription> {
    const camera = await this.ensureCamera();
    if (!camera.nodes.has(name)) throw this.unknownFeature(name);
    if (!['number', 'string', 'boolean'].includes(typeof value))
      throw new BadRequestError(`feature '${name}': value must be a number, string or boolean`);
    await this.writeFeature(name, value as ParameterValue);
    return this.describeFeature(camera, name);
  }

  /** Writes one feature, holding the control privilege, pausing acquisition when the camera requires it. */
  private async writeFeature(feature: string, value: ParameterValue): Promise<void> {
    const camera = await this.ensureCamera();
    const info = await this.describeOrThrow(camera, feature);
    const pause = camera.streaming && STREAM_SHAPING.has(feature);
    const temporaryControl = !camera.client.hasControl;
    if (temporaryControl) await camera.client.takeControl();
    try {
      if (pause) await camera.stopStream();
      if (info.type === 'Command') {
        if (value !== true)
          throw new BadRequestError(`feature '${feature}' is a command: send true to execute it`);
        await camera.nodes.execute(feature);
      } else {
        await camera.nodes.setValue(feature, value);
      }
    } catch (err) {
      throw this.featureError(feature, err);
    } finally {
      camera.nodes.invalidate();
      if (pause) await camera.startStream((f) => this.onFrame(f));
      if (temporaryControl) await camera.client.releaseControl().catch(() => undefined);
      await this.refreshValues(camera).catch(() => undefined);
    }
  }

  private async describeOrThrow(camera: GenicamCamera, name: string): Promise<FeatureInfo> {
    try {
      return await camera.nodes.describe(name);
    } catch (err) {
      throw this.featureError(name, err);
    }
  }

  private async describeFeature(camera: GenicamCamera, name: string): Promise<FeatureDescription> {
    const info = await this.describeOrThrow(camera, name);
    return { ...info };
  }

  private unknownFeature(name: string): NotFoundError {
    return new NotFoundError(
      `camera of detector '${this.name}' has no feature '${name}' (GenICam names are case-sensitive, e.g. ExposureTime)`,
    );
  }

  private featureError(name: string, err: unknown): Error {
    if (!(err instanceof GenApiError)) return err instanceof Error ? err : new Error(String(err));
    switch (err.code) {
      case 'not-found':
        return this.unknownFeature(name);
      case 'not-writable':
      case 'not-readable':
        return new ConflictError(err.message);
      default:
        return new BadRequestError(err.message);
    }
  }

  /** Connects once (concurrent callers share the attempt). */
  private ensureCamera(): Promise<GenicamCamera> {
    if (this.camera) return Promise.resolve(this.camera);
    this.connecting ??= this.connect().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connect(): Promise<GenicamCamera> {
    const address = await locateCamera({
      address: this.options.address,
      serial: this.options.serial,
      userName: this.options.user_name,
      interfaces: this.options.interfaces,
      timeoutMs: this.options.discovery_timeout_ms,
    });
    const camera = await GenicamCamera.connect(address, this.options, this.logger);
    camera.client.on('lost', (reason) => {
      if (this.camera !== camera) return;
      // Drop the dead connection so the reconnect attempts start again from discovery.
      this.camera = undefined;
      void camera.close().catch(() => undefined);
      this.deviceLost(reason);
    });
    await this.mapParameters(camera);
    this.camera = camera;
    this.lastError = undefined;
    this.logger.info(
      {
        detector: this.name,
        camera: `${camera.identity.vendor} ${camera.identity.model}`,
        address,
      },
      'GigE Vision camera connected',
    );
    return camera;
  }

  protected async openDevice(): Promise<void> {
    const camera = await this.ensureCamera();
    await camera.client.takeControl();
    try {
      for (const [feature, value] of Object.entries(this.options.features))
        await this.writeFeature(feature, value as ParameterValue).catch((err: Error) => {
          throw new Error(`detector '${this.name}': options.features.${feature}: ${err.message}`);
        });
      this.frameCounter = 0;
      await camera.startStream((f) => this.onFrame(f));
    } catch (err) {
      await camera.stopStream().catch(() => undefined);
      await camera.client.releaseControl().catch(() => undefined);
      throw err;
    }
  }

  /** Builds the parameter specs from the standard names this camera implements. */
  private async mapParameters(camera: GenicamCamera): Promise<void> {
    const mapped: MappedParameter[] = [];
    const specs: ParameterSpec[] = [];
    for (const standard of STANDARD_PARAMETERS) {
      const feature = standard.features.find((f) => camera.nodes.has(f));
      if (!feature) continue;
      const info = await camera.nodes.describe(feature).catch(() => undefined);
      if (!info || info.access === 'NI' || info.access === 'NA') continue;
      mapped.push({ standard, feature });
      specs.push(toSpec(standard, feature, info));
    }
    this.mapped = mapped;
    this.specs = specs;
    await this.refreshValues(camera);
  }

  private async refreshValues(camera: GenicamCamera): Promise<void> {
    const values: Record<string, ParameterValue> = {};
    for (const { standard, feature } of this.mapped) {
      try {
        values[standard.name] = await camera.nodes.getValue(feature);
      } catch {
        // A feature unreadable right now keeps no value rather than failing the listing.
      }
    }
    for (const extra of ['SensorWidth', 'SensorHeight'])
      if (camera.nodes.has(extra))
        values[extra] = await camera.nodes.getValue(extra).catch(() => 0);
    this.values = values;
  }

  private onFrame(f: GvspFrame): void {
    let image;
    try {
      image = unpackImage(
        f.pixelFormat,
        f.data,
        f.width,
        f.height,
        f.paddingX,
        this.options.debayer,
      );
    } catch (err) {
      this.logger.warn({ detector: this.name, err: errorMessage(err) }, 'cannot unpack a frame');
      return;
    }
    this.emitFrame({
      data: image.data,
      width: f.width,
      height: f.height,
      channels: image.channels,
      dtype: image.dtype,
      bitDepth: image.bitDepth,
      pixelFormat: image.pixelFormat,
      frameNumber: this.frameCounter++,
      // The device clock is not the host's: stamp the frame when its last packet arrived.
      timestamp: nowNs(),
      detector: this.name,
      metadata: {
        blockId: Number(f.blockId),
        deviceTimestamp: String(f.timestampTicks),
        resentPackets: f.resent,
        offsetX: f.offsetX,
        offsetY: f.offsetY,
      },
    });
  }
}

function toSpec(standard: StandardParameter, feature: string, info: FeatureInfo): ParameterSpec {
  const description =
    feature === standard.name ? standard.description : `${standard.description} (${feature})`;
  const readOnly = info.access === 'RO';
  switch (info.type) {
    case 'Integer':
      return {
        name: standard.name,
        type: 'integer',
        min: info.min,
        max: info.max,
        unit: info.unit,
        readOnly,
        description,
      };
    case 'Float':
      return {
        name: standard.name,
        type: 'number',
        min: info.min,
        max: info.max,
        unit: info.unit,
        readOnly,
        description,
      };
    case 'Boolean':
      return { name: standard.name, type: 'boolean', readOnly, description };
    case 'Enumeration': {
      const entries = info.entries ?? [];
      const values = standard.name === 'PixelFormat' ? entries.filter(canUnpack) : entries;
      return { name: standard.name, type: 'enum', values, readOnly, description };
    }
    default:
      return { name: standard.name, type: 'string', readOnly, description };
  }
}

function canUnpack(name: string): boolean {
  try {
    pixelFormatCode(name);
    return true;
  } catch {
    return false;
  }
}
