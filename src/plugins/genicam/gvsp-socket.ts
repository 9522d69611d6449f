/**
 * The stream socket: bound with recvmmsg where it can (about 1 µs a datagram against 4.4 µs with
 * Node's dgram), and with as large a receive buffer as the OS grants, since that buffer is all
 * that holds a stream while the thread is busy elsewhere.
 */

import dgram from 'node:dgram';
import os from 'node:os';
import { BatchUdpSocket } from './batch-udp.js';
import type { GvspReceiverOptions, GvspSink, GvspStats } from './gvsp-types.js';

/** The smallest buffer tried when the OS refuses larger ones. */
const MIN_RECEIVE_BUFFER = 256 * 1024;

const LINUX = os.platform() === 'linux';

/**
 * Binds the stream's UDP socket, sizes its receive buffer (reported in the counters, and as a
 * 'warning' when the OS grants less) and hands every datagram to `onPacket`.
 */
export class GvspSocket {
  private socket: dgram.Socket | BatchUdpSocket | undefined;
  private closed = false;

  constructor(
    private readonly options: GvspReceiverOptions,
    private readonly counters: GvspStats,
    private readonly sink: GvspSink,
    /** Takes one datagram; its memory may be reused once this returns. */
    private readonly onPacket: (msg: Uint8Array) => void,
  ) {}

  /** Local port the stream is received on (0 before `open()`). */
  get port(): number {
    const socket = this.socket;
    if (socket instanceof BatchUdpSocket) return socket.port;
    return socket?.address().port ?? 0;
  }

  /** Binds the socket and sizes its receive buffer; emits 'warning' when the OS grants less. */
  async open(): Promise<void> {
    if (this.socket) return;
    if (this.closed) throw new Error('GVSP receiver is closed');
    if (this.options.transport !== 'dgram') {
      const batch = BatchUdpSocket.open(
        this.options.host,
        this.options.port ?? 0,
        this.counters.receiveBufferRequested,
      );
      if (batch) {
        this.socket = batch;
        this.counters.transport = 'recvmmsg';
        this.checkReceiveBuffer(batch.receiveBufferBytes);
        batch.start(this.onPacket);
        return;
      }
    }
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind({ address: this.options.host, port: this.options.port ?? 0 }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    if (this.closed) {
      // close() ran while binding: nobody will close this socket later.
      socket.close();
      return;
    }
    this.socket = socket;
    this.counters.transport = 'dgram';
    socket.on('error', (err) => this.sink.error(err));
    socket.on('message', this.onPacket);
    this.sizeReceiveBuffer(socket);
  }

  /** Closes the socket (or the one still binding, once bound); `open()` throws afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    const socket = this.socket;
    this.socket = undefined;
    if (socket instanceof BatchUdpSocket) await socket.close();
    else if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  private sizeReceiveBuffer(socket: dgram.Socket): void {
    const asked = this.counters.receiveBufferRequested;
    // Linux caps silently at net.core.rmem_max; other systems refuse sizes above their limit.
    for (let size = asked; size >= MIN_RECEIVE_BUFFER; size = Math.floor(size / 2)) {
      try {
        socket.setRecvBufferSize(size);
        break;
      } catch {
        // try a smaller one
      }
    }
    const reported = socket.getRecvBufferSize();
    this.checkReceiveBuffer(LINUX ? Math.floor(reported / 2) : reported);
  }

  private checkReceiveBuffer(granted: number): void {
    const asked = this.counters.receiveBufferRequested;
    this.counters.receiveBufferBytes = granted;
    if (granted < asked)
      this.sink.warning(
        `GVSP receive buffer: asked ${asked} bytes, the OS granted ${granted}` +
          (LINUX ? ' (raise net.core.rmem_max)' : ''),
      );
  }
}
