/** Boundary between the parts of the MJPEG stream. */
export const MJPEG_BOUNDARY = 'liveviewframe';

/** Content-Type of the MJPEG stream response. */
export const MJPEG_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`;

/** Extra headers written into each part (frame number, capture time…). */
export type PartHeaders = Record<string, string | number>;

/**
 * Builds the bytes that precede one JPEG in a multipart/x-mixed-replace stream: the boundary
 * line, the part headers and the blank line. The part ends with CRLF (see PART_TRAILER).
 */
export function partHeader(
  contentLength: number,
  extra: PartHeaders = {},
  boundary = MJPEG_BOUNDARY,
): Buffer {
  let head = `--${boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: ${contentLength}\r\n`;
  for (const [name, value] of Object.entries(extra)) head += `${name}: ${value}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

/** Bytes after each part's body. */
export const PART_TRAILER = Buffer.from('\r\n', 'latin1');

/** Bytes that end the whole stream (closing boundary). */
export function streamEnd(boundary = MJPEG_BOUNDARY): Buffer {
  return Buffer.from(`--${boundary}--\r\n`, 'latin1');
}

/**
 * How a client's parts are framed. `headers` (programs): each part carries its own headers
 * (Content-Length, frame number, capture time). `ahead` (a browser's `<img>`): right after each
 * JPEG come the closing delimiter and the next part's (frame-independent) headers, because a
 * browser shows a part only once the next part's headers are parsed; waiting for the next frame
 * to send them would hold every picture back one frame interval.
 */
export type MjpegFraming = 'headers' | 'ahead';

/** The `ahead` framing's part headers, sent before the frame they head exists. */
function aheadHead(boundary: string): string {
  return `--${boundary}\r\nContent-Type: image/jpeg\r\n\r\n`;
}

/** What an `ahead` stream starts with: the first part's headers. */
export function aheadStart(boundary = MJPEG_BOUNDARY): Buffer {
  return Buffer.from(aheadHead(boundary), 'latin1');
}

/** What follows each JPEG of an `ahead` stream: its delimiter and the next part's headers. */
export function aheadTrailer(boundary = MJPEG_BOUNDARY): Buffer {
  return Buffer.from(`\r\n${aheadHead(boundary)}`, 'latin1');
}

/** What ends an `ahead` stream (the part opened last stays empty). */
export function aheadEnd(boundary = MJPEG_BOUNDARY): Buffer {
  return Buffer.from(`\r\n--${boundary}--\r\n`, 'latin1');
}

/**
 * The framing a request gets: `ahead` for a browser's image loader (`Sec-Fetch-Dest: image`,
 * which never reads part headers), else `headers`; `framing=headers|ahead` in the query wins.
 */
export function framingOf(secFetchDest: string | undefined, asked?: MjpegFraming): MjpegFraming {
  if (asked) return asked;
  return secFetchDest === 'image' ? 'ahead' : 'headers';
}
