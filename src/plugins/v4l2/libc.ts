import { createRequire } from 'node:module';
import { errorMessage } from '../../index.js';

/** What liveview calls in the C library (through koffi: no compiler, prebuilt in npm). */
export interface Libc {
  open(path: string, flags: number): number;
  close(fd: number): number;
  ioctl(fd: number, request: number, arg: Buffer): number;
  mmap(length: number, fd: number, offset: number): unknown;
  munmap(address: unknown, length: number): number;
  /** Waits until the fd is readable (or timeout); resolves to poll()'s result and revents. */
  pollReadable(fd: number, timeoutMs: number): Promise<{ result: number; revents: number }>;
  /** True if mmap failed (MAP_FAILED). */
  mapFailed(address: unknown): boolean;
  /** Copies `length` bytes of mapped memory into a new Buffer. */
  copy(address: unknown, length: number): Buffer;
  errno(): number;
}

/** open() flags. */
export const O_RDWR = 2;
/** open() flag: non-blocking. */
export const O_NONBLOCK = 0o4000;
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
/** poll() event: data to read. */
export const POLLIN = 1;
/** poll() event: error. */
export const POLLERR = 8;
/** poll() event: hang-up. */
export const POLLHUP = 16;

/** errno names for messages. */
export const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  4: 'EINTR',
  5: 'EIO',
  11: 'EAGAIN',
  13: 'EACCES',
  16: 'EBUSY',
  19: 'ENODEV',
  22: 'EINVAL',
  25: 'ENOTTY',
};

let cached: Libc | undefined;

/** The C library, loaded on first use; throws on systems other than Linux. */
export function libc(): Libc {
  if (cached) return cached;
  if (process.platform !== 'linux') {
    throw new Error(`V4L2 needs Linux (this is ${process.platform})`);
  }
  // koffi is CommonJS; loading it only here keeps liveview usable where it has no binary.
  const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
  let lib;
  try {
    lib = koffi.load('libc.so.6');
  } catch (err) {
    throw new Error(`cannot load the C library for V4L2: ${errorMessage(err)}`, { cause: err });
  }
  const open = lib.func('int open(const char *path, int flags)');
  const close = lib.func('int close(int fd)');
  const ioctl = lib.func('int ioctl(int fd, unsigned long request, _Inout_ uint8_t *arg)');
  const mmap = lib.func(
    'void *mmap(void *addr, size_t length, int prot, int flags, int fd, long offset)',
  );
  const munmap = lib.func('int munmap(void *addr, size_t length)');
  const pollfd = koffi.struct('liveview_pollfd', { fd: 'int', events: 'short', revents: 'short' });
  const poll = lib.func('poll', 'int', [
    koffi.inout(koffi.pointer(pollfd)),
    'unsigned long',
    'int',
  ]);
  cached = {
    open: (path, flags) => open(path, flags) as number,
    close: (fd) => close(fd) as number,
    ioctl: (fd, request, arg) => ioctl(fd, request, arg) as number,
    mmap: (length, fd, offset) =>
      mmap(null, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, offset),
    munmap: (address, length) => munmap(address, length) as number,
    pollReadable: (fd, timeoutMs) =>
      new Promise((resolve, reject) => {
        const fds = { fd, events: POLLIN, revents: 0 };
        // Off the event loop: koffi runs async calls on its own threads.
        poll.async(fds, 1, timeoutMs, (err: unknown, result: number) => {
          if (err) reject(err as Error);
          else resolve({ result, revents: fds.revents });
        });
      }),
    mapFailed: (address) => !address || koffi.address(address) === 0xffffffffffffffffn,
    // A copy: the driver reuses the mapped buffer once it is queued again.
    copy: (address, length) => Buffer.from(new Uint8Array(koffi.view(address, length))),
    errno: () => koffi.errno(),
  };
  return cached;
}

/** An error for a failed call, naming the call, the device and errno. */
export function sysError(what: string, device: string, errno: number): Error & { errno: number } {
  const name = ERRNO[errno] ?? `errno ${errno}`;
  const err = new Error(`${what} on ${device} failed (${name})`) as Error & { errno: number };
  err.errno = errno;
  return err;
}
