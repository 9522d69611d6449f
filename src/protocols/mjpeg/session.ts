import type { ServerResponse } from 'node:http';
import { BaseSession, remoteOf, type EncodedUnit } from '../../index.js';
import { PART_TRAILER, streamEnd } from './multipart.js';

/** What an MJPEG worker encodes once per frame: the part header and the JPEG, shared by all clients. */
export interface MjpegPart {
  /** Boundary line and part headers. */
  head: Buffer;
  /** The JPEG bytes. */
  jpeg: Buffer;
}

/**
 * One MJPEG viewer: writes each part to its HTTP response unless the previous part is still
 * waiting in the socket, in which case the frame is skipped (never buffered) so a client that
 * stops reading costs nothing and slows no one.
 */
export class MjpegSession extends BaseSession<MjpegPart> {
  constructor(
    private readonly res: ServerResponse,
    onClosed: (session: BaseSession<MjpegPart>) => void,
  ) {
    super('mjpeg', remoteOf(res.socket), onClosed);
    res.socket?.setNoDelay(true);
    res.on('close', () => this.close());
    res.on('error', () => this.close());
  }

  protected deliver(unit: EncodedUnit<MjpegPart>): void {
    if (this.res.writableNeedDrain) {
      this.framesSkipped++;
      return;
    }
    this.res.cork();
    this.res.write(unit.data.head);
    this.res.write(unit.data.jpeg);
    this.res.write(PART_TRAILER);
    this.res.uncork();
    this.bytesSent += unit.data.head.length + unit.data.jpeg.length + PART_TRAILER.length;
    this.framesSent++;
  }

  protected release(): void {
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end(streamEnd());
  }
}
