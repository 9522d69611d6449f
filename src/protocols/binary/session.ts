import type { WebSocket } from 'ws';
import { BaseSession, type EncodedUnit } from '../../index.js';
import type { BinaryUnit } from './worker.js';

/**
 * Bytes queued in a socket beyond which nothing more is written to it, credit or not: the one
 * bound on every path that writes (frames, released pending frames, control messages).
 */
export const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/** Close code for a client that lets its socket fill up with control messages (RFC 6455). */
const CLOSE_POLICY_VIOLATION = 1008;

/** WebSocket close code of a normal end (RFC 6455). */
const CLOSE_NORMAL = 1000;

/**
 * One binary client with credit-based flow control: at most `maxInFlight` packets wait for the
 * client's acknowledgement; beyond that only the newest frame is kept for it, and sent when an
 * acknowledgement frees a credit. A client that never acknowledges costs one pending reference.
 */
export class BinarySession extends BaseSession<BinaryUnit> {
  private readonly inFlight: number[] = [];
  private pending: EncodedUnit<BinaryUnit> | undefined;
  private announced = '';
  private closeCode = CLOSE_NORMAL;

  constructor(
    private readonly socket: WebSocket,
    remote: string,
    private maxInFlight: number,
    onClosed: (session: BaseSession<BinaryUnit>) => void,
  ) {
    super('binary', remote, onClosed);
    socket.on('close', () => this.close());
  }

  /** Frames sent and not yet acknowledged. */
  get unacknowledged(): number {
    return this.inFlight.length;
  }

  /** Changes the credit (a params update); a larger one may release the pending frame. */
  setMaxInFlight(maxInFlight: number): void {
    this.maxInFlight = maxInFlight;
    this.flush();
  }

  protected deliver(unit: EncodedUnit<BinaryUnit>): void {
    if (this.inFlight.length >= this.maxInFlight || this.socketFull) {
      if (this.pending) this.framesSkipped++;
      this.pending = unit;
      return;
    }
    this.transmit(unit);
  }

  /** The client acknowledged a frame (default: the oldest): it and every earlier one are no longer in flight. */
  acknowledge(frameNumber?: number): void {
    let i = 0;
    if (frameNumber !== undefined) {
      while (i < this.inFlight.length && this.inFlight[i] <= frameNumber) i++;
    }
    // An ack for a frame never sent still frees the oldest credit, so a client that counts
    // instead of echoing frame numbers is not stuck.
    this.inFlight.splice(0, Math.max(i, 1));
    this.flush();
  }

  /** Sends a JSON control message; a client that stopped reading its socket is closed instead. */
  sendJson(message: Record<string, unknown>): void {
    if (this.closed) return;
    if (this.socketFull) {
      // Answers to a client's own requests must not pile up unread either.
      this.close('the client does not read its socket', CLOSE_POLICY_VIOLATION);
      return;
    }
    this.socket.send(JSON.stringify(message));
  }

  /** True while the socket holds more unsent bytes than the bound. */
  private get socketFull(): boolean {
    return this.socket.bufferedAmount > MAX_BUFFERED_BYTES;
  }

  /** Ends the session with a WebSocket close code (default 1000) and a reason the client sees. */
  override close(reason = 'stream stopped', code = CLOSE_NORMAL): void {
    if (!this.closed) this.closeCode = code;
    super.close(reason);
  }

  protected release(reason: string): void {
    this.pending = undefined;
    if (this.socket.readyState === this.socket.OPEN)
      this.socket.close(this.closeCode, reason.slice(0, 120));
  }

  private flush(): void {
    // An acknowledgement frees a credit, not the socket: a client that acks without reading
    // must not make the server queue without bound.
    if (this.pending && this.inFlight.length < this.maxInFlight && !this.socketFull) {
      const unit = this.pending;
      this.pending = undefined;
      this.transmit(unit);
    }
  }

  private transmit(unit: EncodedUnit<BinaryUnit>): void {
    if (this.closed) return;
    const { compression, level } = unit.data;
    const key = `${compression}/${level}`;
    if (key !== this.announced) {
      // Announced before the first packet and whenever it changes, so a decoder is never guessing.
      this.announced = key;
      this.sendJson({ type: 'compression', algorithm: compression, level });
    }
    this.inFlight.push(unit.frameNumber);
    this.socket.send(unit.data.packet, { binary: true });
    this.bytesSent += unit.data.packet.length;
    this.framesSent++;
  }
}
