import { ValidateIf } from 'class-validator';
import {
  ConfigError,
  IntegerIn,
  OneOf,
  startFrameRecording,
  validateInto,
  type RecordingContext,
  type RecordingFormat,
  type RecordingSink,
} from '../index.js';
import { ZARR_COMPRESSORS, chunkCompressor, type ZarrCompressorName } from './chunk-compressor.js';
import { OmeZarrWriter } from './ome-zarr-writer.js';

/** Default zstd level of OME-Zarr recordings. */
export const DEFAULT_ZSTD_LEVEL = 1;

/** Params of an `ome-zarr` recording. */
export class OmeZarrParams {
  /**
   * Chunk compressor (default `zstd`: numcodecs Zstd, about a quarter smaller on 12-bit camera
   * data at a thread-pool core per 100-300 MB/s; `lz4`: numcodecs LZ4, cheap, but it only
   * shrinks images with flat areas, as without a byte shuffle it finds few matches in noisy
   * 16-bit data; `none`: the one that keeps up with a 2048x2048 uint16 camera at 30 fps on a
   * 2-core machine). Compression runs in libuv's thread pool.
   */
  @OneOf(ZARR_COMPRESSORS)
  compressor: ZarrCompressorName = 'zstd';

  /** zstd level 1..19 (default 1); only with `compressor: zstd`. */
  @ValidateIf((p: OmeZarrParams) => p.level !== undefined)
  @IntegerIn(1, 19)
  level?: number;
}

/** Checks a request's params for `ome-zarr`; throws ConfigError (HTTP 400) naming `params.<key>`. */
export function parseOmeZarrParams(raw: unknown): OmeZarrParams {
  const params = validateInto(OmeZarrParams, raw, 'params');
  if (params.level !== undefined && params.compressor !== 'zstd') {
    throw new ConfigError([
      `params.level: only the zstd compressor has a level (compressor is ${params.compressor})`,
    ]);
  }
  return params;
}

/** Raw frames as OME-NGFF 0.4 on Zarr v2: a folder, one compressed chunk per frame. */
export class OmeZarrFormat implements RecordingFormat {
  readonly name = 'ome-zarr';
  readonly description =
    'OME-Zarr (OME-NGFF 0.4, Zarr v2): every frame lossless at full bit depth, one compressed chunk per frame';
  readonly extension = '.ome.zarr';
  readonly directory = true;
  readonly mimeType = 'application/zip';

  async start(context: RecordingContext): Promise<RecordingSink> {
    const params = parseOmeZarrParams(context.params);
    return startFrameRecording(context, 'OME-Zarr', () =>
      OmeZarrWriter.create(context.path, {
        name: context.detectorName,
        pixelSizeUm: context.pixelSizeUm,
        compressor: chunkCompressor(params.compressor, params.level ?? DEFAULT_ZSTD_LEVEL),
      }),
    );
  }
}
