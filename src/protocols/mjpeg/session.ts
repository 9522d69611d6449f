import type { ServerResponse } from 'node:http';
import { BaseSession, remoteOf, type EncodedUnit } from '../../index.js';
import {
  PART_TRAILER,
  aheadEnd,
  aheadStart,
  aheadTrailer,
  streamEnd,
  type MjpegFraming,
} from './multipart.js';

const AHEAD_START = aheadStart();
const AHEAD_TRAILER = aheadTrailer();
const AHEAD_END = aheadEnd();

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
 * stops reading costs nothing and slows no one. The framing (see MjpegFraming) is the client's;
 * the JPEG bytes are the stream's, shared.
 */
export class MjpegSession extends BaseSession<MjpegPart> {
  constructor(
    private readonly res: ServerResponse,
    onClosed: (session: BaseSession<MjpegPart>) => void,
    private readonly framing: MjpegFraming = 'headers',
  ) {
    super('mjpeg', remoteOf(res.socket), onClosed);
    res.socket?.setNoDelay(true);
    if (framing === 'ahead') {
      res.write(AHEAD_START);
      this.bytesSent += AHEAD_START.length;
    }
    res.on('close', () => this.close());
    res.on('error', () => this.close());
  }

  protected deliver(unit: EncodedUnit<MjpegPart>): void {
    if (this.res.writableNeedDrain) {
      this.framesSkipped++;
      return;
    }
    this.res.cork();
    if (this.framing === 'ahead') {
      this.res.write(unit.data.jpeg);
      this.res.write(AHEAD_TRAILER);
      this.bytesSent += unit.data.jpeg.length + AHEAD_TRAILER.length;
    } else {
      this.res.write(unit.data.head);
      this.res.write(unit.data.jpeg);
      this.res.write(PART_TRAILER);
      this.bytesSent += unit.data.head.length + unit.data.jpeg.length + PART_TRAILER.length;
    }
    this.res.uncork();
    this.framesSent++;
  }

  protected release(): void {
    if (!this.res.writableEnded && !this.res.destroyed)
      this.res.end(this.framing === 'ahead' ? AHEAD_END : streamEnd());
  }
}
