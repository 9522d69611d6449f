import { ContainerModule, PLUGIN_API_VERSION, Protocol, definePlugin } from '../../index.js';
import { WebrtcProtocol } from './protocol.js';

export { WebrtcProtocol } from './protocol.js';
export { WebrtcParams, VIDEO_CODECS, type VideoCodec } from './params.js';
export { WebrtcWorker, type WebrtcSession } from './worker.js';
export { liveEncoders } from './video-encoder.js';
export {
  VideoSink,
  DEFAULT_SINK_CAPACITY,
  type VideoAccessUnit,
  type VideoSinkHooks,
  type VideoSinkOptions,
} from './video-sink.js';
export {
  EncodedVideoFormat,
  MP4_FORMAT,
  WEBM_FORMAT,
  webrtcRecordingFormats,
  type VideoFormatSpec,
} from './recording/formats.js';
export { VideoRecordingParams } from './recording/params.js';

/** The built-in WebRTC protocol plugin. */
export default definePlugin({
  name: 'webrtc',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    bind(WebrtcProtocol).toSelf().inSingletonScope();
    bind(Protocol).toService(WebrtcProtocol);
  }),
});
