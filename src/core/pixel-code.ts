/**
 * Pixel code: the frame number and capture time of a frame, drawn into its top-left pixels as
 * black/white blocks, so that a client that only sees the displayed image (MJPEG, a video frame
 * drawn into a canvas, an 8-bit normalized image) can measure latency and frame order.
 *
 * This module has no imports and uses no Node APIs: it is served to browsers as-is.
 *
 * Layout (all geometry is proportional to the image width, so the code survives decimation and
 * resampling; the decoder recomputes it from the width it is given):
 *
 *   - block side s = width / 40 px (real-valued); block (col k, row r) covers
 *     x in [k*s, (k+1)*s), y in [r*s, (r+1)*s); a pixel belongs to the block containing its centre.
 *   - 3 rows of 36 blocks, so the code covers x < 36*s (0.9 * width, leaving a margin on the
 *     right) and the top pixelCodeHeight(width) = ceil(3*s - 0.5) rows (0.075 * width).
 *   - in every row, cols 0 and 35 are white and cols 1 and 34 are black: reference blocks that give
 *     the threshold (midpoint of the white and black means) and tell whether a code is present.
 *   - cols 2..33 of rows 0, 1, 2 hold data bits 0..31, 32..63, 64..95 (white = 1):
 *       bits  0..31  frame number, unsigned 32 bit, most significant bit first;
 *       bits 32..79  capture time in ms since the Unix epoch, unsigned 48 bit, MSB first;
 *       bits 80..95  CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF) of the 10 bytes above, MSB first.
 *     drawPixelCode truncates the frame number and wraps it modulo 2^32, and floors the timestamp
 *     and wraps it modulo 2^48.
 *
 * The decoder returns null (never a wrong value) unless the white and black reference means differ
 * by at least 40 of 255, every reference block is on its side of the threshold by a quarter of that
 * difference, and the CRC matches; the CRC catches every error of up to 3 bits.
 *
 * The decoder averages the middle 50 % (in x and y) of each block, so ringing and blur at block
 * edges from JPEG or video compression do not matter, and a global threshold survives any
 * monotonic increasing value mapping (min/max stretch, clipping, gamma).
 */

/** Layout constants of the pixel code (see the module comment); exported for tests and renderers. */
export const PIXEL_CODE_LAYOUT = Object.freeze({
  /** The block side is the image width divided by this. */
  blocksPerWidth: 40,
  /** Blocks per row. */
  columns: 36,
  /** Rows of blocks. */
  rows: 3,
  /** Column of the first data block in each row. */
  firstDataColumn: 2,
  /** Data blocks per row. */
  dataColumns: 32,
  /** Columns of the white reference blocks. */
  whiteColumns: Object.freeze([0, 35]) as readonly number[],
  /** Columns of the black reference blocks. */
  blackColumns: Object.freeze([1, 34]) as readonly number[],
  /** Narrowest image the code is drawn into (narrower blocks do not survive compression). */
  minWidth: 64,
});

const { blocksPerWidth: PER_WIDTH, columns: COLS, rows: ROWS } = PIXEL_CODE_LAYOUT;
const { firstDataColumn: DATA_COL, dataColumns: DATA_COLS } = PIXEL_CODE_LAYOUT;
const BITS = ROWS * DATA_COLS;
const MIN_DRAW_WIDTH = PIXEL_CODE_LAYOUT.minWidth;
// Below one pixel per block nothing can be read; narrower images decode to null.
const MIN_DECODE_WIDTH = PER_WIDTH;
// On the 0..255 scale: a weaker difference between the reference means is not a code.
const MIN_CONTRAST = 40;
// Every reference block must lie on its side of the threshold by this fraction of the contrast,
// which rejects natural images that merely happen to be brighter on the left.
const REF_MARGIN = 0.25;
// Caps the samples per block side so decoding stays fast on wide images.
const MAX_SAMPLES_PER_SIDE = 24;
const TWO_POW_32 = 0x1_0000_0000;
const TWO_POW_48 = 0x1_0000_0000_0000;

/** Number of pixel rows the code occupies for an image of this width (so a renderer can avoid drawing over it). */
export function pixelCodeHeight(width: number): number {
  if (!Number.isFinite(width) || width <= 0) {
    throw new RangeError(`pixel code: width must be a positive number, got ${width}`);
  }
  return Math.max(1, Math.ceil((ROWS * width) / PER_WIDTH - 0.5));
}

/** Draws the code into a row-major image buffer (any numeric typed array, `channels` interleaved values per pixel, all channels set), using `black` and `white` as the values. */
export function drawPixelCode(
  data: { [i: number]: number; length: number },
  width: number,
  height: number,
  channels: number,
  frameNumber: number,
  timestampMs: number,
  black: number,
  white: number,
): void {
  checkImage(data, width, height, channels);
  if (width < MIN_DRAW_WIDTH) {
    throw new RangeError(
      `pixel code: image must be at least ${MIN_DRAW_WIDTH} px wide, got ${width}`,
    );
  }
  const codeHeight = pixelCodeHeight(width);
  if (height < codeHeight) {
    throw new RangeError(
      `pixel code: an image ${width} px wide must be at least ${codeHeight} px high, got ${height}`,
    );
  }
  if (!Number.isFinite(frameNumber) || !Number.isFinite(timestampMs)) {
    throw new RangeError(
      `pixel code: frame number and timestamp must be finite, got ${frameNumber} and ${timestampMs}`,
    );
  }
  const bits = encodeBits(frameNumber, timestampMs);
  const s = width / PER_WIDTH;
  const stride = width * channels;
  const copyWithin = (data as { copyWithin?: unknown }).copyWithin;
  for (let r = 0; r < ROWS; r++) {
    const y0 = edge(r, s);
    const y1 = Math.min(edge(r + 1, s), height);
    if (y1 <= y0) continue;
    // Paint the first pixel row of this block row, then replicate it to the others.
    const rowStart = y0 * stride;
    for (let k = 0; k < COLS; k++) {
      const value = blockIsWhite(bits, r, k) ? white : black;
      const end = rowStart + edge(k + 1, s) * channels;
      for (let i = rowStart + edge(k, s) * channels; i < end; i++) data[i] = value;
    }
    const len = edge(COLS, s) * channels;
    for (let y = y0 + 1; y < y1; y++) {
      if (typeof copyWithin === 'function') {
        copyWithin.call(data, y * stride, rowStart, rowStart + len);
      } else {
        for (let i = 0; i < len; i++) data[y * stride + i] = data[rowStart + i];
      }
    }
  }
}

/** Reads the code back from an 8-bit image (channels 1, 3 or 4: gray, RGB, RGBA; for colour the mean of R,G,B is used). Returns null if there is no valid code. */
export function decodePixelCode(
  data: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
): { frameNumber: number; timestampMs: number } | null {
  checkImage(data, width, height, channels);
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new RangeError(`pixel code: channels must be 1, 3 or 4, got ${channels}`);
  }
  if (width < MIN_DECODE_WIDTH || height < pixelCodeHeight(width)) return null;
  const s = width / PER_WIDTH;
  const means = new Float64Array(ROWS * COLS);
  for (let r = 0; r < ROWS; r++) {
    for (let k = 0; k < COLS; k++) {
      means[r * COLS + k] = blockMean(data, width, height, channels, s, k, r);
    }
  }

  let whiteSum = 0;
  let blackSum = 0;
  for (let r = 0; r < ROWS; r++) {
    for (const k of PIXEL_CODE_LAYOUT.whiteColumns) whiteSum += means[r * COLS + k];
    for (const k of PIXEL_CODE_LAYOUT.blackColumns) blackSum += means[r * COLS + k];
  }
  const whiteMean = whiteSum / (ROWS * PIXEL_CODE_LAYOUT.whiteColumns.length);
  const blackMean = blackSum / (ROWS * PIXEL_CODE_LAYOUT.blackColumns.length);
  const contrast = whiteMean - blackMean;
  if (!(contrast >= MIN_CONTRAST)) return null;
  const threshold = (whiteMean + blackMean) / 2;
  const margin = REF_MARGIN * contrast;
  for (let r = 0; r < ROWS; r++) {
    for (const k of PIXEL_CODE_LAYOUT.whiteColumns) {
      if (means[r * COLS + k] < threshold + margin) return null;
    }
    for (const k of PIXEL_CODE_LAYOUT.blackColumns) {
      if (means[r * COLS + k] > threshold - margin) return null;
    }
  }

  const bits = new Uint8Array(BITS);
  for (let i = 0; i < BITS; i++) {
    const r = Math.floor(i / DATA_COLS);
    const k = DATA_COL + (i % DATA_COLS);
    bits[i] = means[r * COLS + k] > threshold ? 1 : 0;
  }
  const bytes = bitsToBytes(bits);
  if (crc16(bytes, 10) !== (bytes[10] << 8) + bytes[11]) return null;
  const frameNumber = ((bytes[0] << 24) >>> 0) + (bytes[1] << 16) + (bytes[2] << 8) + bytes[3];
  const high = (bytes[4] << 8) + bytes[5];
  const low = ((bytes[6] << 24) >>> 0) + (bytes[7] << 16) + (bytes[8] << 8) + bytes[9];
  return { frameNumber, timestampMs: high * TWO_POW_32 + low };
}

function checkImage(
  data: { length: number },
  width: number,
  height: number,
  channels: number,
): void {
  if (!Number.isInteger(width) || width < 1 || !Number.isInteger(height) || height < 1) {
    throw new RangeError(`pixel code: invalid image size ${width}x${height}`);
  }
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`pixel code: channels must be a positive integer, got ${channels}`);
  }
  const needed = width * height * channels;
  if (data.length < needed) {
    throw new RangeError(
      `pixel code: image data has ${data.length} values, ${width}x${height}x${channels} needs ${needed}`,
    );
  }
}

/** First pixel index whose centre lies at or beyond block boundary `k * s`. */
function edge(k: number, s: number): number {
  return Math.max(0, Math.ceil(k * s - 0.5));
}

function blockIsWhite(bits: Uint8Array, r: number, k: number): boolean {
  if (PIXEL_CODE_LAYOUT.whiteColumns.includes(k)) return true;
  if (PIXEL_CODE_LAYOUT.blackColumns.includes(k)) return false;
  return bits[r * DATA_COLS + (k - DATA_COL)] === 1;
}

function encodeBits(frameNumber: number, timestampMs: number): Uint8Array {
  const fn = Math.trunc(frameNumber) % TWO_POW_32;
  const frame = fn < 0 ? fn + TWO_POW_32 : fn;
  const t = Math.floor(timestampMs) % TWO_POW_48;
  const ts = t < 0 ? t + TWO_POW_48 : t;
  const high = Math.floor(ts / TWO_POW_32);
  const low = ts - high * TWO_POW_32;
  const bytes = new Uint8Array(12);
  bytes[0] = Math.floor(frame / 0x100_0000);
  bytes[1] = (frame >>> 16) & 0xff;
  bytes[2] = (frame >>> 8) & 0xff;
  bytes[3] = frame & 0xff;
  bytes[4] = high >>> 8;
  bytes[5] = high & 0xff;
  bytes[6] = Math.floor(low / 0x100_0000);
  bytes[7] = (low >>> 16) & 0xff;
  bytes[8] = (low >>> 8) & 0xff;
  bytes[9] = low & 0xff;
  const crc = crc16(bytes, 10);
  bytes[10] = crc >>> 8;
  bytes[11] = crc & 0xff;
  const bits = new Uint8Array(BITS);
  for (let i = 0; i < BITS; i++) bits[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1;
  return bits;
}

function bitsToBytes(bits: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(BITS / 8);
  for (let i = 0; i < BITS; i++) bytes[i >> 3] |= bits[i] << (7 - (i & 7));
  return bytes;
}

/** CRC-16/CCITT-FALSE; the non-zero init keeps an all-black code from passing. */
function crc16(bytes: Uint8Array, length: number): number {
  let crc = 0xffff;
  for (let i = 0; i < length; i++) {
    crc ^= bytes[i] << 8;
    for (let b = 0; b < 8; b++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Mean gray level of the middle 50 % of block (k, r); colour images use the mean of R, G, B. */
function blockMean(
  data: ArrayLike<number>,
  width: number,
  height: number,
  channels: number,
  s: number,
  k: number,
  r: number,
): number {
  const [x0, x1] = centralRange(k, s, width);
  const [y0, y1] = centralRange(r, s, height);
  const stepX = Math.ceil((x1 - x0 + 1) / MAX_SAMPLES_PER_SIDE);
  const stepY = Math.ceil((y1 - y0 + 1) / MAX_SAMPLES_PER_SIDE);
  let sum = 0;
  let n = 0;
  for (let y = y0; y <= y1; y += stepY) {
    for (let x = x0; x <= x1; x += stepX) {
      const i = (y * width + x) * channels;
      sum += channels === 1 ? data[i] : (data[i] + data[i + 1] + data[i + 2]) / 3;
      n++;
    }
  }
  return sum / n;
}

/** Inclusive pixel range whose centres lie in the middle half of block `k`; at least one pixel. */
function centralRange(k: number, s: number, size: number): [number, number] {
  let a = Math.ceil(k * s + s / 4 - 0.5);
  let b = Math.floor(k * s + (3 * s) / 4 - 0.5);
  if (b < a) a = b = Math.floor(k * s + s / 2);
  return [Math.min(Math.max(a, 0), size - 1), Math.min(Math.max(b, 0), size - 1)];
}
