import { IntegerIn, StreamParams } from '../../index.js';

/** Params of an MJPEG stream. */
export class MjpegParams extends StreamParams {
  /** Minimum milliseconds between two frames (default 50, 20 fps). */
  @IntegerIn(0, 60000)
  override throttle_ms = 50;

  /** JPEG quality 1..100 (default 80). */
  @IntegerIn(1, 100)
  jpeg_quality = 80;
}
