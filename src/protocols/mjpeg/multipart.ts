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
