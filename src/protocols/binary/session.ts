import type { WebSocket } from 'ws';
import type { EncodedUnit, StreamSession } from '../../index.js';
import type { BinaryUnit } from './worker.js';

/** Bytes queued in a socket beyond which a client is treated as busy even with credit left. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

let nextId = 1;

/**
 * One binary client with credit-based flow control: at most `maxInFlight` packets wait for the
 * client's acknowledgement; beyond that only the newest frame is kept for it, and sent when an
 * acknowledgement frees a credit. A client that never acknowledges costs one pending reference.
 */
export class BinarySession implements StreamSession<BinaryUnit> {
  readonly id = `binary-${nextId++}`;
  readonly remote: string;
  framesSent = 0;
  framesSkipped = 0;
  private readonly inFlight: number[] = [];
  private pending: EncodedUnit<BinaryUnit> | undefined;
  private announced = '';
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    remote: string,
    private maxInFlight: number,
    private readonly onClosed: (session: BinarySession) => void,
  ) {
    this.remote = remote;
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

  send(unit: EncodedUnit<BinaryUnit>): void {
    if (this.closed) return;
    if (
      this.inFlight.length >= this.maxInFlight ||
      this.socket.bufferedAmount > MAX_BUFFERED_BYTES
    ) {
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

  /** Sends a JSON control message. */
  sendJson(message: Record<string, unknown>): void {
    if (this.closed) return;
    this.socket.send(JSON.stringify(message));
  }

  close(reason = 'stream stopped', code = 1000): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = undefined;
    if (this.socket.readyState === this.socket.OPEN) this.socket.close(code, reason.slice(0, 120));
    this.onClosed(this);
  }

  private flush(): void {
    if (this.pending && this.inFlight.length < this.maxInFlight) {
      const unit = this.pending;
      this.pending = undefined;
      this.transmit(unit);
    }
  }

  private transmit(unit: EncodedUnit<BinaryUnit>): void {
    const { compression, level } = unit.data;
    const key = `${compression}/${level}`;
    if (key !== this.announced) {
      // Announced before the first packet and whenever it changes, so a decoder is never guessing.
      this.announced = key;
      this.sendJson({ type: 'compression', algorithm: compression, level });
    }
    this.inFlight.push(unit.frameNumber);
    this.socket.send(unit.data.packet, { binary: true });
    this.framesSent++;
  }
}
