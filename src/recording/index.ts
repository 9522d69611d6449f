import { ContainerModule, PLUGIN_API_VERSION, RecordingFormat, definePlugin } from '../index.js';
import { OmeTiffFormat } from './ome-tiff-format.js';
import { OmeZarrFormat } from './ome-zarr-format.js';

export { OmeTiffFormat, OmeTiffParams, parseOmeTiffParams } from './ome-tiff-format.js';
export { OmeZarrFormat, OmeZarrParams, parseOmeZarrParams } from './ome-zarr-format.js';
export { OmeTiffWriter, type OmeTiffOptions, type BigTiffMode } from './ome-tiff-writer.js';
export { OmeZarrWriter, type OmeZarrOptions } from './ome-zarr-writer.js';
export { chunkCompressor, ZARR_COMPRESSORS, type ZarrCompressorName } from './chunk-compressor.js';
export { zipDirectory, type ZipDownload, type ZipDirectoryOptions } from './zip-directory.js';

/** Binds the raw-frame recording formats (`ome-tiff`, `ome-zarr`) under RecordingFormat. */
export const recordingFormatsModule = new ContainerModule(({ bind }) => {
  bind(RecordingFormat).toConstantValue(new OmeTiffFormat());
  bind(RecordingFormat).toConstantValue(new OmeZarrFormat());
});

/** The built-in plugin of the raw-frame recording formats, loaded like any other plugin. */
export default definePlugin({
  name: 'recording',
  apiVersion: PLUGIN_API_VERSION,
  module: recordingFormatsModule,
});
