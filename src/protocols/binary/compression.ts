import { Encoder } from '@toondepauw/node-zstd';
import { compressFrame } from 'lz4-napi';
import type { Compression } from './packet.js';

const zstdEncoders = new Map<number, Encoder>();

/**
 * Compresses a payload off the main thread (both libraries run in libuv's pool): LZ4 in the LZ4
 * frame format (lz4_flex via lz4-napi), Zstandard via libzstd (@toondepauw/node-zstd).
 */
export async function compressPayload(
  bytes: Buffer,
  compression: Compression,
  level: number,
): Promise<Buffer> {
  switch (compression) {
    case 'none':
      return bytes;
    case 'lz4':
      return compressFrame(bytes);
    case 'zstd': {
      let encoder = zstdEncoders.get(level);
      if (!encoder) {
        encoder = new Encoder(level);
        zstdEncoders.set(level, encoder);
      }
      return encoder.encode(bytes);
    }
  }
}
