import sharp from 'sharp';
import {
  BadRequestError,
  ReconnectingDetector,
  errorMessage,
  nowNs,
  type DetectorInfo,
  type Logger,
  type ParameterSpec,
  type ParameterValue,
} from '../../index.js';
import { convertFrame, framePixelFormat, SUPPORTED_FORMATS, type Converted } from './convert.js';
import { V4l2Device, type ActiveFormat, type ControlInfo, type FormatInfo } from './device.js';
import { devicePath, type V4l2Options } from './options.js';

/** Formats tried, in order, when none is configured: cheap to convert first. */
const PREFERRED = ['YUYV', 'MJPG', 'Y16 ', 'GREY', 'NV12', 'UYVY', 'RGB3', 'BGR3', 'Y12 ', 'Y10 '];
/** ms to wait for a frame before checking again whether acquisition should go on. */
const POLL_MS = 500;

/** What a probe of the device found (enumeration happens once; a camera's modes do not change). */
interface Probe {
  card: string;
  driver: string;
  busInfo: string;
  formats: FormatInfo[];
  controls: ControlInfo[];
  values: Record<string, number>;
}

/**
 * A Linux video device (USB/UVC webcam, Raspberry Pi camera, capture card) through V4L2: format
 * negotiation, mmap streaming, controls as parameters, and reopening after an unplug.
 */
export class V4l2Detector extends ReconnectingDetector {
  private device: V4l2Device | undefined;
  private probe: Probe | undefined;
  private probeError: string | undefined;
  private active: (ActiveFormat & { fps: number }) | undefined;
  private readonly path: string;
  /** Driver timestamps are CLOCK_MONOTONIC; this turns them into wall-clock ns. */
  private readonly monotonicToEpoch = nowNs() - process.hrtime.bigint();

  constructor(
    name: string,
    private readonly options: V4l2Options,
    logger: Logger,
  ) {
    super(name, 'v4l2', logger, options.reconnect_ms);
    this.path = devicePath(options.device);
    try {
      this.probeDevice();
    } catch (err) {
      // The server starts anyway; start() will say what is wrong.
      this.probeError = errorMessage(err);
    }
  }

  get info(): DetectorInfo {
    const p = this.probe;
    return {
      vendor: p?.driver ?? 'v4l2',
      model: p?.card ?? this.path,
      serial: p?.busInfo ?? '',
      sensorWidth: this.active?.width ?? p?.formats[0]?.sizes.at(-1)?.width ?? 0,
      sensorHeight: this.active?.height ?? p?.formats[0]?.sizes.at(-1)?.height ?? 0,
      dtypes: ['uint8', 'uint16'],
      device: this.path,
      ...(this.probeError ? { probeError: this.probeError } : {}),
      format: this.active,
      formats: p?.formats ?? [],
      controls:
        p?.controls.map((c) => ({
          name: c.key,
          label: c.name,
          type: c.type,
          min: c.min,
          max: c.max,
          default: c.default,
          menu: c.menu.map((m) => m.name),
        })) ?? [],
    };
  }

  protected async closeDevice(): Promise<void> {
    this.device?.close();
    this.device = undefined;
  }

  getParameterSpecs(): ParameterSpec[] {
    const specs: ParameterSpec[] = [];
    for (const c of this.probe?.controls ?? []) {
      const description = c.inactive ? `${c.name} (inactive now)` : c.name;
      if (c.type === 'integer')
        specs.push({
          name: c.key,
          type: 'integer',
          min: c.min,
          max: c.max,
          readOnly: c.readOnly,
          description,
        });
      else if (c.type === 'boolean')
        specs.push({ name: c.key, type: 'boolean', readOnly: c.readOnly, description });
      else if (c.type === 'menu')
        specs.push({
          name: c.key,
          type: 'enum',
          values: c.menu.map((m) => m.name),
          readOnly: c.readOnly,
          description,
        });
      else if (c.type === 'button')
        specs.push({
          name: c.key,
          type: 'boolean',
          description: `${c.name} (button: set true to press)`,
        });
    }
    specs.push(
      { name: 'pixel_format', type: 'string', readOnly: true, description: 'pixel format in use' },
      { name: 'width', type: 'integer', readOnly: true, unit: 'px', description: 'width in use' },
      { name: 'height', type: 'integer', readOnly: true, unit: 'px', description: 'height in use' },
      {
        name: 'fps',
        type: 'number',
        readOnly: true,
        unit: 'frames/s',
        description: 'frame rate in use',
      },
    );
    return specs;
  }

  getParameters(): Record<string, ParameterValue> {
    const values: Record<string, ParameterValue> = {};
    for (const c of this.probe?.controls ?? []) {
      const v = this.probe?.values[c.key];
      if (v === undefined) continue;
      if (c.type === 'boolean') values[c.key] = v !== 0;
      else if (c.type === 'menu')
        values[c.key] = c.menu.find((m) => m.index === v)?.name ?? String(v);
      else if (c.type === 'integer') values[c.key] = v;
    }
    values.pixel_format = this.active?.fourcc.trim() ?? '';
    values.width = this.active?.width ?? 0;
    values.height = this.active?.height ?? 0;
    values.fps = this.active?.fps ?? 0;
    return values;
  }

  protected async applyParameters(values: Record<string, ParameterValue>): Promise<void> {
    // An idle detector opens the device just to set the control, as v4l2-ctl does.
    const temporary = !this.device;
    const device = this.device ?? new V4l2Device(this.path);
    if (temporary) device.open();
    try {
      this.setControls(device, values, (msg) => new BadRequestError(msg));
    } finally {
      if (temporary) device.close();
    }
  }

  private setControls(
    device: V4l2Device,
    values: Record<string, unknown>,
    fail: (msg: string) => Error,
  ): void {
    const controls = this.probe?.controls ?? device.controls();
    for (const [key, value] of Object.entries(values)) {
      const c = controls.find((x) => x.key === key);
      if (!c)
        throw fail(
          `unknown control '${key}' on ${this.path} (known: ${controls.map((x) => x.key).join(', ')})`,
        );
      let raw: number;
      if (c.type === 'menu' && typeof value === 'string') {
        const item = c.menu.find((m) => m.name === value);
        if (!item)
          throw fail(
            `control '${key}' has no item '${value}' (items: ${c.menu.map((m) => m.name).join(', ')})`,
          );
        raw = item.index;
      } else if (typeof value === 'boolean') raw = value ? 1 : 0;
      else if (typeof value === 'number') raw = value;
      else throw fail(`control '${key}' needs a number, true/false or a menu item name`);
      try {
        device.setControl(c.id, raw);
      } catch (err) {
        throw fail(`the driver refused ${key} = ${String(value)}: ${errorMessage(err)}`);
      }
      if (this.probe && c.type !== 'button') this.probe.values[key] = device.getControl(c.id);
    }
  }

  private probeDevice(): void {
    const device = new V4l2Device(this.path);
    const caps = device.open();
    try {
      const controls = device.controls();
      const values: Record<string, number> = {};
      for (const c of controls) {
        if (c.type === 'integer' || c.type === 'boolean' || c.type === 'menu') {
          try {
            values[c.key] = device.getControl(c.id);
          } catch {
            // Write-only or inactive controls have no value to show.
          }
        }
      }
      this.probe = {
        card: caps.card,
        driver: caps.driver,
        busInfo: caps.busInfo,
        formats: device.enumerate(),
        controls,
        values,
      };
      this.probeError = undefined;
    } finally {
      device.close();
    }
  }

  private chooseFormat(): string {
    const offered = (this.probe?.formats ?? []).map((f) => f.fourcc);
    if (this.options.pixel_format) {
      const wanted = SUPPORTED_FORMATS.find((f) => f.trim() === this.options.pixel_format)!;
      if (offered.length > 0 && !offered.includes(wanted)) {
        throw new Error(
          `${this.path} does not offer ${this.options.pixel_format} (it offers: ${offered.map((f) => f.trim()).join(', ')})`,
        );
      }
      return wanted;
    }
    const found = PREFERRED.find((f) => offered.includes(f));
    if (!found) {
      throw new Error(
        `${this.path} offers no format liveview converts (it offers: ${offered.map((f) => f.trim()).join(', ')})`,
      );
    }
    return found;
  }

  protected async openDevice(): Promise<void> {
    if (!this.probe) this.probeDevice();
    const device = new V4l2Device(this.path);
    device.open();
    try {
      const format = this.chooseFormat();
      const active = device.setFormat(format, this.options.width, this.options.height);
      if (active.fourcc !== format) {
        throw new Error(
          `${this.path} would not deliver ${format.trim()} (it set ${active.fourcc.trim()})`,
        );
      }
      const fps = device.setFrameRate(this.options.fps);
      this.active = { ...active, fps };
      if (Object.keys(this.options.controls).length > 0) {
        this.setControls(
          device,
          this.options.controls,
          (msg) => new Error(`detector '${this.name}': ${msg}`),
        );
      }
      device.startStreaming(this.options.buffers);
    } catch (err) {
      device.close();
      throw err;
    }
    this.device = device;
    this.logger.info(
      { detector: this.name, device: this.path, format: this.active },
      'v4l2 streaming',
    );
    void this.captureLoop(device);
  }

  private async captureLoop(device: V4l2Device): Promise<void> {
    let frameNumber = -1;
    while (this.acquiring && this.device === device) {
      let captured;
      try {
        captured = await device.next(POLL_MS);
      } catch (err) {
        if (this.device === device) {
          // The device vanished (unplugged): release it so the reconnect loop can reopen it.
          device.close();
          this.device = undefined;
          this.deviceLost(`${this.path} stopped delivering (${errorMessage(err)})`);
        }
        return;
      }
      if (!captured || this.device !== device) continue;
      try {
        const converted = await this.convert(captured.bytes);
        // The driver's sequence counts frames, including dropped ones, but a driver that falls
        // behind (vivid under load) may stamp two buffers alike: the frame number must still grow.
        frameNumber = Math.max(frameNumber + 1, captured.sequence);
        this.emitFrame({
          data: converted.data,
          width: this.active!.width,
          height: this.active!.height,
          channels: converted.channels,
          dtype: converted.dtype,
          bitDepth: converted.bitDepth,
          pixelFormat: framePixelFormat(this.active!.fourcc, converted),
          frameNumber,
          timestamp: captured.timestampNs + this.monotonicToEpoch,
          detector: this.name,
          metadata: {
            sequence: captured.sequence,
            v4l2Format: this.active!.fourcc.trim(),
            ...(this.active!.fourcc === 'MJPG' ? { jpeg: captured.bytes } : {}),
          },
        });
      } catch (err) {
        this.logger.warn({ detector: this.name, err: errorMessage(err) }, 'cannot convert a frame');
      }
    }
  }

  private async convert(bytes: Buffer): Promise<Converted> {
    const a = this.active!;
    if (a.fourcc === 'MJPG') {
      let image = sharp(bytes);
      if (this.options.color === 'gray') image = image.toColourspace('b-w');
      const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
      return {
        data: new Uint8Array(data.buffer, data.byteOffset, data.length),
        channels: info.channels === 1 ? 1 : 3,
        dtype: 'uint8',
        bitDepth: 8,
      };
    }
    return convertFrame(
      a.fourcc,
      bytes,
      { width: a.width, height: a.height, bytesPerLine: a.bytesPerLine },
      this.options.color,
    );
  }
}
