// Browser decoder for liveview's binary protocol, bundled by esbuild into /lib/uc2f-decoder.js
// with the maintained decompressors it needs (lz4js for the LZ4 frame format, fzstd for
// Zstandard). Works in Node too.
import lz4 from 'lz4js';
import { decompress as zstdDecompress } from 'fzstd';
import { parsePacket, pixelsOf, dtypeOfPixelFormat } from '../../src/protocols/binary/packet.ts';

export { parsePacket, pixelsOf, dtypeOfPixelFormat };

/**
 * Decodes one UC2F packet (ArrayBuffer or Uint8Array). `compression` is the last announced one
 * and is used when the packet has no trailer. Returns the header fields, the frame number and
 * the pixels as a typed array (Uint16Array for 16-bit frames).
 */
export function decodeUC2F(data, compression = 'none') {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  const packet = parsePacket(bytes);
  const algorithm = packet.compression ?? compression;
  let raw;
  if (algorithm === 'lz4') raw = new Uint8Array(lz4.decompress(packet.payload));
  else if (algorithm === 'zstd') raw = zstdDecompress(packet.payload);
  else raw = packet.payload;
  const { dtype } = dtypeOfPixelFormat(packet.pixelFormat);
  return { ...packet, dtype, algorithm, pixels: pixelsOf(packet, raw) };
}
