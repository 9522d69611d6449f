import type { ServerResponse } from 'node:http';
import type { EncodedUnit, StreamSession } from '../../index.js';
import { PART_TRAILER, streamEnd } from './multipart.js';

/** What an MJPEG worker encodes once per frame: the part header and the JPEG, shared by all clients. */
export interface MjpegPart {
  /** Boundary line and part headers. */
  head: Buffer;
  /** The JPEG bytes. */
  jpeg: Buffer;
}

let nextId = 1;

/**
 * One MJPEG viewer: writes each part to its HTTP response unless the previous part is still
 * waiting in the socket, in which case the frame is skipped (never buffered) so a client that
 * stops reading costs nothing and slows no one.
 */
export class MjpegSession implements StreamSession<MjpegPart> {
  readonly id = `mjpeg-${nextId++}`;
  readonly remote: string;
  framesSent = 0;
  framesSkipped = 0;
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly onClosed: (session: MjpegSession) => void,
  ) {
    const socket = res.socket;
    this.remote = socket ? `${socket.remoteAddress}:${socket.remotePort}` : 'unknown';
    socket?.setNoDelay(true);
    res.on('close', () => this.close());
    res.on('error', () => this.close());
  }

  send(unit: EncodedUnit<MjpegPart>): void {
    if (this.closed) return;
    if (this.res.writableNeedDrain) {
      this.framesSkipped++;
      return;
    }
    this.res.cork();
    this.res.write(unit.data.head);
    this.res.write(unit.data.jpeg);
    this.res.write(PART_TRAILER);
    this.res.uncork();
    this.framesSent++;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end(streamEnd());
    this.onClosed(this);
  }
}
