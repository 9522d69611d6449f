/**
 * The parts of the Linux V4L2 ABI (linux/videodev2.h) liveview uses: ioctl numbers and the
 * byte offsets of the structs on 64-bit Linux (x86-64 and arm64 share them). Pure data.
 */

const IOC_WRITE = 1;
const IOC_READ = 2;

function ioc(dir: number, nr: number, size: number): number {
  // _IOC(dir, 'V', nr, size); >>> 0 keeps the top bit unsigned.
  return ((dir << 30) | (size << 16) | (0x56 << 8) | nr) >>> 0;
}

/** Struct sizes (bytes, 64-bit). */
export const SIZE = {
  capability: 104,
  fmtdesc: 64,
  format: 208,
  requestbuffers: 20,
  buffer: 88,
  streamparm: 204,
  control: 8,
  queryctrl: 68,
  querymenu: 44,
  frmsizeenum: 44,
  frmivalenum: 52,
} as const;

/** ioctl request numbers. */
export const VIDIOC = {
  QUERYCAP: ioc(IOC_READ, 0, SIZE.capability),
  ENUM_FMT: ioc(IOC_READ | IOC_WRITE, 2, SIZE.fmtdesc),
  G_FMT: ioc(IOC_READ | IOC_WRITE, 4, SIZE.format),
  S_FMT: ioc(IOC_READ | IOC_WRITE, 5, SIZE.format),
  REQBUFS: ioc(IOC_READ | IOC_WRITE, 8, SIZE.requestbuffers),
  QUERYBUF: ioc(IOC_READ | IOC_WRITE, 9, SIZE.buffer),
  QBUF: ioc(IOC_READ | IOC_WRITE, 15, SIZE.buffer),
  DQBUF: ioc(IOC_READ | IOC_WRITE, 17, SIZE.buffer),
  STREAMON: ioc(IOC_WRITE, 18, 4),
  STREAMOFF: ioc(IOC_WRITE, 19, 4),
  G_PARM: ioc(IOC_READ | IOC_WRITE, 21, SIZE.streamparm),
  S_PARM: ioc(IOC_READ | IOC_WRITE, 22, SIZE.streamparm),
  G_CTRL: ioc(IOC_READ | IOC_WRITE, 27, SIZE.control),
  S_CTRL: ioc(IOC_READ | IOC_WRITE, 28, SIZE.control),
  QUERYCTRL: ioc(IOC_READ | IOC_WRITE, 36, SIZE.queryctrl),
  QUERYMENU: ioc(IOC_READ | IOC_WRITE, 37, SIZE.querymenu),
  ENUM_FRAMESIZES: ioc(IOC_READ | IOC_WRITE, 74, SIZE.frmsizeenum),
  ENUM_FRAMEINTERVALS: ioc(IOC_READ | IOC_WRITE, 75, SIZE.frmivalenum),
} as const;

/** V4L2_BUF_TYPE_VIDEO_CAPTURE. */
export const BUF_TYPE_VIDEO_CAPTURE = 1;
/** V4L2_MEMORY_MMAP. */
export const MEMORY_MMAP = 1;
/** V4L2_CAP_VIDEO_CAPTURE. */
export const CAP_VIDEO_CAPTURE = 0x1;
/** V4L2_CAP_STREAMING. */
export const CAP_STREAMING = 0x04000000;
/** V4L2_CAP_DEVICE_CAPS: `device_caps` is valid. */
export const CAP_DEVICE_CAPS = 0x80000000;
/** V4L2_FIELD_NONE (progressive). */
export const FIELD_NONE = 1;
/** V4L2_FRMSIZE_TYPE_DISCRETE. */
export const FRMSIZE_DISCRETE = 1;
/** V4L2_FRMIVAL_TYPE_DISCRETE. */
export const FRMIVAL_DISCRETE = 1;
/** V4L2_CAP_TIMEPERFRAME in the capture parm's capability. */
export const CAP_TIMEPERFRAME = 0x1000;

/** V4L2_CTRL_FLAG_NEXT_CTRL: enumerate controls. */
export const CTRL_FLAG_NEXT_CTRL = 0x80000000;
/** Control flags. */
export const CTRL_FLAG = {
  DISABLED: 0x1,
  READ_ONLY: 0x4,
  INACTIVE: 0x10,
  WRITE_ONLY: 0x40,
} as const;
/** Control types. */
export const CTRL_TYPE = {
  INTEGER: 1,
  BOOLEAN: 2,
  MENU: 3,
  BUTTON: 4,
  INTEGER64: 5,
  CTRL_CLASS: 6,
  STRING: 7,
  BITMASK: 8,
  INTEGER_MENU: 9,
} as const;

/** A FourCC code from its four characters. */
export function fourcc(code: string): number {
  return (
    (code.charCodeAt(0) |
      (code.charCodeAt(1) << 8) |
      (code.charCodeAt(2) << 16) |
      (code.charCodeAt(3) << 24)) >>>
    0
  );
}

/** The four characters of a FourCC code (trailing spaces kept, as in 'Y16 '). */
export function fourccName(code: number): string {
  return String.fromCharCode(
    code & 0xff,
    (code >> 8) & 0xff,
    (code >> 16) & 0xff,
    (code >>> 24) & 0xff,
  );
}

/** Reads a NUL-terminated string from a struct field. */
export function cString(buf: Buffer, offset: number, length: number): string {
  const field = buf.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** The snake_case name v4l2-ctl uses for a control ("Exposure Time, Absolute" → exposure_time_absolute). */
export function controlKey(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}
