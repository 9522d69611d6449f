import { ContainerModule, PLUGIN_API_VERSION, Protocol, definePlugin } from '../../index.js';
import { MjpegProtocol } from './protocol.js';

/** The built-in MJPEG protocol plugin. */
export default definePlugin({
  name: 'mjpeg',
  apiVersion: PLUGIN_API_VERSION,
  module: new ContainerModule(({ bind }) => {
    bind(MjpegProtocol).toSelf().inSingletonScope();
    bind(Protocol).toService(MjpegProtocol);
  }),
});
