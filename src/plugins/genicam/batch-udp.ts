/**
 * A UDP socket read with recvmmsg(2) through koffi (Linux): up to 64 datagrams per call, into
 * one preallocated block of memory. Node's dgram costs a syscall, two allocations and a callback
 * per datagram (about 4.4 µs each here); this costs about 1 µs, which at GigE Vision packet rates
 * is the difference between keeping up and losing packets.
 */
import { createRequire } from 'node:module';

/** Datagrams per recvmmsg call. */
const BATCH = 64;
/** Bytes per datagram slot: the largest UDP payload, so no packet size is ever cut. */
const SLOT_BYTES = 65536;
/** struct mmsghdr and struct iovec on LP64 Linux (x86-64, arm64). */
const MMSGHDR_BYTES = 64;
const IOVEC_BYTES = 16;
/** Datagrams read before the event loop gets a turn. */
const BUDGET = 1024;
/**
 * Wait between reads while datagrams keep coming, so each read finds a batch: waking for every
 * datagram costs more CPU than the stream itself.
 */
const BATCH_WAIT_MS = 1;
/** Longest blocking wait for a datagram (SO_RCVTIMEO, µs; bounds how long close() waits). */
const IDLE_WAIT_US = 50_000;

const AF_INET = 2;
const SOCK_DGRAM = 2;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVTIMEO = 20;
const SO_RCVBUFFORCE = 33;
/** recvmmsg flag: this call does not block. */
const MSG_DONTWAIT = 0x40;
/** recvmmsg flag: block for the first datagram only, then take what is there. */
const MSG_WAITFORONE = 0x10000;
const EAGAIN = 11;
const EINTR = 4;

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  13: 'EACCES',
  22: 'EINVAL',
  24: 'EMFILE',
  98: 'EADDRINUSE',
  99: 'EADDRNOTAVAIL',
};

interface SocketCalls {
  koffi: typeof import('koffi');
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, address: Buffer, length: number): number;
  getsockname(fd: number, address: Buffer, length: number[]): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, length: number): number;
  getsockopt(fd: number, level: number, name: number, value: Buffer, length: number[]): number;
  recvmmsg(fd: number, vector: unknown, count: number, flags: number, timeout: null): number;
  /** recvmmsg on one of koffi's threads: blocking there leaves the event loop free. */
  recvmmsgAsync(
    fd: number,
    vector: unknown,
    count: number,
    flags: number,
    done: (n: number) => void,
  ): void;
  close(fd: number): number;
}

let calls: SocketCalls | null | undefined;

/** The C library's socket calls, or null where they cannot be had (not Linux, no koffi). */
function socketCalls(): SocketCalls | null {
  if (calls !== undefined) return calls;
  calls = null;
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) return null;
  try {
    // koffi is CommonJS; loading it lazily keeps liveview usable where it has no binary.
    const koffi = createRequire(import.meta.url)('koffi') as typeof import('koffi');
    const lib = koffi.load('libc.so.6');
    const recvmmsg = lib.func(
      'int recvmmsg(int fd, void *vector, unsigned int count, int flags, void *timeout)',
    );
    calls = {
      koffi,
      socket: lib.func('int socket(int domain, int type, int protocol)'),
      bind: lib.func('int bind(int fd, void *address, uint32_t length)'),
      getsockname: lib.func('int getsockname(int fd, void *address, _Inout_ uint32_t *length)'),
      setsockopt: lib.func(
        'int setsockopt(int fd, int level, int name, void *value, uint32_t length)',
      ),
      getsockopt: lib.func(
        'int getsockopt(int fd, int level, int name, void *value, _Inout_ uint32_t *length)',
      ),
      recvmmsg,
      recvmmsgAsync: (fd, vector, count, flags, done) =>
        recvmmsg.async(fd, vector, count, flags, null, (err: unknown, n: number) =>
          done(err ? -1 : n),
        ),
      close: lib.func('int close(int fd)'),
    };
  } catch {
    calls = null;
  }
  return calls;
}

function failure(what: string, errno: number): Error {
  return new Error(`${what} failed (${ERRNO_NAMES[errno] ?? `errno ${errno}`})`);
}

function ipv4Bytes(host: string): number {
  const parts = host.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255))
    throw new Error(`not an IPv4 address: '${host}'`);
  return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

/** An IPv4 UDP socket that hands each datagram to `onPacket` as a view valid during the call. */
export class BatchUdpSocket {
  private stopped = false;
  private waiting: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private readonly memory: unknown;
  private readonly view: ArrayBuffer;
  private readonly lengths: DataView;

  private constructor(
    private readonly c: SocketCalls,
    private readonly fd: number,
    /** Local port. */
    readonly port: number,
    /** Receive buffer the kernel granted (bytes, as asked: Linux reports twice that). */
    readonly receiveBufferBytes: number,
  ) {
    const total = BATCH * (MMSGHDR_BYTES + IOVEC_BYTES + SLOT_BYTES);
    this.memory = c.koffi.alloc('uint8_t', total);
    const base = c.koffi.address(this.memory);
    this.view = c.koffi.view(this.memory, total);
    const dv = new DataView(this.view);
    const iovecs = BATCH * MMSGHDR_BYTES;
    const slots = iovecs + BATCH * IOVEC_BYTES;
    for (let i = 0; i < BATCH; i++) {
      const header = i * MMSGHDR_BYTES;
      const iovec = iovecs + i * IOVEC_BYTES;
      // msghdr: no name, one iovec, no control data.
      dv.setBigUint64(header + 16, base + BigInt(iovec), true);
      dv.setBigUint64(header + 24, 1n, true);
      dv.setBigUint64(iovec, base + BigInt(slots + i * SLOT_BYTES), true);
      dv.setBigUint64(iovec + 8, BigInt(SLOT_BYTES), true);
    }
    this.lengths = dv;
  }

  /** Opens and binds a socket; null where recvmmsg cannot be used (the caller falls back). */
  static open(host: string, port: number, receiveBufferBytes: number): BatchUdpSocket | null {
    const c = socketCalls();
    if (!c) return null;
    const address = Buffer.alloc(16);
    address.writeUInt16LE(AF_INET, 0);
    address.writeUInt16BE(port, 2);
    address.writeUInt32BE(ipv4Bytes(host), 4);
    // Blocking with a timeout: waits happen on koffi's threads, reads here pass MSG_DONTWAIT.
    const fd = c.socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) throw failure('socket()', c.koffi.errno());
    try {
      const timeout = Buffer.alloc(16); // struct timeval
      timeout.writeBigInt64LE(BigInt(IDLE_WAIT_US), 8);
      c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, 16);
      if (c.bind(fd, address, 16) !== 0) throw failure(`bind(${host}:${port})`, c.koffi.errno());
      const length = [16];
      c.getsockname(fd, address, length);
      const size = Buffer.alloc(4);
      size.writeInt32LE(Math.min(receiveBufferBytes, 0x3fffffff));
      // The forced size needs CAP_NET_ADMIN; without it the kernel caps at net.core.rmem_max.
      if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, size, 4) !== 0)
        c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, 4);
      const granted = Buffer.alloc(4);
      c.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, granted, [4]);
      return new BatchUdpSocket(c, fd, address.readUInt16BE(2), granted.readInt32LE() / 2);
    } catch (err) {
      c.close(fd);
      throw err;
    }
  }

  /** Starts reading; `onPacket` gets a view of each datagram, reused after it returns. */
  start(onPacket: (packet: Uint8Array) => void): void {
    const slots = BATCH * (MMSGHDR_BYTES + IOVEC_BYTES);
    const deliver = (n: number): void => {
      for (let i = 0; i < n && !this.stopped; i++) {
        const length = this.lengths.getUint32(i * MMSGHDR_BYTES + 56, true);
        onPacket(new Uint8Array(this.view, slots + i * SLOT_BYTES, Math.min(length, SLOT_BYTES)));
      }
    };
    // Idle: one blocking call on another thread, woken by the first datagram.
    const wait = (): void => {
      this.waiting = new Promise((resolve) =>
        this.c.recvmmsgAsync(this.fd, this.memory, BATCH, MSG_WAITFORONE, (n) => {
          this.waiting = undefined;
          resolve();
          if (this.stopped) return;
          deliver(n);
          if (n > 0) this.timer = setTimeout(drain, BATCH_WAIT_MS);
          else wait();
        }),
      );
    };
    // Streaming: read what gathered, without blocking, every millisecond until nothing comes.
    const drain = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      for (let total = 0; total < BUDGET;) {
        if (this.stopped) return;
        const n = this.c.recvmmsg(this.fd, this.memory, BATCH, MSG_DONTWAIT, null);
        if (n < 0) {
          const errno = this.c.koffi.errno();
          if (errno !== EAGAIN && errno !== EINTR) return;
        }
        if (n > 0) deliver(n);
        if (this.stopped) return;
        total += Math.max(n, 0);
        if (n < BATCH) {
          if (total > 0) this.timer = setTimeout(drain, BATCH_WAIT_MS);
          else wait();
          return;
        }
      }
      this.immediate = setImmediate(drain);
    };
    wait();
  }

  /** Stops reading and closes the socket once no blocking call is pending on it; idempotent. */
  async close(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    await this.waiting;
    this.c.close(this.fd);
    this.c.koffi.free(this.memory);
  }
}
