/**
 * Zstandard frame header surgery, without I/O. The zstd binding compresses in libuv's thread pool
 * but leaves the content size out of the frame header, and numcodecs (what zarr-python decodes
 * chunks with) refuses frames without it. The size is a header field only: declaring it takes a
 * new header in front of the unchanged blocks, with no recompression and no copy of the data.
 */

/** The 4 bytes every zstd frame starts with. */
export const ZSTD_MAGIC = 0xfd2fb528;

const DICT_ID_BYTES = [0, 1, 2, 4];

/**
 * The frame as parts to write one after the other, declaring `contentSize` bytes of content: the
 * frame itself when its header already declares a size, else a new header and the rest.
 */
export function withContentSize(frame: Uint8Array, contentSize: number): Uint8Array[] {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.byteLength < 6 || view.getUint32(0, true) !== ZSTD_MAGIC) {
    throw new Error('not a zstd frame');
  }
  const descriptor = frame[4];
  const fcsFlag = descriptor >> 6;
  const singleSegment = (descriptor >> 5) & 1;
  // A single-segment frame always carries its size; so does any frame with a size flag.
  if (fcsFlag !== 0 || singleSegment) return [frame];
  const dictBytes = DICT_ID_BYTES[descriptor & 3];
  const oldHeader = 5 + 1 + dictBytes; // magic, descriptor, window descriptor, dictionary id
  const big = contentSize >= 2 ** 32;
  const fcsBytes = big ? 8 : 4;
  const header = new Uint8Array(oldHeader + fcsBytes);
  header.set(frame.subarray(0, oldHeader));
  // Frame_Content_Size_flag 2 = 4 bytes, 3 = 8 bytes.
  header[4] = (descriptor & 0x3f) | ((big ? 3 : 2) << 6);
  const out = new DataView(header.buffer);
  if (big) out.setBigUint64(oldHeader, BigInt(contentSize), true);
  else out.setUint32(oldHeader, contentSize, true);
  return [header, frame.subarray(oldHeader)];
}
