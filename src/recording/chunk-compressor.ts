import { Encoder } from '@toondepauw/node-zstd';
import { compress as lz4 } from 'lz4-napi';
import { withContentSize } from './zstd-frame.js';

/** Compressors an OME-Zarr recording may use. */
export const ZARR_COMPRESSORS = ['zstd', 'lz4', 'none'] as const;
/** A compressor name. */
export type ZarrCompressorName = (typeof ZARR_COMPRESSORS)[number];

/** Compresses chunks in libuv's thread pool, in a format numcodecs reads. */
export interface ChunkCompressor {
  /** The `.zarray` `compressor` entry (numcodecs' codec config), null for none. */
  readonly config: Record<string, unknown> | null;
  /** The compressed chunk as parts to write one after the other. */
  compress(data: Buffer): Promise<Uint8Array[]>;
}

/**
 * The compressor called `name`: `zstd` (numcodecs Zstd, at `level`), `lz4` (numcodecs LZ4: an
 * LZ4 block after its 4-byte little-endian size, exactly what lz4-napi makes) or `none`.
 */
export function chunkCompressor(name: ZarrCompressorName, level = 1): ChunkCompressor {
  switch (name) {
    case 'zstd':
      return {
        config: { id: 'zstd', level },
        // An encoder per chunk: the binding does not say it may compress two chunks at once.
        compress: async (data) =>
          withContentSize(await new Encoder(level).encode(data), data.length),
      };
    case 'lz4':
      return {
        config: { id: 'lz4', acceleration: 1 },
        compress: async (data) => [await lz4(data)],
      };
    case 'none':
      return { config: null, compress: async (data) => [data] };
  }
}
