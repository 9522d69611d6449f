import {
  BUF_TYPE_VIDEO_CAPTURE,
  CAP_DEVICE_CAPS,
  CAP_STREAMING,
  CAP_TIMEPERFRAME,
  CAP_VIDEO_CAPTURE,
  CTRL_FLAG,
  CTRL_FLAG_NEXT_CTRL,
  CTRL_TYPE,
  FIELD_NONE,
  FRMIVAL_DISCRETE,
  FRMSIZE_DISCRETE,
  MEMORY_MMAP,
  SIZE,
  VIDIOC,
  cString,
  controlKey,
  fourcc,
  fourccName,
} from './abi.js';
import { O_NONBLOCK, O_RDWR, libc, sysError, type Libc } from './libc.js';

/** What VIDIOC_QUERYCAP says. */
export interface Capabilities {
  driver: string;
  card: string;
  busInfo: string;
  capabilities: number;
}

/** A frame size with its frame intervals (frames per second). */
export interface FrameSize {
  width: number;
  height: number;
  fps: number[];
}

/** A pixel format and its sizes. */
export interface FormatInfo {
  fourcc: string;
  description: string;
  sizes: FrameSize[];
}

/** A control, as VIDIOC_QUERYCTRL and VIDIOC_QUERYMENU describe it. */
export interface ControlInfo {
  id: number;
  key: string;
  name: string;
  type: 'integer' | 'boolean' | 'menu' | 'button' | 'integer64' | 'string' | 'bitmask';
  min: number;
  max: number;
  step: number;
  default: number;
  readOnly: boolean;
  inactive: boolean;
  menu: { index: number; name: string }[];
}

/** The format the driver set (it may adjust what was asked). */
export interface ActiveFormat {
  width: number;
  height: number;
  fourcc: string;
  bytesPerLine: number;
  sizeImage: number;
}

/** A dequeued frame: a copy of the bytes and the driver's sequence number and timestamp. */
export interface CapturedBuffer {
  bytes: Buffer;
  sequence: number;
  /** Driver timestamp in ns (CLOCK_MONOTONIC on most drivers). */
  timestampNs: bigint;
}

const TYPE_NAMES: Record<number, ControlInfo['type']> = {
  [CTRL_TYPE.INTEGER]: 'integer',
  [CTRL_TYPE.BOOLEAN]: 'boolean',
  [CTRL_TYPE.MENU]: 'menu',
  [CTRL_TYPE.INTEGER_MENU]: 'menu',
  [CTRL_TYPE.BUTTON]: 'button',
  [CTRL_TYPE.INTEGER64]: 'integer64',
  [CTRL_TYPE.STRING]: 'string',
  [CTRL_TYPE.BITMASK]: 'bitmask',
};

/** One open V4L2 capture device: enumeration, format, controls, mmap streaming. */
export class V4l2Device {
  private readonly c: Libc;
  private fd = -1;
  private buffers: { address: unknown; length: number }[] = [];
  private streaming = false;

  constructor(readonly path: string) {
    this.c = libc();
  }

  /** Opens the device; throws a clear error for missing, busy or non-capture devices. */
  open(): Capabilities {
    const fd = this.c.open(this.path, O_RDWR | O_NONBLOCK);
    if (fd < 0) {
      const errno = this.c.errno();
      if (errno === 2)
        throw sysError(
          `no device ${this.path} (is the camera plugged in?): open`,
          this.path,
          errno,
        );
      throw sysError('open', this.path, errno);
    }
    this.fd = fd;
    let caps: Capabilities;
    try {
      caps = this.queryCap();
    } catch (err) {
      this.close();
      throw err;
    }
    const effective = caps.capabilities;
    if (!(effective & CAP_VIDEO_CAPTURE) || !(effective & CAP_STREAMING)) {
      this.close();
      throw new Error(
        `${this.path} (${caps.card}) is not a video capture device with streaming I/O`,
      );
    }
    return caps;
  }

  /** True while open. */
  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Stops streaming, unmaps and closes; idempotent. */
  close(): void {
    if (this.fd < 0) return;
    try {
      this.stopStreaming();
    } catch {
      // A vanished device cannot stop; closing still releases it.
    }
    this.c.close(this.fd);
    this.fd = -1;
  }

  queryCap(): Capabilities {
    const b = Buffer.alloc(SIZE.capability);
    this.call('VIDIOC_QUERYCAP', VIDIOC.QUERYCAP, b);
    const all = b.readUInt32LE(84);
    return {
      driver: cString(b, 0, 16),
      card: cString(b, 16, 32),
      busInfo: cString(b, 48, 32),
      capabilities: all & CAP_DEVICE_CAPS ? b.readUInt32LE(88) : all,
    };
  }

  /** Every pixel format with its discrete sizes and frame rates. */
  enumerate(): FormatInfo[] {
    const formats: FormatInfo[] = [];
    for (let i = 0; ; i++) {
      const b = Buffer.alloc(SIZE.fmtdesc);
      b.writeUInt32LE(i, 0);
      b.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 4);
      if (!this.tryCall(VIDIOC.ENUM_FMT, b)) break;
      const code = b.readUInt32LE(44);
      formats.push({
        fourcc: fourccName(code),
        description: cString(b, 12, 32),
        sizes: this.sizes(code),
      });
    }
    return formats;
  }

  private sizes(code: number): FrameSize[] {
    const sizes: FrameSize[] = [];
    for (let i = 0; i < 256; i++) {
      const b = Buffer.alloc(SIZE.frmsizeenum);
      b.writeUInt32LE(i, 0);
      b.writeUInt32LE(code, 4);
      if (!this.tryCall(VIDIOC.ENUM_FRAMESIZES, b)) break;
      if (b.readUInt32LE(8) !== FRMSIZE_DISCRETE) {
        // Stepwise/continuous: report the largest size.
        sizes.push({ width: b.readUInt32LE(16), height: b.readUInt32LE(28), fps: [] });
        break;
      }
      const width = b.readUInt32LE(12);
      const height = b.readUInt32LE(16);
      sizes.push({ width, height, fps: this.rates(code, width, height) });
    }
    return sizes;
  }

  private rates(code: number, width: number, height: number): number[] {
    const fps: number[] = [];
    for (let i = 0; i < 64; i++) {
      const b = Buffer.alloc(SIZE.frmivalenum);
      b.writeUInt32LE(i, 0);
      b.writeUInt32LE(code, 4);
      b.writeUInt32LE(width, 8);
      b.writeUInt32LE(height, 12);
      if (!this.tryCall(VIDIOC.ENUM_FRAMEINTERVALS, b)) break;
      if (b.readUInt32LE(16) !== FRMIVAL_DISCRETE) break;
      const num = b.readUInt32LE(20);
      const den = b.readUInt32LE(24);
      if (num > 0) fps.push(Math.round((den / num) * 1000) / 1000);
    }
    return fps;
  }

  /** Asks for a format; returns what the driver actually set. */
  setFormat(code: string, width: number, height: number): ActiveFormat {
    const b = Buffer.alloc(SIZE.format);
    b.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 0);
    this.call('VIDIOC_G_FMT', VIDIOC.G_FMT, b);
    if (width > 0) b.writeUInt32LE(width, 8);
    if (height > 0) b.writeUInt32LE(height, 12);
    if (code) b.writeUInt32LE(fourcc(code), 16);
    b.writeUInt32LE(FIELD_NONE, 20);
    this.call('VIDIOC_S_FMT', VIDIOC.S_FMT, b);
    return {
      width: b.readUInt32LE(8),
      height: b.readUInt32LE(12),
      fourcc: fourccName(b.readUInt32LE(16)),
      bytesPerLine: b.readUInt32LE(24),
      sizeImage: b.readUInt32LE(28),
    };
  }

  /** Sets the frame rate if the driver allows it; returns the rate in effect (0 if unknown). */
  setFrameRate(fps: number): number {
    const b = Buffer.alloc(SIZE.streamparm);
    b.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 0);
    if (!this.tryCall(VIDIOC.G_PARM, b)) return 0;
    if (fps > 0 && b.readUInt32LE(4) & CAP_TIMEPERFRAME) {
      // Time per frame as a fraction: 1000/(fps*1000) keeps fractional rates such as 12.5.
      b.writeUInt32LE(1000, 12);
      b.writeUInt32LE(Math.round(fps * 1000), 16);
      this.call('VIDIOC_S_PARM', VIDIOC.S_PARM, b);
    }
    const num = b.readUInt32LE(12);
    const den = b.readUInt32LE(16);
    return num > 0 ? Math.round((den / num) * 1000) / 1000 : 0;
  }

  /** Every control with its range and menu. */
  controls(): ControlInfo[] {
    const out: ControlInfo[] = [];
    let id = CTRL_FLAG_NEXT_CTRL;
    for (let guard = 0; guard < 1024; guard++) {
      const b = Buffer.alloc(SIZE.queryctrl);
      b.writeUInt32LE(id >>> 0, 0);
      if (!this.tryCall(VIDIOC.QUERYCTRL, b)) break;
      const ctrlId = b.readUInt32LE(0);
      id = (ctrlId | CTRL_FLAG_NEXT_CTRL) >>> 0;
      const typeCode = b.readUInt32LE(4);
      const flags = b.readUInt32LE(56);
      const type = TYPE_NAMES[typeCode];
      if (!type || flags & CTRL_FLAG.DISABLED) continue;
      const name = cString(b, 8, 32);
      const info: ControlInfo = {
        id: ctrlId,
        key: controlKey(name),
        name,
        type,
        min: b.readInt32LE(40),
        max: b.readInt32LE(44),
        step: b.readInt32LE(48),
        default: b.readInt32LE(52),
        readOnly: (flags & CTRL_FLAG.READ_ONLY) !== 0,
        inactive: (flags & CTRL_FLAG.INACTIVE) !== 0,
        menu: [],
      };
      if (type === 'menu')
        info.menu = this.menu(ctrlId, info.min, info.max, typeCode === CTRL_TYPE.INTEGER_MENU);
      out.push(info);
    }
    return out;
  }

  private menu(id: number, min: number, max: number, integers: boolean): ControlInfo['menu'] {
    const items: ControlInfo['menu'] = [];
    for (let i = min; i <= max; i++) {
      const b = Buffer.alloc(SIZE.querymenu);
      b.writeUInt32LE(id, 0);
      b.writeUInt32LE(i, 4);
      if (!this.tryCall(VIDIOC.QUERYMENU, b)) continue;
      items.push({ index: i, name: integers ? String(b.readBigInt64LE(8)) : cString(b, 8, 32) });
    }
    return items;
  }

  /** Reads a control's value. */
  getControl(id: number): number {
    const b = Buffer.alloc(SIZE.control);
    b.writeUInt32LE(id, 0);
    this.call('VIDIOC_G_CTRL', VIDIOC.G_CTRL, b);
    return b.readInt32LE(4);
  }

  /** Sets a control; throws with the driver's error. */
  setControl(id: number, value: number): void {
    const b = Buffer.alloc(SIZE.control);
    b.writeUInt32LE(id, 0);
    b.writeInt32LE(value, 4);
    this.call('VIDIOC_S_CTRL', VIDIOC.S_CTRL, b);
  }

  /** Maps `count` driver buffers, queues them and starts streaming. */
  startStreaming(count: number): void {
    const req = Buffer.alloc(SIZE.requestbuffers);
    req.writeUInt32LE(count, 0);
    req.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 4);
    req.writeUInt32LE(MEMORY_MMAP, 8);
    this.call('VIDIOC_REQBUFS', VIDIOC.REQBUFS, req);
    const granted = req.readUInt32LE(0);
    if (granted < 2)
      throw new Error(`${this.path} granted ${granted} buffer(s); at least 2 are needed`);
    for (let i = 0; i < granted; i++) {
      const b = this.bufferStruct(i);
      this.call('VIDIOC_QUERYBUF', VIDIOC.QUERYBUF, b);
      const length = b.readUInt32LE(72);
      const offset = b.readUInt32LE(64);
      const address = this.c.mmap(length, this.fd, offset);
      if (this.c.mapFailed(address)) {
        throw sysError('mmap', this.path, this.c.errno());
      }
      this.buffers.push({ address, length });
      this.call('VIDIOC_QBUF', VIDIOC.QBUF, b);
    }
    const type = Buffer.alloc(4);
    type.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 0);
    this.call('VIDIOC_STREAMON', VIDIOC.STREAMON, type);
    this.streaming = true;
  }

  /** Stops streaming and frees the buffers. */
  stopStreaming(): void {
    if (this.streaming) {
      this.streaming = false;
      const type = Buffer.alloc(4);
      type.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 0);
      this.tryCall(VIDIOC.STREAMOFF, type);
    }
    for (const { address, length } of this.buffers) this.c.munmap(address, length);
    this.buffers = [];
    if (this.fd >= 0) {
      const req = Buffer.alloc(SIZE.requestbuffers);
      req.writeUInt32LE(0, 0);
      req.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 4);
      req.writeUInt32LE(MEMORY_MMAP, 8);
      this.tryCall(VIDIOC.REQBUFS, req);
    }
  }

  /** Waits up to `timeoutMs` for a frame; undefined on timeout. Throws if the device is gone. */
  async next(timeoutMs: number): Promise<CapturedBuffer | undefined> {
    const fd = this.fd;
    if (fd < 0) throw new Error(`${this.path} is closed`);
    const { result } = await this.c.pollReadable(fd, timeoutMs);
    if (result < 0) throw sysError('poll', this.path, this.c.errno());
    if (this.fd !== fd) return undefined;
    const b = this.bufferStruct(0);
    if (this.c.ioctl(fd, VIDIOC.DQBUF, b) < 0) {
      const errno = this.c.errno();
      if (errno === 11) return undefined; // EAGAIN: nothing yet
      throw sysError('VIDIOC_DQBUF', this.path, errno);
    }
    const index = b.readUInt32LE(0);
    const used = b.readUInt32LE(8);
    const sequence = b.readUInt32LE(56);
    const timestampNs = b.readBigInt64LE(24) * 1_000_000_000n + b.readBigInt64LE(32) * 1000n;
    const { address, length } = this.buffers[index];
    const bytes = this.c.copy(address, Math.min(used || length, length));
    this.call('VIDIOC_QBUF', VIDIOC.QBUF, b);
    return { bytes, sequence, timestampNs };
  }

  private bufferStruct(index: number): Buffer {
    const b = Buffer.alloc(SIZE.buffer);
    b.writeUInt32LE(index, 0);
    b.writeUInt32LE(BUF_TYPE_VIDEO_CAPTURE, 4);
    b.writeUInt32LE(MEMORY_MMAP, 60);
    return b;
  }

  private call(name: string, request: number, arg: Buffer): void {
    if (this.c.ioctl(this.fd, request, arg) < 0) throw sysError(name, this.path, this.c.errno());
  }

  private tryCall(request: number, arg: Buffer): boolean {
    return this.c.ioctl(this.fd, request, arg) >= 0;
  }
}
