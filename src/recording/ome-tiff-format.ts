import {
  OneOf,
  startFrameRecording,
  validateInto,
  type RecordingContext,
  type RecordingFormat,
  type RecordingSink,
} from '../index.js';
import { OmeTiffWriter, type BigTiffMode } from './ome-tiff-writer.js';

/** Params of an `ome-tiff` recording. */
export class OmeTiffParams {
  /**
   * When the file is a BigTIFF (default `auto`: a classic TIFF, which most readers open, that
   * becomes a BigTIFF in place once it would pass 4 GiB; `always`: a BigTIFF from the start).
   */
  @OneOf(['auto', 'always'])
  bigtiff: BigTiffMode = 'auto';
}

/** Checks a request's params for `ome-tiff`; throws ConfigError (HTTP 400) naming `params.<key>`. */
export function parseOmeTiffParams(raw: unknown): OmeTiffParams {
  return validateInto(OmeTiffParams, raw, 'params');
}

/** Raw frames as OME-TIFF: one uncompressed page per frame at full bit depth, OME-XML at the end. */
export class OmeTiffFormat implements RecordingFormat {
  readonly name = 'ome-tiff';
  readonly description =
    'OME-TIFF: every frame lossless at full bit depth, one page per frame, BigTIFF past 4 GiB';
  readonly extension = '.ome.tif';
  readonly directory = false;
  readonly mimeType = 'image/tiff';

  async start(context: RecordingContext): Promise<RecordingSink> {
    const params = parseOmeTiffParams(context.params);
    return startFrameRecording(context, 'OME-TIFF', () =>
      OmeTiffWriter.create(context.path, {
        name: context.detectorName,
        pixelSizeUm: context.pixelSizeUm,
        bigtiff: params.bigtiff,
      }),
    );
  }
}
